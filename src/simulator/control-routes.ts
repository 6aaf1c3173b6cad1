/**
 * Control routes for trying things by hand with curl, outside the API base and without an api_key:
 *   GET  /_sim/state         sizes, clock and settings
 *   POST /_sim/faults        a Fault as JSON, e.g. {"kind":"status","status":429,"retryAfterS":2,"when":{"path":"/probe"}}
 *   DELETE /_sim/faults      drop pending faults
 *   POST /_sim/expire-keys   every login key issued so far answers 403
 *   POST /_sim/change        {"action":"rename"|"move"|"recalibrate"|"remove"|"restore"|"transfer"|"status", "serial", ...}
 *   POST /_sim/settings      {"now": ISO or null, "ignoreLimit": boolean}, both optional
 * They are not logged in Simulator.requests and faults never apply to them.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseInstant } from '../time.js';
import type { SoilLayer } from './account.js';
import { checkFault, type Fault } from './faults.js';
import { HttpError, readJsonBody, requireObject, sendJson } from './http-io.js';
import type { Simulator } from './server.js';

export async function handleControl(
  sim: Simulator,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<void> {
  const route = `${req.method} ${path.replace(/\/$/, '')}`;
  if (route === 'GET /_sim/state') return sendJson(res, 200, sim.describe());
  if (route === 'DELETE /_sim/faults') {
    sim.clearFaults();
    return sendJson(res, 200, { pendingFaults: 0 });
  }
  if (route === 'POST /_sim/expire-keys') {
    sim.expireKeys();
    return sendJson(res, 200, { message: 'every login key issued so far is expired' });
  }
  const body = requireObject(await readJsonBody(req));
  if (route === 'POST /_sim/faults') return addFault(sim, body, res);
  if (route === 'POST /_sim/change') return change(sim, body, res);
  if (route === 'POST /_sim/settings') return settings(sim, body, res);
  throw new HttpError(
    404,
    `no control route ${route}; see GET /_sim/state, POST /_sim/faults, /_sim/expire-keys, /_sim/change, /_sim/settings`,
  );
}

function addFault(sim: Simulator, body: Record<string, unknown>, res: ServerResponse): void {
  const problem = checkFault(body);
  if (problem) throw new HttpError(400, problem);
  sim.addFault(body as unknown as Fault);
  sendJson(res, 201, { pendingFaults: sim.pendingFaults() });
}

/** The change methods, by name; an Error they throw (unknown serial, ...) becomes a 400. */
function change(sim: Simulator, body: Record<string, unknown>, res: ServerResponse): void {
  const serial = String(body.serial ?? '');
  const actions: Record<string, () => void> = {
    rename: () => sim.renameProbe(serial, body.name as string),
    move: () => sim.moveProbe(serial, body),
    recalibrate: () => sim.recalibrateProbe(serial, body.soil_profile as SoilLayer[]),
    remove: () => sim.removeProbe(serial),
    restore: () => sim.restoreProbe(serial),
    transfer: () => sim.transferProbe(serial, Number(body.customer_id ?? body.to_customer_id)),
    status: () => sim.setStatus(serial, body),
  };
  const action = Object.hasOwn(actions, String(body.action)) ? actions[String(body.action)] : undefined;
  if (!action) {
    throw new HttpError(
      400,
      `action must be one of ${Object.keys(actions).join(', ')}, got ${JSON.stringify(body.action)}`,
    );
  }
  try {
    action();
  } catch (err) {
    throw new HttpError(400, (err as Error).message);
  }
  sendJson(res, 200, { message: `${String(body.action)} ${serial} done` });
}

function settings(sim: Simulator, body: Record<string, unknown>, res: ServerResponse): void {
  if (body.now !== undefined) sim.setNow(body.now === null ? undefined : settingsNow(body.now));
  if (body.ignoreLimit !== undefined) {
    if (typeof body.ignoreLimit !== 'boolean') throw new HttpError(400, 'ignoreLimit must be true or false');
    sim.ignoreLimit = body.ignoreLimit;
  }
  sendJson(res, 200, sim.describe());
}

/** `now` through the project's one time rule (src/time.ts): ISO 8601, UTC without an offset, a date alone at midnight UTC. */
function settingsNow(value: unknown): Date {
  const parsed =
    typeof value === 'string' ? parseInstant(value, { dateOnly: true }) : { reason: `got ${JSON.stringify(value)}` };
  if (parsed instanceof Date) return parsed;
  throw new HttpError(
    400,
    `now must be an ISO-8601 date-time like 2024-07-08T12:00:00Z, or null for the real clock: ${parsed.reason}`,
  );
}
