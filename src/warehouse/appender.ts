/**
 * Batch writes through DuckDB's Appender (near 1M rows/s here, against ~1k rows/s for single-row INSERTs).
 * Rows are arrays in the table's column order; null appends NULL; Dates become TIMESTAMPTZ.
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

export async function appendRows(connection: DuckDBConnection, table: string, rows: Iterable<Cell[]>): Promise<number> {
  const appender = await connection.createAppender(table);
  try {
    const columns = appender.columnCount;
    const appenders: Append[] = [];
    for (let i = 0; i < columns; i++) {
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
      for (let i = 0; i < columns; i++) {
        const value = row[i];
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
