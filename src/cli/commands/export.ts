/** `export`: publish the Parquet files and the read-only snapshot for BI now. */
import { viaWorkerOrLocally } from '../lazy.js';
import type { RunReport } from '../../job-runtime/runner.js';
import type { Command } from '../context.js';

export const exportCommand: Command = {
  name: 'export',
  summary: 'publish Parquet + a read-only DuckDB snapshot for BI now (EXPORT_DIR/current points at the newest)',
  usage: 'export',
  async run(_args, io) {
    const report = await viaWorkerOrLocally<RunReport>(io.config(), io.log(), 'export', {}, { timeoutMs: 30 * 60_000 });
    const path = (report.details as { path?: string } | undefined)?.path ?? '';
    await io.out(`export  ${report.status}  ${report.summary}\n        ${path}`);
  },
};
