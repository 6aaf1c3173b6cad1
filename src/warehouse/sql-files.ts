/**
 * SQL lives in sql/, one statement per file, loaded by name ("sync/probes-update"). Values are always bound as
 * parameters; the only things ever spliced into SQL text are identifiers and file paths, and only through the
 * quoting helpers below, written as {{name}} in the file.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SQL_DIR } from '../paths.js';

const cache = new Map<string, string>();

/** Splices: `{ table: ident('readings') }` fills {{table}}. */
export type Splices = Record<string, QuotedSql>;

/** A piece of SQL text that went through a quoting helper. */
export class QuotedSql {
  constructor(readonly text: string) {}
}

/** A double-quoted identifier: "my table" -> "my ""table""" style escaping. */
export function ident(name: string): QuotedSql {
  return new QuotedSql(`"${name.replaceAll('"', '""')}"`);
}

/** A single-quoted string literal, for file paths in COPY/ATTACH where DuckDB takes no bound parameter. */
export function literal(value: string): QuotedSql {
  return new QuotedSql(`'${value.replaceAll("'", "''")}'`);
}

export function sqlFile(name: string, splices: Splices = {}): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = readFileSync(join(SQL_DIR, `${name}.sql`), 'utf8');
    cache.set(name, text);
  }
  return text.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    const value = splices[key];
    if (!(value instanceof QuotedSql)) throw new Error(`sql/${name}.sql: {{${key}}} needs a quoted value`);
    return value.text;
  });
}
