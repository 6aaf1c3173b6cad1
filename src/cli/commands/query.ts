/**
 * `query "SQL" [--format table|csv|json]`: read-only SQL over the live warehouse, through the running worker (so
 * a reading acknowledged a second ago is visible), or on the file when no worker runs.
 */
import { viaWorkerOrLocally } from '../../control/local.js';
import { UsageError } from '../../errors.js';
import { FORMATS, formatRows, type Format } from '../../format/table.js';
import type { QueryResult } from '../../query/read-only.js';
import { stringOption, type Command } from '../context.js';

export const queryCommand: Command = {
  name: 'query',
  summary: 'read-only SQL (one SELECT) over the live warehouse; BI tools read the published export instead',
  usage: `query "SELECT ..." [--format ${FORMATS.join('|')}]`,
  options: { format: { type: 'string', short: 'f' } },
  async run(args, io) {
    const sql = args.positionals[0];
    if (sql === undefined || args.positionals.length > 1) throw new UsageError('query needs one SQL statement, in quotes');
    const format = (stringOption(args, 'format') ?? 'table') as Format;
    if (!FORMATS.includes(format)) throw new UsageError(`--format ${format}: expected one of ${FORMATS.join(', ')}`);
    const config = io.config();
    const result = await viaWorkerOrLocally<QueryResult>(config, io.log(), 'query', { sql }, { timeoutMs: config.queryTimeoutMs + 30_000 });
    await io.out(formatRows(result.columns, result.rows, format));
  },
};
