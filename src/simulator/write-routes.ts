/**
 * The write routes. The contract only assumes them, so they validate the way a careful real service would: every
 * problem is a 400 whose message names the field and what would be valid, and nothing changes unless all is valid.
 */
import type { ServerResponse } from 'node:http';
import type { FixtureProbe, SoilLayer } from './account.js';
import { sortedProfile, type AccountState } from './account-state.js';
import { HttpError, requireObject, sendJson } from './http-io.js';
import { probeJson } from './probe-json.js';
import { probeFromPath } from './read-routes.js';
import type { ApiContext } from './routes.js';
import {
  checkEmail,
  checkLatitude,
  checkLongitude,
  checkName,
  checkSerial,
  checkSoilProfile,
  show,
} from './validation.js';

/** What a probe registered over the API looks like until someone changes it: the common multi-depth model. */
const REGISTERED_MODEL = { sku: 'ST-MULTI-60', kind: 'MOISTURE', depths: [15, 30, 45, 60] } as const;

/** POST /probe: register a new serial (201), under a customer or, by default, the reseller itself. */
export function registerProbe(ctx: ApiContext, res: ServerResponse): void {
  const body = requireObject(ctx.body);
  const state = ctx.host.state;
  badRequestIf(checkSerial(body.serial));
  const serial = body.serial as string;
  if (state.isKnownSerial(serial)) throw new HttpError(409, `probe ${serial} is already registered`);
  const customerId = body.customer_id ?? state.fixture.account.id;
  if (!state.hasCustomer(customerId)) throw new HttpError(400, `unknown customer ${show(customerId)}`);
  badRequestIf(checkProbeFields(body, state));
  const soilKeys = [...state.soilKeys()];
  const probe: FixtureProbe = {
    id: state.nextProbeId(),
    serial,
    ...(body.name !== undefined ? { name: body.name as string } : {}),
    sku: REGISTERED_MODEL.sku,
    state: 'ACTIVE',
    customer_id: customerId as number,
    // Left out or null: the probe has none, and its answers carry no such key.
    ...(body.location_id != null ? { location_id: body.location_id as number } : {}),
    ...(body.latitude != null ? { latitude: body.latitude as number } : {}),
    ...(body.longitude != null ? { longitude: body.longitude as number } : {}),
    soil_profile: body.soil_profile
      ? sortedProfile(body.soil_profile as SoilLayer[])
      : soilKeys.length > 0
        ? [{ depth: 0, soil: soilKeys[0]! }]
        : [],
    kind: REGISTERED_MODEL.kind,
    depths: [...REGISTERED_MODEL.depths],
    installed_at: new Date(ctx.nowMs).toISOString(),
  };
  state.add(probe);
  sendJson(res, 201, probeJson(probe, ctx.nowMs, ctx.host.seed));
}

/**
 * PUT /probe/{probeId}: name, soil_profile, latitude, longitude, location_id; fields left out stay as they are, and
 * null clears location_id, latitude or longitude (the answer then has no such key).
 */
export function updateProbe(ctx: ApiContext, res: ServerResponse): void {
  const probe = probeFromPath(ctx, ctx.params[0]);
  const body = requireObject(ctx.body);
  const state = ctx.host.state;
  badRequestIf(checkProbeFields(body, state));
  if (body.name !== undefined) state.rename(probe.serial, body.name as string);
  const profile = body.soil_profile as SoilLayer[] | undefined;
  if (profile !== undefined && !sameProfile(profile, probe.soil_profile))
    state.recalibrate(probe.serial, profile, ctx.nowMs);
  const { location_id, latitude, longitude } = body as {
    location_id?: number | null;
    latitude?: number | null;
    longitude?: number | null;
  };
  if (location_id !== undefined || latitude !== undefined || longitude !== undefined)
    state.move(probe.serial, { location_id, latitude, longitude });
  sendJson(res, 200, probeJson(probe, ctx.nowMs, ctx.host.seed));
}

/** PUT /probe/{probeId}/transfer `{to_customer_id, keep_sensordata}`. History stays readable either way here. */
export function transferProbe(ctx: ApiContext, res: ServerResponse): void {
  const probe = probeFromPath(ctx, ctx.params[0]);
  const body = requireObject(ctx.body);
  const to = body.to_customer_id;
  if (!Number.isInteger(to))
    throw new HttpError(400, `to_customer_id must be a customer id (a number), got ${show(to)}`);
  if (!ctx.host.state.hasCustomer(to))
    throw new HttpError(400, `unknown customer ${show(to)}: to_customer_id must be one of GET /customer`);
  if (body.keep_sensordata !== undefined && typeof body.keep_sensordata !== 'boolean') {
    throw new HttpError(400, `keep_sensordata must be true or false, got ${show(body.keep_sensordata)}`);
  }
  ctx.host.state.transfer(probe.serial, to as number);
  sendJson(res, 200, probeJson(probe, ctx.nowMs, ctx.host.seed));
}

/** POST /customer `{name, email}`: a new account under the reseller (201); an e-mail address is used once (409). */
export function createCustomer(ctx: ApiContext, res: ServerResponse): void {
  const body = requireObject(ctx.body);
  badRequestIf(checkName('name', body.name) ?? checkEmail(body.email));
  const email = body.email as string;
  if (ctx.host.state.fixture.customers.some((c) => c.email.toLowerCase() === email.toLowerCase())) {
    throw new HttpError(409, `a customer with email ${email} already exists`);
  }
  sendJson(res, 201, ctx.host.state.addCustomer({ name: body.name as string, email }));
}

/** The optional probe fields shared by register and update; the first problem found, or null. */
function checkProbeFields(body: Record<string, unknown>, state: AccountState): string | null {
  if (body.name !== undefined) {
    const problem = checkName('name', body.name);
    if (problem) return problem;
  }
  if (body.location_id !== undefined && body.location_id !== null && !state.hasLocation(body.location_id)) {
    return `unknown location_id ${show(body.location_id)}: it must be one of GET /location, or null`;
  }
  const coordinates = checkLatitude(body.latitude) ?? checkLongitude(body.longitude);
  if (coordinates) return coordinates;
  return body.soil_profile === undefined ? null : checkSoilProfile(body.soil_profile, state.soilKeys());
}

function sameProfile(a: SoilLayer[], b: SoilLayer[]): boolean {
  return JSON.stringify(sortedProfile(a)) === JSON.stringify(sortedProfile(b));
}

function badRequestIf(problem: string | null): void {
  if (problem) throw new HttpError(400, problem);
}
