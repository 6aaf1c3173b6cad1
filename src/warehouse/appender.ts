/**
 * Batch writes through DuckDB's Appender (near 1M rows/s here, against ~1k rows/s for single-row INSERTs).
 * Rows are objects keyed by column name; `columns` lists the table's columns in its order (for a stage table,
 * STAGE_COLUMNS, which the warehouse checks against the table when it opens). null or undefined appends NULL;
 * Dates become TIMESTAMPTZ.
 */
import { DuckDBTypeId, timestampTZValue, type DuckDBAppender, type DuckDBConnection } from '@duckdb/node-api';

export type Cell = string | number | bigint | boolean | Date | null | undefined;

type Append = (appender: DuckDBAppender, value: Exclude<Cell, null | undefined>) => void;

const APPEND_BY_TYPE: Partial<Record<DuckDBTypeId, Append>> = {
  [DuckDBTypeId.VARCHAR]: (a, v) => a.appendVarchar(typeof v === 'string' ? v : String(v)),
  [DuckDBTypeId.BIGINT]: (a, v) => a.appendBigInt(BigInt(v as number | bigint)),
  [DuckDBTypeId.INTEGER]: (a, v) => a.appendInteger(Number(v)),
  [DuckDBTypeId.DOUBLE]: (a, v) => a.appendDouble(Number(v)),
  [DuckDBTypeId.BOOLEAN]: (a, v) => a.appendBoolean(Boolean(v)),
  [DuckDBTypeId.TIMESTAMP_TZ]: (a, v) => a.appendTimestampTZ(timestampTZValue(BigInt((v as Date).getTime()) * 1000n)),
};

export async function appendRows(
  connection: DuckDBConnection,
  table: string,
  columns: readonly string[],
  rows: Iterable<Readonly<Record<string, Cell>>>,
): Promise<number> {
  const appender = await connection.createAppender(table);
  try {
    if (appender.columnCount !== columns.length)
      throw new Error(`appendRows: ${table} has ${appender.columnCount} columns, the rows name ${columns.length}`);
    const appenders: Append[] = [];
    for (let i = 0; i < columns.length; i++) {
      const typeId = appender.columnType(i).typeId;
      const append = APPEND_BY_TYPE[typeId];
      if (!append)
        throw new Error(
          `appendRows: ${table} column ${i} has a type (${DuckDBTypeId[typeId]}) the appender does not handle`,
        );
      appenders.push(append);
    }
    let count = 0;
    for (const row of rows) {
      for (let i = 0; i < columns.length; i++) {
        const value = row[columns[i]!];
        if (value === null || value === undefined) appender.appendNull();
        else appenders[i]!(appender, value);
      }
      appender.endRow();
      count++;
    }
    appender.flushSync();
    return count;
  } finally {
    appender.closeSync();
  }
}
