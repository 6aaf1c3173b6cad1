/**
 * export: publishes the warehouse for BI tools and notebooks: a read-only DuckDB snapshot with the same tables and
 * views, and Parquet per table (readings partitioned by year and month), as a new version in EXPORT_DIR that
 * EXPORT_DIR/current is switched to at once (and to EXPORT_URL's bucket when set). Keeps EXPORT_KEEP_VERSIONS.
 * Default schedule: SCHEDULE_EXPORT (every 10 minutes); also `sensoterra-sync export`.
 */
import { z } from 'zod';
import { publish } from '../src/export/publish.js';
import { defineJob } from '../src/job-runtime/job.js';

export default defineJob({
  name: 'export',
  payload: z.object({}).loose(),
  callsApi: false,
  schedule: { variable: 'SCHEDULE_EXPORT', default: '*/10 * * * *' },

  async run(_payload, ctx) {
    const report = await publish(ctx.db, ctx.config.exportDir, ctx.config.exportKeepVersions, ctx.log, {
      fileMode: ctx.config.exportFileMode,
      parquetCompression: ctx.config.exportParquetCompression,
      bucket: ctx.config.exportBucket,
    });
    const readings = report.tables.readings ?? 0;
    return {
      rowsRead: Object.values(report.tables).reduce((a, b) => a + b, 0),
      inserted: 0,
      updated: 0,
      deleted: report.pruned.length,
      details: {
        version: report.version,
        path: report.path,
        tables: report.tables,
        snapshot: report.snapshot,
        files_written: report.written.length,
        files_reused: report.reused.length,
        pruned: report.pruned,
        ...(report.bucket === undefined ? {} : { bucket: report.bucket }),
      },
      summary:
        `version ${report.version} published with ${readings} readings in ${(report.ms / 1000).toFixed(1)} s: ` +
        `${report.written.length} files written, ${report.reused.length} reused (${report.pruned.length} old versions removed)` +
        (report.bucket === undefined
          ? ''
          : `; to ${report.bucket.url}: ${report.bucket.uploaded} files uploaded, ${report.bucket.copied} copied in the bucket`),
    };
  },
});
