/** The GET routes: the lists and a probe's history. */
import type { ServerResponse } from 'node:http';
import { parseInstant } from '../time.js';
import type { FixtureProbe, Parameter, ParameterLanguage } from './account.js';
import { HttpError, sendJson, streamJsonArray } from './http-io.js';
import { historicReadings, probeJson } from './probe-json.js';
import type { ApiContext } from './routes.js';

/**
 * GET /probe: the whole list without `limit` (as the official client reads it), a page with `limit` + `skip`,
 * one customer's probes with `customer`. With ignoreLimit set it answers everything, like a server without paging.
 */
export function listProbes(ctx: ApiContext, res: ServerResponse): Promise<void> {
  checkIncludeSharedData(ctx.query);
  const customer = optionalInteger(ctx.query, 'customer', 0);
  let skip = optionalInteger(ctx.query, 'skip', 0) ?? 0;
  let limit = optionalInteger(ctx.query, 'limit', 1);
  if (ctx.host.ignoreLimit) {
    skip = 0;
    limit = undefined;
  }
  // A copy of the list: a change made while a long answer streams must not shift the items under it.
  const all = ctx.host.state.probes();
  const matching = customer === undefined ? all : all.filter((p) => p.customer_id === customer);
  const page = matching.slice(skip, limit === undefined ? undefined : skip + limit);
  return streamJsonArray(res, lazyProbes(page, ctx.nowMs, ctx.host.seed));
}

function* lazyProbes(probes: FixtureProbe[], nowMs: number, seed: number): Generator<Record<string, unknown>> {
  for (const probe of probes) yield probeJson(probe, nowMs, seed);
}

/** GET /probe/{probeId}/{from}/{to}: readings of the measurements in [from, to) that exist by now. */
export function probeHistory(ctx: ApiContext, res: ServerResponse): Promise<void> {
  const probe = probeFromPath(ctx, ctx.params[0]);
  const fromMs = instantParam('from', ctx.params[1]);
  const toMs = instantParam('to', ctx.params[2]);
  if (fromMs > toMs) throw new HttpError(400, `from (${ctx.params[1]}) must not be after to (${ctx.params[2]})`);
  return streamJsonArray(res, historicReadings(probe, fromMs, toMs, ctx.nowMs, ctx.host.seed));
}

export function listLocations(ctx: ApiContext, res: ServerResponse): void {
  checkIncludeSharedData(ctx.query);
  const customer = optionalInteger(ctx.query, 'customer', 0);
  const locations = ctx.host.state.fixture.locations.filter(
    (l) => customer === undefined || l.customer_id === customer,
  );
  sendJson(res, 200, locations);
}

/** GET /parameter, with names in the `language` header's language when there is a translation. */
export function listParameters(ctx: ApiContext, res: ServerResponse): void {
  sendJson(
    res,
    200,
    ctx.host.state.fixture.parameters.map((p) => ({ key: p.key, name: localName(p, ctx.language), type: p.type })),
  );
}

export function listCustomers(ctx: ApiContext, res: ServerResponse): void {
  sendJson(
    res,
    200,
    ctx.host.state.fixture.customers.map((c) => ({ id: c.id, name: c.name, email: c.email })),
  );
}

function localName(parameter: Parameter, language: string): string {
  const translated = ['nl', 'es', 'en-us'].includes(language)
    ? parameter.names?.[language as ParameterLanguage]
    : undefined;
  return translated ?? parameter.name;
}

/** The active probe whose numeric id is in the path: 400 for a non-number, 404 for an unknown or removed one. */
export function probeFromPath(ctx: ApiContext, segment: string | undefined): FixtureProbe {
  if (segment === undefined || !/^\d+$/.test(segment))
    throw new HttpError(400, `probe id must be a number, got ${JSON.stringify(segment)}`);
  const probe = ctx.host.state.probeById(Number(segment));
  if (!probe) throw new HttpError(404, `probe ${segment} not found`);
  return probe;
}

function optionalInteger(query: Record<string, string>, name: string, min: number): number | undefined {
  const text = query[name];
  if (text === undefined || text === '') return undefined;
  if (!/^\d+$/.test(text) || Number(text) < min)
    throw new HttpError(400, `${name} must be a whole number >= ${min}, got ${JSON.stringify(text)}`);
  return Number(text);
}

/**
 * `include_shared_data` on GET /probe and /location: YES or NO, as the official client sends it, or left out. The
 * simulated account holds no data shared by other accounts, so all three answer the same list; anything else is a 400,
 * so that a client sending, say, `true` finds out here rather than on the service.
 */
function checkIncludeSharedData(query: Record<string, string>): void {
  const value = query.include_shared_data;
  if (value !== undefined && value !== 'YES' && value !== 'NO') {
    throw new HttpError(400, `include_shared_data must be YES or NO, got ${JSON.stringify(value)}`);
  }
}

/**
 * A path's from/to through the project's one time rule (src/time.ts): ISO 8601 such as 2024-07-01T00:00:00.000Z,
 * UTC without an offset, a date alone meaning its midnight UTC.
 */
function instantParam(name: string, text: string | undefined): number {
  const parsed = parseInstant(text ?? '', { dateOnly: true });
  if (parsed instanceof Date) return parsed.getTime();
  throw new HttpError(400, `${name}: ${parsed.reason}`);
}
