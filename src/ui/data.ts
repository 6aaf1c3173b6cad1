/**
 * What the web page shows, read through the same read-only door as `query` (Warehouse.query: one allowlisted
 * SELECT, bounded in time and memory), from the SQL in sql/ui/ with its values bound; the queues from Redis, as
 * `status` reads them.
 */
import { timestampTZValue } from '@duckdb/node-api';
import type { Config } from '../config.js';
import type { Redis } from 'ioredis';
import { REDIS_UNREACHABLE, queueStatusOn, warehouseStatus } from '../control/status.js';
import type { Row } from '../warehouse/rows.js';
import { sqlFile } from '../warehouse/sql-files.js';
import type { Warehouse } from '../warehouse/warehouse.js';

/** The longest range the probe page reads at once: a year and a bit, 5 series of hourly readings. */
export const MAX_RANGE_DAYS = 400;
const DAY_MS = 86_400_000;

export interface ProbeRange {
  from: Date;
  to: Date;
}

export class UiData {
  constructor(
    private readonly db: Warehouse,
    private readonly config: Config,
    private readonly redis: Redis, // the worker's: a page's refresh opens no connection of its own
  ) {}

  private rows(file: string, params?: Parameters<Warehouse['query']>[2]): Promise<Row[]> {
    const limits = { timeoutMs: this.config.queryTimeoutMs, memoryMb: this.config.queryMemoryMb };
    return this.db.query(sqlFile(file), limits, params).then((r) => r.rows);
  }

  /** Queues, backlog and lag, schedules, the worker; the last run of each job, the latest failures; table sizes. */
  async service(): Promise<Record<string, unknown>> {
    const [queues, warehouse, failedRuns] = await Promise.all([
      queueStatusOn(this.redis, this.config.queuePrefix).catch(() => REDIS_UNREACHABLE),
      warehouseStatus(this.db),
      this.rows('ui/failed-runs'),
    ]);
    return { queues, warehouse, failedRuns };
  }

  /** The health table: every probe now in the account. */
  probes(): Promise<Row[]> {
    return this.rows('ui/probes');
  }

  /** Probes by local day over the last `days` days. */
  coverage(days: number): Promise<Row[]> {
    return this.rows('ui/coverage', { days });
  }

  /**
   * One probe over a range (by default the 7 days up to its last reading): its series, as lists of epoch
   * milliseconds and values, and the soil thresholds in effect at each depth, piece by piece. Undefined if there
   * is no such probe.
   */
  async probe(serial: string, range: ProbeRange | undefined): Promise<Record<string, unknown> | undefined> {
    const [probe] = await this.rows('ui/probe', { serial });
    if (probe === undefined) return undefined;
    const last = typeof probe.last_reading_ms === 'number' ? probe.last_reading_ms : Date.now();
    const { from, to } = range ?? { from: new Date(last + 1 - 7 * DAY_MS), to: new Date(last + 1) };
    const params = {
      serial,
      from: timestampTZValue(BigInt(from.getTime()) * 1000n),
      to: timestampTZValue(BigInt(to.getTime()) * 1000n),
    };
    const [series, bands] = await Promise.all([
      this.rows('ui/probe-series', params),
      this.rows('ui/probe-bands', params),
    ]);
    return { probe, from: from.toISOString(), to: to.toISOString(), series, bands };
  }
}
