/**
 * Historic readings of one probe over one window (GET /probe/{id}/{from}/{to}), streamed batch by batch into
 * staging and landed in one short transaction, idempotently: what pushes or earlier pulls already stored is not
 * stored again. Used by `reconcile` (gaps of quiet probes) and `backfill` (on demand).
 */
import type { JobContext } from '../job-runtime/job.js';
import { extraFields, toReading, type Reading, type ReadingOrigin, type ReadingSource } from '../readings/reading.js';
import { SkippedReadings, type SkippedSummary } from '../readings/skipped.js';
import { readingRow, type ReadingsOutcome } from '../warehouse/readings-store.js';

const KNOWN_FIELDS = new Set(['timestamp', 'height', 'unit', 'value', 'type']);

export interface Window {
  serial: string;
  probeId: number;
  from: Date;
  to: Date;
}

export interface WindowOutcome extends ReadingsOutcome {
  read: number;
  skipped: SkippedSummary; // readings the API gave that cannot be stored (a future timestamp, an absurd depth), by reason
}

export async function fillWindow(ctx: JobContext, window: Window, source: ReadingSource): Promise<WindowOutcome> {
  let read = 0;
  const skipped = new SkippedReadings();
  const receivedAt = new Date();
  const origin = { serial: window.serial, probeId: window.probeId, source, receivedAt };
  for await (const batch of ctx.api.historicReadings(window.probeId, window.from, window.to, { signal: ctx.signal })) {
    const readings: Reading[] = [];
    for (const { raw } of batch) {
      const reading = historicReading(raw, origin);
      if ('reason' in reading) skipped.add(`${window.serial}: ${reading.reason}`);
      else readings.push(reading);
    }
    await ctx.db.stage(
      'stage_readings',
      readings.map((r) => readingRow(ctx.runId, r)),
    );
    read += batch.length;
  }
  const landed = await ctx.db.landStagedReadings(ctx.runId);
  if (skipped.count > 0)
    ctx.log.warn({ serial: window.serial, skipped: skipped.summary() }, 'historic readings skipped');
  return { ...landed, read, skipped: skipped.summary() };
}

/** `{timestamp, height, unit, value}`: `height` is the depth; the type follows from the unit (toReading). */
function historicReading(raw: unknown, origin: ReadingOrigin): Reading | { reason: string } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { reason: 'reading is not an object' };
  const h = raw as Record<string, unknown>;
  return toReading(
    { type: h.type, depth: h.height, value: h.value, unit: h.unit, timestamp: h.timestamp },
    origin,
    extraFields(h, KNOWN_FIELDS),
  );
}
