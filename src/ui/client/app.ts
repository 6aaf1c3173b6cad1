/**
 * The web page's script (served as /assets/app.js): fills the page the server sent (its name in
 * <body data-page>) with what the page's /api/ address answers. Text goes into the page as text, never as HTML.
 * What each chart draws stays reachable as `window.sensoterra.charts` (the uPlot instances), for a reader who
 * wants the numbers behind a line, and for the browser tests.
 */
import type uPlot from 'uplot';

type Row = Record<string, unknown>;

interface Series {
  type: string;
  depth_cm: number | null;
  unit: string | null;
  t: number[];
  v: number[];
}

/** A soil layer of one probe version: from depth_from_cm down to (not including) depth_to_cm, over a time. */
interface Band {
  depth_from_cm: number;
  depth_to_cm: number;
  from_ms: number;
  to_ms: number;
  soil_key: string;
  wilting_point_pct: number | null;
  refill_pct: number | null;
  field_capacity_pct: number | null;
}

interface ProbeAnswer {
  probe: Row & {
    serial: string;
    name: string;
    time_zone: string;
    interval_minutes: number | null;
    deleted: boolean;
    si_wilting_point: number | null;
    si_refill: number | null;
    si_field_capacity: number | null;
  };
  from: string;
  to: string;
  series: Series[];
  bands: Band[];
}

declare global {
  interface Window {
    uPlot: typeof uPlot;
    sensoterra: { ready: boolean; error?: string; charts: Record<string, uPlot> };
  }
}

window.sensoterra = { ready: false, charts: {} };
const main = document.getElementById('main')!;

// ---- small builders: elements with text, never HTML

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string | null | undefined)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

function table(headers: string[], rows: HTMLTableRowElement[]): HTMLTableElement {
  return el(
    'table',
    {},
    el('thead', {}, el('tr', {}, ...headers.map((h) => el('th', {}, h)))),
    el('tbody', {}, ...rows),
  );
}

function cell(text: unknown, attrs: Record<string, string> = {}): HTMLTableCellElement {
  return el('td', attrs, text === null || text === undefined ? '–' : String(text));
}

async function api<T>(path: string): Promise<T> {
  const res = await fetch(path, { headers: { accept: 'application/json' } });
  const body = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new Error(body.error ?? `${path}: ${res.status}`);
  return body;
}

/** An instant in a time zone, with the zone's abbreviation: 08/07/2024, 10:30 CEST. */
function when(ms: number | null | undefined, timeZone: string): string {
  if (ms === null || ms === undefined) return '–';
  return new Intl.DateTimeFormat('en-GB', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    timeZoneName: 'short',
  }).format(new Date(ms));
}

const isoMs = (iso: unknown): number | null => (typeof iso === 'string' ? Date.parse(iso) : null);

// ---- the service

async function servicePage(): Promise<void> {
  interface Service {
    queues: {
      redis: string;
      worker: { host: string; pid: number; writer: { state: string; reason?: string } } | null;
      queues: Record<string, Record<string, number>>;
      ingestLagS: number;
      schedules: { job: string; pattern: string; tz: string; next: string | null }[];
    };
    warehouse: { path: string; fileBytes: number; sizes: Row; lastRuns: Row[] };
    failedRuns: Row[];
  }
  const s = await api<Service>('/api/service');
  const ingest = s.queues.queues.ingest ?? {};
  const backlog = (ingest.waiting ?? 0) + (ingest.active ?? 0) + (ingest.delayed ?? 0);
  const writer = s.queues.worker ? s.queues.worker.writer.state : 'not running';
  const card = (label: string, value: string, id: string): HTMLElement =>
    el('div', { class: 'card', id }, label, el('b', {}, value));
  main.replaceChildren(
    el('h1', {}, 'The service'),
    el('p', { class: 'note' }, 'Times in UTC.'),
    el(
      'div',
      { class: 'cards' },
      card('Redis', s.queues.redis, 'card-redis'),
      card('Writer', writer, 'card-writer'),
      card('Pushes waiting (batches)', String(backlog), 'card-backlog'),
      card('Ingest lag', `${s.queues.ingestLagS} s`, 'card-lag'),
      card('Parked batches', String(ingest.failed ?? 0), 'card-parked'),
      card('Warehouse', `${(s.warehouse.fileBytes / 1_048_576).toFixed(1)} MB`, 'card-size'),
    ),
    el('h2', {}, 'Queues'),
    table(
      ['queue', 'waiting', 'active', 'delayed', 'failed', 'completed'],
      Object.entries(s.queues.queues).map(([name, c]) =>
        el(
          'tr',
          {},
          cell(name),
          ...['waiting', 'active', 'delayed', 'failed', 'completed'].map((k) => cell(c[k] ?? 0, { class: 'num' })),
        ),
      ),
    ),
    el('h2', {}, 'Schedules'),
    s.queues.schedules.length === 0
      ? el('p', { class: 'note' }, 'None: every SCHEDULE_* variable is off.')
      : table(
          ['job', 'pattern', 'time zone', 'next run'],
          s.queues.schedules.map((r) =>
            el('tr', {}, cell(r.job), cell(r.pattern), cell(r.tz), cell(when(isoMs(r.next), 'UTC'))),
          ),
        ),
    el('h2', {}, 'Last run of each job'),
    table(
      ['job', 'status', 'trigger', 'started', 'took', 'read', 'new', 'updated', 'error'],
      s.warehouse.lastRuns.map((r) =>
        el(
          'tr',
          r.status === 'failed' ? { class: 'stale' } : {},
          cell(r.job),
          cell(r.status),
          cell(r.trigger),
          cell(when(isoMs(r.started_at), 'UTC')),
          cell(r.duration_ms === null ? null : `${(Number(r.duration_ms) / 1000).toFixed(1)} s`, { class: 'num' }),
          cell(r.rows_read, { class: 'num' }),
          cell(r.rows_inserted, { class: 'num' }),
          cell(r.rows_updated, { class: 'num' }),
          cell(r.error),
        ),
      ),
    ),
    el('h2', {}, 'Latest failures'),
    s.failedRuns.length === 0
      ? el('p', { class: 'note' }, 'None.')
      : table(
          ['job', 'trigger', 'started', 'error'],
          s.failedRuns.map((r) =>
            el('tr', {}, cell(r.job), cell(r.trigger), cell(when(isoMs(r.started_at), 'UTC')), cell(r.error)),
          ),
        ),
    el('h2', {}, 'Tables'),
    table(
      ['what', 'value'],
      Object.entries(s.warehouse.sizes).map(([k, v]) => el('tr', {}, cell(k), cell(v, { class: 'num' }))),
    ),
  );
}

// ---- the probes' health

async function probesPage(): Promise<void> {
  const rows = await api<Row[]>('/api/probes');
  const options = (key: string): string[] =>
    [...new Set(rows.map((r) => (r[key] === null ? '' : String(r[key]))))].filter((v) => v !== '').sort();
  const select = (id: string, label: string, values: string[]): HTMLSelectElement =>
    el(
      'select',
      { id, 'aria-label': label },
      el('option', { value: '' }, `every ${label}`),
      ...values.map((v) => el('option', { value: v }, v)),
    );
  const customer = select('filter-customer', 'customer', options('customer_name'));
  const location = select('filter-location', 'location', options('location_name'));
  const staleOnly = el('input', { type: 'checkbox', id: 'filter-stale' });
  const body = el('tbody');
  const count = el('span', { class: 'note', id: 'shown' });
  const render = (): void => {
    const shown = rows.filter(
      (r) =>
        (customer.value === '' || r.customer_name === customer.value) &&
        (location.value === '' || r.location_name === location.value) &&
        (!staleOnly.checked || r.stale === true),
    );
    count.textContent = `${shown.length} of ${rows.length} probes`;
    body.replaceChildren(
      ...shown.map((r) => {
        const zone = typeof r.time_zone === 'string' ? r.time_zone : 'UTC';
        return el(
          'tr',
          { 'data-serial': String(r.serial), ...(r.stale === true ? { class: 'stale' } : {}) },
          el(
            'td',
            {},
            el(
              'a',
              { href: `/probe?serial=${encodeURIComponent(String(r.serial))}` },
              String(r.probe_name ?? r.serial),
            ),
            el('br'),
            el('small', {}, String(r.serial)),
          ),
          cell(r.customer_name, { 'data-col': 'customer' }),
          cell(r.location_name, { 'data-col': 'location' }),
          cell(r.battery, { 'data-col': 'battery' }),
          cell(r.rssi === null ? null : `${String(r.rssi)} dBm`, { 'data-col': 'rssi', class: 'num' }),
          cell(r.connectivity, { 'data-col': 'connectivity' }),
          cell(when(r.last_seen_ms as number | null, zone), {
            'data-col': 'last_seen',
            'data-ms': String(r.last_seen_ms),
          }),
          cell(r.stale === true ? 'stale' : 'ok', { 'data-col': 'stale' }),
          cell(`${(Number(r.coverage_7d) * 100).toFixed(0)}%`, {
            'data-col': 'coverage',
            class: 'num',
            'data-hours-missing': String(r.hours_missing_7d),
          }),
        );
      }),
    );
  };
  for (const control of [customer, location, staleOnly]) control.addEventListener('change', render);
  main.replaceChildren(
    el('h1', {}, 'Probes'),
    el(
      'p',
      { class: 'note' },
      'Last seen in each probe’s local time. Coverage: the share of the last 168 hours with a reading.',
    ),
    el('div', { class: 'filters' }, customer, location, el('label', {}, staleOnly, ' stale only'), count),
    el(
      'table',
      { id: 'health' },
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          ...[
            'probe',
            'customer',
            'location',
            'battery',
            'signal',
            'connectivity',
            'last seen',
            'stale',
            'coverage 7 days',
          ].map((h) => el('th', {}, h)),
        ),
      ),
      body,
    ),
  );
  render();
}

// ---- one probe

/** Where the soil's thresholds are drawn: field capacity, refill point, wilting point; and the bands between. */
const THRESHOLDS = [
  { key: 'field_capacity_pct', label: 'field capacity', stroke: '#2b7bb9' },
  { key: 'refill_pct', label: 'refill point', stroke: '#b26a00' },
  { key: 'wilting_point_pct', label: 'wilting point', stroke: '#b3261e' },
] as const;

/**
 * x and y with a null between two readings further apart than twice the measuring interval, so that the line
 * breaks there rather than drawing across a gap.
 */
function withGaps(t: number[], v: number[], intervalMs: number | null): [number[], (number | null)[]] {
  const x: number[] = [];
  const y: (number | null)[] = [];
  for (let i = 0; i < t.length; i++) {
    const prev = t[i - 1];
    if (intervalMs !== null && prev !== undefined && t[i]! - prev > 2 * intervalMs) {
      x.push((prev + t[i]!) / 2);
      y.push(null);
    }
    x.push(t[i]!);
    y.push(v[i]!);
  }
  return [x, y];
}

/** The value of a threshold at each x: the calibration in effect then (null where none is known). */
function thresholdAt(x: number[], bands: Band[], key: (typeof THRESHOLDS)[number]['key']): (number | null)[] {
  return x.map((ms) => bands.find((b) => ms >= b.from_ms && ms < b.to_ms)?.[key] ?? null);
}

function chartOptions(
  title: string,
  unit: string,
  timeZone: string,
  extra: uPlot.Series[],
  bands: uPlot.Band[],
): uPlot.Options {
  const U = window.uPlot;
  return {
    title,
    width: Math.min(1200, main.clientWidth - 24),
    height: 260,
    ms: 1,
    tzDate: (ms) => U.tzDate(new Date(ms), timeZone),
    scales: { x: { time: true } },
    axes: [{ label: `time (${timeZone})` }, { label: unit }],
    series: [{}, ...extra],
    bands,
  };
}

/** How far `timeZone`'s wall clock is ahead of UTC at `at` (ms). */
function offsetMs(at: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(new Date(at));
  const part = (type: string): number => Number(parts.find((p) => p.type === type)?.value);
  return Date.UTC(part('year'), part('month') - 1, part('day'), part('hour'), part('minute'), part('second')) - at;
}

/** The instant a day (YYYY-MM-DD) begins in `timeZone`. */
function startOfDay(day: string, timeZone: string): number {
  // the first millisecond whose local date is `day`: the local date only grows with time, so halve the span from
  // 14 hours before the UTC midnight (UTC+14) to 13 after (UTC-12, and a day that begins at 01:00 where midnight is
  // skipped by a change of clocks) until it is found
  const wall = Date.parse(`${day}T00:00:00Z`);
  let [lo, hi] = [wall - 14 * 3_600_000, wall + 13 * 3_600_000];
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (dayOf(mid, timeZone) < day) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** The day (YYYY-MM-DD) an instant falls on in `timeZone`. */
function dayOf(at: number, timeZone: string): string {
  return new Date(at + offsetMs(at, timeZone)).toISOString().slice(0, 10);
}

/** From one day to another, whole days in the probe's own time zone. */
function rangeForm(serial: string, a: ProbeAnswer, timeZone: string): HTMLFormElement {
  const from = el('input', {
    type: 'date',
    id: 'range-from',
    value: dayOf(Date.parse(a.from), timeZone),
    required: '',
  });
  const to = el('input', { type: 'date', id: 'range-to', value: dayOf(Date.parse(a.to) - 1, timeZone), required: '' });
  const form = el(
    'form',
    { id: 'range-form' },
    'from ',
    from,
    ' to ',
    to,
    ` (days in ${timeZone}) `,
    el('button', { type: 'submit' }, 'Show'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const [y, m, d] = to.value.split('-').map(Number) as [number, number, number];
    const next = new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10); // the day after the last one
    const p = new URLSearchParams({
      serial,
      from: new Date(startOfDay(from.value, timeZone)).toISOString(),
      to: new Date(startOfDay(next, timeZone)).toISOString(),
    });
    location.assign(`/probe?${p.toString()}`);
  });
  return form;
}

async function probePage(): Promise<void> {
  const query = new URLSearchParams(location.search);
  const serial = query.get('serial') ?? '';
  const params = new URLSearchParams({ serial });
  for (const k of ['from', 'to']) {
    const v = query.get(k);
    if (v !== null) params.set(k, v);
  }
  const a = await api<ProbeAnswer>(`/api/probe?${params.toString()}`);
  const zone = a.probe.time_zone;
  const intervalMs = a.probe.interval_minutes === null ? null : a.probe.interval_minutes * 60_000;
  const U = window.uPlot;
  const charts = el('div', { id: 'charts' });
  const range = (days: number): HTMLAnchorElement => {
    const to = Date.parse(a.to);
    const p = new URLSearchParams({ serial, from: new Date(to - days * 86_400_000).toISOString(), to: a.to });
    return el('a', { href: `/probe?${p.toString()}` }, `${days} days`);
  };
  main.replaceChildren(
    el('h1', {}, `${a.probe.name} (${a.probe.serial})`),
    el(
      'p',
      { class: 'note', id: 'range' },
      `${when(Date.parse(a.from), zone)} to ${when(Date.parse(a.to), zone)}. Times in ${zone}, the probe’s local time. `,
      `${String(a.probe.customer_name ?? '')} ${String(a.probe.location_name ?? '')}`,
    ),
    el(
      'p',
      {},
      'Show the last ',
      range(7),
      ', ',
      range(30),
      ', ',
      range(365),
      ' up to the end of this range, or ',
      rangeForm(serial, a, zone),
    ),
    el(
      'p',
      { class: 'legend-bands' },
      ...THRESHOLDS.map((t) =>
        el('span', {}, el('span', { class: 'swatch', style: `background:${t.stroke}` }), t.label),
      ),
      'of the soil in effect at each time (a re-calibration moves them).',
    ),
    charts,
  );
  if (a.probe.deleted)
    charts.before(
      el('p', { class: 'error', id: 'deleted' }, 'This probe has left the account (deleted); its readings stay.'),
    );
  if (a.series.length === 0) charts.append(el('p', { class: 'note' }, 'No readings in this range.'));
  for (const s of a.series) {
    const [x, y] = withGaps(s.t, s.v, intervalMs);
    const key = s.type === 'TEMPERATURE' ? 'temperature' : `${s.type.toLowerCase()} ${s.depth_cm ?? ''}`.trim();
    const box = el('div', { class: 'chart', 'data-chart': key });
    charts.append(box);
    const unit = s.unit ?? '';
    if (s.type === 'MOISTURE' || s.type === 'SI') {
      const depth = s.depth_cm ?? Number.NaN;
      // moisture against the soil at its depth, version by version; the Sensoterra Index against its zones
      const bands: Band[] =
        s.type === 'SI'
          ? [
              {
                depth_from_cm: depth,
                depth_to_cm: depth + 1,
                from_ms: -Infinity,
                to_ms: Infinity,
                soil_key: 'SI',
                wilting_point_pct: a.probe.si_wilting_point,
                refill_pct: a.probe.si_refill,
                field_capacity_pct: a.probe.si_field_capacity,
              },
            ]
          : a.bands.filter((b) => depth >= b.depth_from_cm && depth < b.depth_to_cm);
      const soils = [...new Set([...bands].sort((p, q) => p.from_ms - q.from_ms).map((b) => b.soil_key))].join(
        ' then ',
      );
      const lines = THRESHOLDS.map((t) => thresholdAt(x, bands, t.key));
      const what = s.type === 'SI' ? 'Sensoterra Index' : 'Moisture';
      const opts = chartOptions(
        `${what} at ${s.depth_cm ?? '?'} cm${soils === '' ? ' (no soil calibration known)' : ` (${soils})`}`,
        unit,
        zone,
        [
          { label: `${what.toLowerCase()} ${s.depth_cm ?? ''} cm`, stroke: '#1d2a33', width: 1.5, spanGaps: false },
          ...THRESHOLDS.map((t) => ({
            label: t.label,
            stroke: t.stroke,
            width: 1,
            dash: [4, 4],
            points: { show: false },
            paths: U.paths.stepped!({ align: 1 }),
          })),
        ],
        [
          { series: [2, 3], fill: 'rgba(46,125,50,0.10)' },
          { series: [3, 4], fill: 'rgba(178,106,0,0.10)' },
        ],
      );
      window.sensoterra.charts[key] = new U(opts, [x, y, ...lines] as uPlot.AlignedData, box);
    } else {
      const opts = chartOptions(
        s.type === 'TEMPERATURE' ? 'Temperature' : s.type,
        unit,
        zone,
        [{ label: s.type.toLowerCase(), stroke: '#8a5a2b', width: 1.5, spanGaps: false }],
        [],
      );
      window.sensoterra.charts[key] = new U(opts, [x, y] as uPlot.AlignedData, box);
    }
  }
}

// ---- coverage: probes by day

async function coveragePage(): Promise<void> {
  const days = Number(new URLSearchParams(location.search).get('days') ?? 14);
  const rows = await api<Row[]>(`/api/coverage?days=${days}`);
  const dayList = [...new Set(rows.map((r) => String(r.day)))].sort();
  const byProbe = new Map<string, { name: string; days: Map<string, number> }>();
  for (const r of rows) {
    const serial = String(r.serial);
    const entry = byProbe.get(serial) ?? { name: String(r.probe_name ?? serial), days: new Map<string, number>() };
    entry.days.set(String(r.day), Number(r.coverage));
    byProbe.set(serial, entry);
  }
  const color = (c: number | undefined): string =>
    c === undefined ? '#eceff1' : `hsl(${Math.round(c * 120)}, 55%, ${Math.round(85 - c * 35)}%)`;
  main.replaceChildren(
    el('h1', {}, 'Coverage'),
    el(
      'p',
      { class: 'note' },
      `Each probe’s readings per day of its own calendar over the last ${days} days, today’s (still going) included, against those its measuring interval promises (green: all of them; grey: none).`,
    ),
    byProbe.size === 0
      ? el('p', { class: 'note' }, 'No readings in these days.')
      : el(
          'table',
          { id: 'coverage' },
          el('thead', {}, el('tr', {}, el('th', {}, 'probe'), ...dayList.map((d) => el('th', {}, d.slice(5))))),
          el(
            'tbody',
            {},
            ...[...byProbe].map(([serial, p]) =>
              el(
                'tr',
                { 'data-serial': serial },
                el('td', {}, el('a', { href: `/probe?serial=${encodeURIComponent(serial)}` }, p.name)),
                ...dayList.map((d) => {
                  const c = p.days.get(d);
                  return el('td', {
                    class: 'cov',
                    style: `background:${color(c)}`,
                    title: `${d}: ${c === undefined ? 'no readings' : `${Math.round(c * 100)}%`}`,
                    'data-day': d,
                    'data-coverage': String(c ?? ''),
                  });
                }),
              ),
            ),
          ),
        ),
  );
}

const PAGES: Record<string, () => Promise<void>> = {
  service: servicePage,
  probes: probesPage,
  probe: probePage,
  coverage: coveragePage,
};

const run = PAGES[document.body.dataset.page ?? ''];
(run ?? (() => Promise.reject(new Error('this page has no script'))))()
  .then(() => {
    window.sensoterra.ready = true;
  })
  .catch((err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    window.sensoterra.error = message;
    main.replaceChildren(el('p', { class: 'error', role: 'alert' }, message));
  });
