/**
 * `query "SQL" [--format table|csv|json]` (or `--file F`, or SQL on stdin): read-only SQL over the live warehouse,
 * through the running worker (so a reading acknowledged a second ago is visible), or on the file when no worker
 * runs. Where the SQL comes from: ../sql-source.ts.
 */
import { viaWorkerOrLocally } from '../lazy.js';
import { UsageError } from '../../errors.js';
import { FORMATS, formatRows, type Format } from '../../format/table.js';
import type { QueryResult } from '../../warehouse/query/read-only.js';
import { stringOption, type Command } from '../context.js';
import { chooseSqlSource, readSql } from '../sql-source.js';

export const queryCommand: Command = {
  name: 'query',
  summary: 'read-only SQL (one SELECT) over the live warehouse; BI tools read the published export instead',
  usage: `query "SELECT ..." [--format ${FORMATS.join('|')}]   (or --file F, or the SQL on stdin: query < F, query -)`,
  options: {
    format: {
      type: 'string',
      short: 'f',
      value: 'FORMAT',
      help: `how to print the rows: ${FORMATS.join(', ')} (default table)`,
    },
    file: {
      type: 'string',
      value: 'FILE',
      help: 'read the SQL from this file (or give it as an argument, or on stdin)',
    },
  },
  async run(args, io) {
    const format = (stringOption(args, 'format') ?? 'table') as Format;
    if (!FORMATS.includes(format)) throw new UsageError(`--format ${format}: expected one of ${FORMATS.join(', ')}`);
    const source = chooseSqlSource(args.positionals, stringOption(args, 'file'), process.stdin.isTTY === true);
    const sql = await readSql(source, process.stdin);
    const config = io.config();
    const result = await viaWorkerOrLocally<QueryResult>(
      config,
      io.log(),
      'query',
      { sql },
      { timeoutMs: config.queryTimeoutMs + 30_000 },
    );
    await io.out(formatRows(result.columns, result.rows, format));
  },
};
