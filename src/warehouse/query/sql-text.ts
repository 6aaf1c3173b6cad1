/**
 * Reading SQL text without a parser, for the two questions asked of it before DuckDB sees it: is there any
 * statement at all (`query`'s input), and which keyword opens it (the query door). DuckDB's own rules: `-- ...`
 * runs to the end of the line, `/* ... *\/` may nest, and empty statements (`;`) are skipped. Linear in the text.
 */

/** The SQL past its leading white space, comments and empty statements: '' when nothing else is there. */
export function afterLeadingComments(sql: string): string {
  let i = 0;
  for (;;) {
    while (i < sql.length && (sql[i] === ';' || /\s/.test(sql[i]!))) i++;
    if (sql.startsWith('--', i)) {
      const end = sql.indexOf('\n', i);
      if (end === -1) return '';
      i = end + 1;
    } else if (sql.startsWith('/*', i)) {
      i = afterBlockComment(sql, i);
    } else {
      return sql.slice(i);
    }
  }
}

/** Where the block comment opening at `start` ends, nested ones inside it included (the end of the text if never). */
function afterBlockComment(sql: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < sql.length) {
    if (sql.startsWith('/*', i)) {
      depth++;
      i += 2;
    } else if (sql.startsWith('*/', i)) {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else {
      i++;
    }
  }
  return sql.length;
}
