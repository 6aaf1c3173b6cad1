/**
 * Historic readings of one probe over one window (GET /probe/{id}/{from}/{to}), streamed batch by batch into
 * staging and landed in one short transaction, idempotently: what pushes or earlier pulls already stored is not
 * stored again. Used by `reconcile` (gaps of quiet probes) and `backfill` (on demand).
 */
import type { JobContext } from '../job.js';
import { checkDepth, checkTimestamp, checkValue, extraFields, typeFromUnit, type Reading, type ReadingSource } from '../readings/reading.js';
import type { Element } from '../sensoterra/paging.js';
import type { ApiHistoricReading } from '../sensoterra/schemas.js';
import { landStagedReadings, readingRow, type ReadingsOutcome } from '../warehouse/readings-store.js';

const KNOWN_FIELDS = ['timestamp', 'height', 'unit', 'value'] as const;

export interface Window {
  serial: string;
  probeId: number;
  from: Date;
  to: Date;
}

export interface WindowOutcome extends ReadingsOutcome {
  read: number;
  skipped: number; // readings the API gave that cannot be stored (a future timestamp, an absurd depth)
}

export async function fillWindow(ctx: JobContext, window: Window, source: ReadingSource): Promise<WindowOutcome> {
  let read = 0;
  let skipped = 0;
  const receivedAt = new Date();
  for await (const batch of ctx.api.historicReadings(window.probeId, window.from, window.to, { signal: ctx.signal })) {
    const readings: Reading[] = [];
    for (const element of batch) {
      const reading = toReading(element, window, source, receivedAt);
      if (reading) readings.push(reading);
      else skipped++;
    }
    await ctx.db.stage('stage_readings', readings.map((r) => readingRow(ctx.runId, r)));
    read += batch.length;
  }
  const landed = await ctx.db.write((c) => landStagedReadings(c, ctx.runId));
  return { ...landed, read, skipped };
}

/** Historic readings carry no type: it follows from the unit; `height` is the depth. */
function toReading({ value: h, raw }: Element<ApiHistoricReading>, window: Window, source: ReadingSource, receivedAt: Date): Reading | undefined {
  const when = checkTimestamp(h.timestamp.toISOString(), receivedAt.getTime());
  const depth = checkDepth(h.height);
  const value = checkValue(h.value);
  if ('reason' in when || 'reason' in depth || 'reason' in value) return undefined;
  return {
    serial: window.serial,
    probeId: window.probeId,
    type: typeFromUnit(h.unit),
    depthCm: depth.depthCm,
    ts: when.ts,
    value: value.value,
    unit: h.unit ?? null,
    source,
    receivedAt,
    extra: extraFields(raw as Record<string, unknown>, KNOWN_FIELDS),
  };
}
