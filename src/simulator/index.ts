/**
 * The Sensoterra simulator: a fake Sensoterra API over real HTTP, deterministic from a seed, and a push sender.
 * Used by `sensoterra-sync simulate`, the demo, tests and benchmarks.
 *
 *   const sim = await Simulator.start({ account: generateAccount({ seed: 7, probes: 500 }), now: new Date('2024-07-08T12:00:00Z') });
 *   // ... point a client at sim.url, log in with DEFAULT_EMAIL / DEFAULT_PASSWORD ...
 *   await sendPushes(uplinksFor(sim.account, { from, to }), { url: 'http://127.0.0.1:8080/push', secret: 's3cret' });
 *   await sim.close();
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
export { latestSlot, readingValue, slotReadings, slotsBetween, type ReadingType, type SlotReading } from './readings.js';
export { API_BASE, Simulator, type RequestLogEntry, type SimulatorOptions } from './server.js';
export { sendPushes, type PushSenderOptions, type PushSendResult } from './push-sender.js';
export { uplinksFor, type PushReading, type Uplink, type UplinkOptions } from './uplinks.js';
