/**
 * Where `query` takes its SQL from: exactly one of an argument ("SELECT ..."), `--file F`, or stdin (the argument
 * `-`, or no SQL given while stdin is not a terminal). Files and stdin are read up to MAX_SQL_BYTES; every problem
 * (two sources, none, an empty text, a file that cannot be read, too much text) is a UsageError naming the input and
 * what would be valid.
 */
import { createReadStream } from 'node:fs';
import { UsageError, errorMessage } from '../errors.js';
import { afterLeadingComments } from '../warehouse/query/sql-text.js';

/** The most SQL text read from a file or stdin: one SELECT, however long, is far smaller. */
export const MAX_SQL_BYTES = 1024 * 1024;

export type SqlSource = { from: 'argument'; sql: string } | { from: 'file'; path: string } | { from: 'stdin' };

const HOW = 'give one SELECT in quotes ("SELECT ..."), with --file F, or on stdin';

/** Picks the one place the SQL comes from: positionals and --file as parsed, and whether stdin is a terminal. */
export function chooseSqlSource(positionals: string[], file: string | undefined, stdinIsTTY: boolean): SqlSource {
  if (positionals.length > 1) {
    throw new UsageError(
      `query takes its SQL as one argument, got ${positionals.length}: put the whole SELECT in quotes, or use --file F or stdin`,
    );
  }
  const [argument] = positionals;
  if (argument !== undefined && file !== undefined) {
    const what = argument === '-' ? 'stdin (-)' : 'an SQL argument';
    throw new UsageError(`query takes its SQL from one place, got both ${what} and --file ${file}: ${HOW}`);
  }
  if (file !== undefined) return { from: 'file', path: file };
  if (argument === '-') return { from: 'stdin' };
  if (argument !== undefined) return { from: 'argument', sql: argument };
  if (stdinIsTTY) throw new UsageError(`query needs SQL: ${HOW}`);
  return { from: 'stdin' };
}

/** The SQL text of a source, never empty (a UsageError says where it was empty). */
export async function readSql(
  source: SqlSource,
  stdin: NodeJS.ReadableStream,
  maxBytes = MAX_SQL_BYTES,
): Promise<string> {
  const sql = source.from === 'argument' ? source.sql : await readSqlText(source, stdin, maxBytes);
  if (sql.trim() === '') throw new UsageError(`query got no SQL: ${describeSource(source)} is empty; ${HOW}`);
  if (afterLeadingComments(sql) === '')
    throw new UsageError(`query got no SQL: ${describeSource(source)} holds only comments; ${HOW}`);
  return sql;
}

function describeSource(source: SqlSource): string {
  if (source.from === 'file') return `--file ${source.path}`;
  return source.from === 'stdin' ? 'stdin' : 'the SQL argument';
}

async function readSqlText(
  source: Exclude<SqlSource, { from: 'argument' }>,
  stdin: NodeJS.ReadableStream,
  maxBytes: number,
): Promise<string> {
  const where = describeSource(source);
  let bytes: Buffer | undefined;
  try {
    bytes = await readAtMost(source.from === 'file' ? createReadStream(source.path) : stdin, maxBytes);
  } catch (err) {
    throw new UsageError(`${where}: ${readProblem(err)}`);
  }
  if (bytes === undefined)
    throw new UsageError(`${where}: more than ${maxBytes} bytes of SQL, the most query reads; ${HOW}`);
  // UTF-16 (what some editors save) is no UTF-8, or UTF-8 with a NUL byte after every letter: neither is SQL
  const text = utf8(bytes);
  if (text === undefined || text.includes('\u0000'))
    throw new UsageError(`${where}: not UTF-8 text; save the SQL as UTF-8`);
  // an editor's byte-order mark is no part of the SQL
  return text.replace(/^\uFEFF/, '');
}

function utf8(bytes: Buffer): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/** All of a stream, or undefined once it holds more than maxBytes (reading stops there). */
async function readAtMost(stream: AsyncIterable<Buffer | string>, maxBytes: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += bytes.length;
    if (size > maxBytes) return undefined;
    chunks.push(bytes);
  }
  return Buffer.concat(chunks);
}

const READ_PROBLEMS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a directory, expected a file of SQL',
  ENOTDIR: 'no such file (a part of the path is not a folder)',
};

function readProblem(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return (code !== undefined && READ_PROBLEMS[code]) || `cannot be read (${errorMessage(err)})`;
}
