/**
 * `query`: read-only SQL over the live warehouse. Exactly one statement, prepared, whose type is SELECT; COPY,
 * ATTACH, EXPORT, SET, PRAGMA, CALL, CREATE and the like are refused with a clear message, and so is a SELECT that
 * reaches outside the warehouse (read_csv, glob, a file path as a table). QUERY_TIMEOUT_MS interrupts it.
 */
import { StatementType, type DuckDBConnection } from '@duckdb/node-api';
import { ErrorCodes, QueryRefusedError, SyncError } from '../errors.js';
import { rowsOf, type Row } from '../warehouse/rows.js';
import type { Warehouse } from '../warehouse/warehouse.js';

export interface QueryResult {
  columns: string[];
  rows: Row[];
}

/** Beyond this, a query belongs on the published export (Parquet), not through a command's answer. */
export const MAX_ROWS = 200_000;

const READING_KEYWORDS = ['SELECT', 'WITH', 'FROM', 'VALUES', 'TABLE', 'DESCRIBE', 'SHOW', 'SUMMARIZE', '('];
/**
 * Table functions that read files, other databases or run SQL of their own. The warehouse's DuckDB cannot reach
 * files outside its own anyway (lockDown in warehouse/duckdb.ts); this names the attempt in the refusal.
 */
const OUTSIDE_FUNCTIONS = /^(read_|parquet_|glob$|query$|query_table$|json_execute_serialized_sql$|sniff_csv$|iceberg_|delta_|sqlite_|postgres_|mysql_|st_read|duckdb_secrets$|load_)/i;

export async function runReadOnlyQuery(db: Warehouse, sql: string, timeoutMs: number): Promise<QueryResult> {
  const connection = await db.connect();
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  try {
    const prepared = await prepareReadOnly(connection, sql);
    timer = setTimeout(() => {
      timedOut = true;
      connection.interrupt();
    }, timeoutMs);
    const reader = await prepared.runAndReadUntil(MAX_ROWS + 1);
    if (reader.currentRowCount > MAX_ROWS) {
      throw new QueryRefusedError(`the result has more than ${MAX_ROWS} rows: narrow the query (WHERE, LIMIT, an aggregate) or read the published export`);
    }
    return { columns: reader.columnNames(), rows: rowsOf(reader) };
  } catch (err) {
    if (timedOut) throw new SyncError(ErrorCodes.QUERY_TIMEOUT, `the query ran longer than QUERY_TIMEOUT_MS=${timeoutMs} and was interrupted`);
    if (err instanceof SyncError) throw err;
    throw new SyncError(ErrorCodes.WAREHOUSE, (err as Error).message.split('\n')[0] ?? 'the query failed');
  } finally {
    clearTimeout(timer);
    connection.closeSync();
  }
}

async function prepareReadOnly(connection: DuckDBConnection, sql: string) {
  const keyword = firstKeyword(sql);
  if (!READING_KEYWORDS.includes(keyword)) throw new QueryRefusedError(`${keyword || 'an empty'} statement refused: query runs one SELECT, nothing that changes or configures anything`);
  const extracted = await connection.extractStatements(sql);
  if (extracted.count !== 1) throw new QueryRefusedError(`${extracted.count} statements refused: query runs exactly one SELECT`);
  // before preparing: binding a file reader already opens the file
  await refuseOutsideAccess(connection, sql);
  const prepared = await extracted.prepare(0);
  if (prepared.statementType !== StatementType.SELECT) {
    throw new QueryRefusedError(`a ${StatementType[prepared.statementType]} statement refused: query runs one SELECT`);
  }
  return prepared;
}

/** The first keyword, past comments and white space. */
function firstKeyword(sql: string): string {
  const text = sql.replace(/^(\s|--[^\n]*\n?|\/\*[\s\S]*?\*\/)*/, '');
  return text.startsWith('(') ? '(' : (/^[A-Za-z_]+/.exec(text)?.[0] ?? '').toUpperCase();
}

/** Walks the parsed query for table functions and table names that would read outside the warehouse. */
async function refuseOutsideAccess(connection: DuckDBConnection, sql: string): Promise<void> {
  const reader = await connection.runAndReadAll('SELECT json_serialize_sql(CAST($sql AS VARCHAR)) AS ast', { sql });
  const ast = JSON.parse(String(reader.getRowObjectsJS()[0]!.ast)) as { error?: boolean };
  if (ast.error) throw new QueryRefusedError('a statement this check cannot read refused: query runs one plain SELECT');
  visit(ast, (node) => {
    // a table function's name sits in a FUNCTION node inside it, like every scalar function's
    if (node.class === 'FUNCTION' && OUTSIDE_FUNCTIONS.test(String(node.function_name))) {
      throw new QueryRefusedError(`${String(node.function_name)}() refused: query reads the warehouse only`);
    }
    if (node.type === 'BASE_TABLE' && /[./\\:*]/.test(String(node.table_name))) {
      throw new QueryRefusedError(`"${String(node.table_name)}" refused: query reads the warehouse's tables and views, not files`);
    }
  });
}

function visit(value: unknown, fn: (node: Record<string, unknown>) => void): void {
  if (Array.isArray(value)) for (const item of value) visit(item, fn);
  else if (value !== null && typeof value === 'object') {
    fn(value as Record<string, unknown>);
    for (const inner of Object.values(value)) visit(inner, fn);
  }
}
