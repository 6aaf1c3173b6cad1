/**
 * The Sensoterra simulator: a fake Sensoterra API over real HTTP, deterministic from a seed, and a push sender.
 * Used by `sensoterra-sync simulate`, the demo, tests and benchmarks.
 *
 *   const sim = await Simulator.start({ account: generateAccount({ seed: 7, probes: 500 }), now: new Date('2024-07-08T12:00:00Z') });
 *   // ... point a client at sim.url, log in with DEFAULT_EMAIL / DEFAULT_PASSWORD ...
 *   await sendPushes(uplinksFor(sim.account, { from, to }), { url: 'http://127.0.0.1:8080/push', secret: 's3cret' });
 *   await sim.close();
 *
 * What the simulator sends, checked against the official Python client (`sensoterra` 2.x on PyPI, used by Home
 * Assistant: modules sensoterra/customerapi.py and sensoterra/probe.py, the aiohttp version with set_token and
 * set_include_shared_data; read in the public code index, Home Assistant's homeassistant/components/sensoterra beside
 * it). What the client does is evidence of what the service sends:
 * - Absent, not null. The client does `int(probe["location_id"])` whenever the key is there and reads latitude and
 *   longitude with .get, so a probe without a location has no `location_id`, `latitude` or `longitude` key (a null
 *   location_id fails its whole poll). Every path renders it so: GET /probe, the write routes' answers, probes of
 *   generateAccount (about one in ten has no location), a fixture's null, PUT /probe or moveProbe with null (clears:
 *   the key goes). Our own client accepts both forms (`.nullish()` in src/sensoterra/schemas.ts).
 * - status.last_update: read with .get and checked for None; a probe that has measured nothing yet has no key and
 *   `last_readings: []`.
 * - Keys it reads with [] are always sent: a probe's id, serial, name (defaults to the serial), sku, state, status and
 *   soil_profile (each layer's depth and soil); a reading's type, value, unit and timestamp; a location's id and name;
 *   a parameter's key, name and type.
 * - Readings: `depth` is optional (`int()` when present, compared with `> 0`), so a reading without one has no key,
 *   never null. `value` goes through `float()`: a number, or a numeric string for SI. `timestamp` may be null (checked
 *   for None; contract [known]): odd probe ids send their temperature reading without one. Units `%`, `SI`, `°C`.
 * - status.battery is looked up as `ProbeBatteryLevel[...]` (NORMAL, FAIR, POOR) whenever the key is there, and rssi
 *   becomes a number sensor: both are always sent and valid. Only setStatus can set another battery text, to test our
 *   own client's tolerance; that value would break the Python client's poll.
 * - Ids are JSON numbers: the client looks a probe's location up by `int(location_id)` among the locations' `id`s.
 * - `include_shared_data`: the client sends YES (default) or NO on GET /probe and GET /location, never `limit` (the
 *   whole list in one answer). The simulated account has no data shared from other accounts, so YES, NO and no
 *   parameter answer the same list; another value is a 400 [assumed].
 * - Headers: `api_key`, `language` (en by default), a User-Agent. 401 carries `{message}` (the client raises it), 403
 *   makes it log in again and retry once. POST /token gets `expiration` as `astimezone().isoformat()`, with an offset.
 * - Not read by the client, so unchanged: the historic route's `height: null` for temperature (contract [seen]).
 * Request times (history from/to, POST /token expiration, /_sim/settings now) go through src/time.ts like every other
 * time the project reads.
 */
export {
  DEFAULT_EMAIL,
  DEFAULT_PASSWORD,
  defaultParameters,
  generateAccount,
  type AccountFixture,
  type Customer,
  type FixtureProbe,
  type GenerateOptions,
  type Location,
  type Parameter,
  type ProbeKind,
  type SoilLayer,
} from './account.js';
export type { Fault, FaultMatch } from './faults.js';
export type { HistoricReading } from './probe-json.js';
export {
  latestSlot,
  readingValue,
  slotReadings,
  slotsBetween,
  type ReadingType,
  type SlotReading,
} from './readings.js';
export { API_BASE, Simulator, type RequestLogEntry, type SimulatorOptions } from './server.js';
export { sendPushes, type PushSenderOptions, type PushSendResult } from './push-sender.js';
export { uplinksFor, type PushReading, type Uplink, type UplinkOptions } from './uplinks.js';
