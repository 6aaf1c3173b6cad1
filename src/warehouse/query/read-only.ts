/**
 * `query`: read-only SQL over the live warehouse. Exactly one statement, prepared, whose type is SELECT; COPY,
 * ATTACH, EXPORT, SET, PRAGMA, CALL, CREATE and the like are refused with a clear message, and so is a SELECT that
 * calls a function outside the allowlist (allowed-functions.ts: no file, settings, logging, checkpoint or parser
 * function, however it is spelled) or names a file as a table.
 *
 * Bounded: QUERY_TIMEOUT_MS interrupts it, and so does growing the worker's memory by more than QUERY_MEMORY_MB
 * (DuckDB acts on an interrupt between vectors); what one function call could build unbounded, which no interrupt
 * reaches, is refused before it runs (a list or string larger than MAX_BUILT). Queries run one at a time, so that
 * the memory one grows is its own; ingestion goes on meanwhile.
 */
import { StatementType, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { ErrorCodes, QueryRefusedError, SyncError, errorMessage } from '../../errors.js';
import type { Row } from '../rows.js';
import { afterLeadingComments } from './sql-text.js';
import { queryRowsOf } from './values.js';
import { AGGREGATES, BUILDERS, SCALARS, TABLE_FUNCTIONS } from './allowed-functions.js';

export interface QueryResult {
  columns: string[];
  rows: Row[];
}

/** Beyond this, a query belongs on the published export (Parquet), not through a command's answer. */
const MAX_ROWS = 200_000;

/** The most values or characters one call of a builder (range(), repeat(), lpad(), ...) may make. */
const MAX_BUILT = 10_000;
/** The most builder calls one query may make (each builds up to MAX_BUILT at once). */
const MAX_BUILDERS = 16;
/** How often a running query's memory is looked at. */
const MEMORY_CHECK_MS = 25;

const ALLOWED_CALLS = new Set([...AGGREGATES, ...SCALARS].map((name) => name.toLowerCase()));
const ALLOWED_TABLE_FUNCTIONS = new Set(TABLE_FUNCTIONS);

export interface QueryLimits {
  timeoutMs: number;
  memoryMb: number;
}

const READING_KEYWORDS = ['SELECT', 'WITH', 'FROM', 'VALUES', 'TABLE', 'DESCRIBE', 'SHOW', 'SUMMARIZE', '('];
let running: Promise<unknown> = Promise.resolve();

/**
 * One query at a time per process: each waits for the one before it (see the header). `connect` gives a
 * connection of its own (Warehouse.query), closed here.
 */
export function runReadOnlyQuery(
  connect: () => Promise<DuckDBConnection>,
  sql: string,
  limits: QueryLimits,
  params?: Record<string, DuckDBValue>,
): Promise<QueryResult> {
  const run = running.then(() => runNow(connect, sql, limits, params));
  running = run.catch(() => undefined);
  return run;
}

async function runNow(
  connect: () => Promise<DuckDBConnection>,
  sql: string,
  limits: QueryLimits,
  params: Record<string, DuckDBValue> | undefined,
): Promise<QueryResult> {
  const connection = await connect();
  let stopped: SyncError | undefined;
  const stop = (why: SyncError): void => {
    stopped ??= why;
    connection.interrupt();
  };
  let timer: NodeJS.Timeout | undefined;
  let watcher: NodeJS.Timeout | undefined;
  try {
    // watched from the start: preparing folds constant expressions, which is work too
    timer = setTimeout(
      () =>
        stop(
          new SyncError(
            ErrorCodes.QUERY_TIMEOUT,
            `the query ran longer than QUERY_TIMEOUT_MS=${limits.timeoutMs} and was interrupted`,
          ),
        ),
      limits.timeoutMs,
    );
    const ceiling = process.memoryUsage.rss() + limits.memoryMb * 1_048_576;
    watcher = setInterval(() => {
      if (process.memoryUsage.rss() > ceiling) {
        stop(
          new SyncError(
            ErrorCodes.QUERY_TIMEOUT,
            `the query grew the worker's memory by more than QUERY_MEMORY_MB=${limits.memoryMb} and was stopped: narrow it (WHERE, LIMIT, an aggregate) or read the published export`,
          ),
        );
      }
    }, MEMORY_CHECK_MS);
    const prepared = await prepareReadOnly(connection, sql);
    if (params !== undefined) prepared.bind(params);
    if (stopped) throw stopped;
    const reader = await prepared.runAndReadUntil(MAX_ROWS + 1);
    if (stopped) throw stopped;
    if (reader.currentRowCount > MAX_ROWS) {
      throw new QueryRefusedError(
        `the result has more than ${MAX_ROWS} rows: narrow the query (WHERE, LIMIT, an aggregate) or read the published export`,
      );
    }
    return { columns: reader.columnNames(), rows: queryRowsOf(reader) };
  } catch (err) {
    if (stopped) throw stopped;
    if (err instanceof SyncError) throw err;
    throw duckdbError(err);
  } finally {
    clearTimeout(timer);
    clearInterval(watcher);
    connection.closeSync();
  }
}

async function prepareReadOnly(connection: DuckDBConnection, sql: string) {
  // parsed first (parsing runs nothing): SQL DuckDB cannot read is a syntax error to show, not a statement to refuse
  const extracted = await connection.extractStatements(sql);
  const keyword = firstKeyword(sql);
  if (!READING_KEYWORDS.includes(keyword))
    throw new QueryRefusedError(
      `${keyword || 'an empty'} statement refused: query runs one SELECT, nothing that changes or configures anything`,
    );
  if (extracted.count !== 1)
    throw new QueryRefusedError(`${extracted.count} statements refused: query runs exactly one SELECT`);
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
  const text = afterLeadingComments(sql);
  return text.startsWith('(') ? '(' : (/^[A-Za-z_]+/.exec(text)?.[0] ?? '').toUpperCase();
}

/** Walks the parsed query: every function called must be allowed, every builder bounded, no table a file. */
async function refuseOutsideAccess(connection: DuckDBConnection, sql: string): Promise<void> {
  const reader = await connection.runAndReadAll('SELECT json_serialize_sql(CAST($sql AS VARCHAR)) AS ast', { sql });
  const ast = JSON.parse(String(reader.getRowObjectsJS()[0]!.ast)) as { error?: boolean };
  if (ast.error) throw new QueryRefusedError('a statement this check cannot read refused: query runs one plain SELECT');
  const tableFunctions = new Set<unknown>();
  let builders = 0;
  visit(ast, (node) => {
    if (node.type === 'TABLE_FUNCTION') {
      const call = node.function as Record<string, unknown> | undefined;
      const name = String(call?.function_name ?? '').toLowerCase();
      if (!ALLOWED_TABLE_FUNCTIONS.has(name))
        throw new QueryRefusedError(
          `${name}() refused: query reads the warehouse's tables and views (and range, unnest and the catalog functions), nothing else`,
        );
      tableFunctions.add(call);
    } else if ((node.class === 'FUNCTION' || node.class === 'WINDOW') && !tableFunctions.has(node)) {
      const name = String(node.function_name).toLowerCase();
      if (!ALLOWED_CALLS.has(name))
        throw new QueryRefusedError(
          `${name}() refused: query calls DuckDB's aggregate, window, math, string, date/time, list, struct, regex and JSON functions, not this one`,
        );
      if (node.class === 'FUNCTION' && isBuilder(name)) {
        if (++builders > MAX_BUILDERS)
          throw new QueryRefusedError(
            `more than ${MAX_BUILDERS} calls of range(), repeat(), lpad(), rpad(), list_resize(), format() or printf() as values refused: each builds a value in one go`,
          );
        checkBuilder(name, (node.children ?? []) as Record<string, unknown>[]);
        // a builder of builders multiplies: repeat(repeat('x', 10000), 10000) is 10^8
        const inner = findBuilder(node.children);
        if (inner)
          throw new QueryRefusedError(
            `${inner}() inside ${name}() refused: values built inside values multiply; build one, or use FROM range(...) as a table`,
          );
      }
    }
    // a lambda runs once per element: a builder in it is built that many times, in one call of the list function
    if (node.class === 'LAMBDA') checkLambda(node);
    if (node.type === 'BASE_TABLE') checkTableName(node);
  });
}

/**
 * A table is one of the warehouse's: a plain name, or main.name. Anything else DuckDB would try as a file
 * ("/tmp/x".csv is the table csv of the schema /tmp/x, package.json the table json of the schema package).
 */
function checkTableName(node: Record<string, unknown>): void {
  const catalog = String(node.catalog_name ?? '');
  const schema = String(node.schema_name ?? '');
  const table = String(node.table_name ?? '');
  const shown = [catalog, schema, table].filter((part) => part !== '').join('.');
  if (
    catalog !== '' ||
    !['', 'main', 'information_schema', 'pg_catalog'].includes(schema.toLowerCase()) ||
    /[./\\:*]/.test(table)
  ) {
    throw new QueryRefusedError(
      `"${shown}" refused: query reads the warehouse's tables and views, not files or other databases`,
    );
  }
}

/**
 * A lambda runs once per element of a list, all in one call of the list function: what it builds is built that many
 * times. So it may not build (no builder inside), nest another lambda, or use a value from outside itself (a long
 * text column copied into each of 10,000 elements is 100 MB a row): only its own parameters and constants.
 */
function checkLambda(node: Record<string, unknown>): void {
  const inner = findBuilder(node.expr);
  if (inner)
    throw new QueryRefusedError(
      `${inner}() inside a lambda refused: it would be built once per element, in one call; use FROM range(...) as a table`,
    );
  const params = new Set<string>();
  visit(node.lhs, (ref) => {
    if (ref.class === 'COLUMN_REF')
      params.add(String((ref.column_names as unknown[] | undefined)?.at(-1)).toLowerCase());
  });
  visit(node.expr, (inside) => {
    if (inside.class === 'LAMBDA')
      throw new QueryRefusedError(
        'a lambda inside a lambda refused: it runs once per element of once per element, in one call',
      );
    if (inside.class === 'COLUMN_REF') {
      const name = String((inside.column_names as unknown[] | undefined)?.at(-1)).toLowerCase();
      if (!params.has(name))
        throw new QueryRefusedError(
          `"${name}" inside a lambda refused: a lambda may use its own parameters and constants only (it runs once per element, in one call)`,
        );
    }
  });
}

function isBuilder(name: string): boolean {
  return name in BUILDERS || name === 'format' || name === 'printf';
}

/** The name of the first builder call anywhere in `subtree`, if any. */
function findBuilder(subtree: unknown): string | undefined {
  let found: string | undefined;
  visit(subtree, (node) => {
    if (found === undefined && node.class === 'FUNCTION' && isBuilder(String(node.function_name).toLowerCase()))
      found = String(node.function_name).toLowerCase();
  });
  return found;
}

/** A builder's size must be a number written in the query, at most MAX_BUILT (allowed-functions.ts). */
function checkBuilder(name: string, args: Record<string, unknown>[]): void {
  const tooLarge = (): QueryRefusedError =>
    new QueryRefusedError(
      `${name}() refused: as a value it may build at most ${MAX_BUILT} values or characters, given as numbers in the query (for more rows, use FROM range(...))`,
    );
  if (name === 'format' || name === 'printf') {
    // a width in the format string ('%0100000000d') builds a string of that size, and so does one given as an
    // argument ('%*d', '{:>{}}'): the pattern must be written in the query, with written widths only
    const pattern = constantOf(args[0]);
    if (
      typeof pattern !== 'string' ||
      /\*|\{[^}]*\{/.test(pattern) ||
      (pattern.match(/\d+/g) ?? []).some((digits) => Number(digits) > MAX_BUILT)
    )
      throw tooLarge();
    return;
  }
  const builder = BUILDERS[name];
  if (!builder) return;
  if (builder.sizeArgument === 'count') {
    const [a, b, step] = args.map(constantOf);
    const bounds = args.length === 1 ? [0, a, 1] : [a, b, step ?? 1];
    if (!bounds.every((v) => typeof v === 'number' && Number.isFinite(v)) || bounds[2] === 0) throw tooLarge();
    const [from, to, by] = bounds as number[];
    if ((to! - from!) / by! > MAX_BUILT) throw tooLarge();
    return;
  }
  const size = constantOf(args[builder.sizeArgument]);
  if (typeof size !== 'number' || size > MAX_BUILT) throw tooLarge();
}

/** The value of a constant in the parsed query (a number or a string), or undefined for anything else. */
function constantOf(node: Record<string, unknown> | undefined): unknown {
  if (node?.class === 'CONSTANT') {
    const value = (node.value as { value?: unknown } | undefined)?.value;
    return typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
  }
  // -5 is parsed as the function "-" of 5
  if (
    node?.class === 'FUNCTION' &&
    node.function_name === '-' &&
    Array.isArray(node.children) &&
    node.children.length === 1
  ) {
    const inner = constantOf(node.children[0] as Record<string, unknown>);
    return typeof inner === 'number' ? -inner : undefined;
  }
  return undefined;
}

/** Visits every object of the parsed query, breadth first: no recursion, however deep a hostile query nests. */
function visit(value: unknown, fn: (node: Record<string, unknown>) => void): void {
  const queue: unknown[] = [value];
  for (let i = 0; i < queue.length; i++) {
    const item = queue[i];
    if (Array.isArray(item)) queue.push(...item);
    else if (item !== null && typeof item === 'object') {
      fn(item as Record<string, unknown>);
      queue.push(...Object.values(item));
    }
  }
}

/** DuckDB's kinds of error that are about the SQL itself (a typo, a missing table or column, a bad cast). */
const SQL_ERROR =
  /^(Parser|Binder|Catalog|Conversion|Invalid Input|Out of Range|Not implemented|Type Mismatch) Error\b/;

/**
 * A DuckDB error as one line: its message with its hints ("Did you mean ...?") kept, and the LINE/caret drawing
 * (which needs a fixed-width terminal) left out. About the SQL: E_QUERY_INVALID; anything else: E_WAREHOUSE.
 */
function duckdbError(err: unknown): SyncError {
  const lines = errorMessage(err)
    .replace(/^Failed to extract statements: /, '') // node-api's wrapping of a parser error
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && line !== '^' && !/^LINE \d+:/.test(line));
  const message = lines.join(' ') || 'the query failed';
  return new SyncError(SQL_ERROR.test(message) ? ErrorCodes.QUERY_INVALID : ErrorCodes.WAREHOUSE, message, {
    cause: err,
  });
}
