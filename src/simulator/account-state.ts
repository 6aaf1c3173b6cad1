/**
 * The live state of a simulated account: the fixture's data plus fast lookups and the changes a test can make.
 *
 * The fixture object itself is the state (Simulator.account), mutated in place, so a test can read it directly.
 * Removed probes leave `probes` but are kept here, as the real service keeps a deleted probe's history.
 */
import type { AccountFixture, Customer, FixtureProbe, Parameter, SoilLayer } from './account.js';
import { checkEmail, checkLatitude, checkLongitude, checkName, checkSoilProfile } from './validation.js';

/** A field left out stays as it is; null clears it. */
export interface ProbeMove {
  location_id?: number | null;
  latitude?: number | null;
  longitude?: number | null;
}

export interface ProbeStatusChange {
  battery?: string;
  rssi?: number;
  connectivity?: string;
}

export class AccountState {
  readonly fixture: AccountFixture;
  private readonly removed = new Map<string, FixtureProbe>();
  private byId = new Map<number, FixtureProbe>();
  private bySerial = new Map<string, FixtureProbe>();
  // What the lookups were built from; a test that edits `account.probes` directly gets them rebuilt.
  private indexed: { array: FixtureProbe[]; length: number } | undefined;

  constructor(fixture: AccountFixture) {
    this.fixture = fixture;
    this.reindex();
  }

  /** Active probes, sorted by id. */
  probes(): FixtureProbe[] {
    this.reindex();
    return this.fixture.probes;
  }

  probeById(id: number): FixtureProbe | undefined {
    this.reindex();
    return this.byId.get(id);
  }

  probeBySerial(serial: string): FixtureProbe | undefined {
    this.reindex();
    return this.bySerial.get(serial);
  }

  /** Registered at some time, removed or not: a serial can be registered only once. */
  isKnownSerial(serial: string): boolean {
    return this.probeBySerial(serial) !== undefined || this.removed.has(serial);
  }

  removedCount(): number {
    return this.removed.size;
  }

  nextProbeId(): number {
    const probes = this.probes();
    let max = probes.at(-1)?.id ?? 0; // sorted by id
    for (const probe of this.removed.values()) max = Math.max(max, probe.id);
    return max + 1;
  }

  /** A probe may belong to one of the reseller's customers or to the reseller itself. */
  hasCustomer(id: unknown): boolean {
    return id === this.fixture.account.id || this.fixture.customers.some((c) => c.id === id);
  }

  hasLocation(id: unknown): boolean {
    return this.fixture.locations.some((l) => l.id === id);
  }

  soilKeys(): Set<string> {
    return new Set(this.fixture.parameters.filter((p) => p.type === 'SOIL').map((p) => p.key));
  }

  // ---- changes; each throws an Error naming the problem, before changing anything ----

  /** A new measuring interval (minutes); the simulated history is measured at it from then on and before alike. */
  setInterval(serial: string, minutes: number): FixtureProbe {
    const probe = this.requireProbe(serial);
    if (!(Number.isInteger(minutes) && minutes > 0 && minutes <= 1440))
      throw new Error(`interval must be 1 to 1440 minutes, got ${minutes}`);
    probe.interval = minutes;
    return probe;
  }

  rename(serial: string, name: string): FixtureProbe {
    const probe = this.requireProbe(serial);
    failIf(checkName('name', name));
    probe.name = name;
    return probe;
  }

  move(serial: string, to: ProbeMove): FixtureProbe {
    const probe = this.requireProbe(serial);
    if (to.location_id !== undefined && to.location_id !== null && !this.hasLocation(to.location_id)) {
      throw new Error(`unknown location ${to.location_id}`);
    }
    failIf(checkLatitude(to.latitude) ?? checkLongitude(to.longitude));
    // null clears a field: the key goes, so the probe looks like one that never had a location.
    if (to.location_id !== undefined) setOrDelete(probe, 'location_id', to.location_id);
    if (to.latitude !== undefined) setOrDelete(probe, 'latitude', to.latitude);
    if (to.longitude !== undefined) setOrDelete(probe, 'longitude', to.longitude);
    return probe;
  }

  /** The old calibration goes to soil_history, so readings taken before `atMs` keep their values. */
  recalibrate(serial: string, soilProfile: SoilLayer[], atMs: number): FixtureProbe {
    const probe = this.requireProbe(serial);
    failIf(checkSoilProfile(soilProfile, this.soilKeys()));
    probe.soil_history = [
      ...(probe.soil_history ?? []),
      { until: new Date(atMs).toISOString(), soil_profile: probe.soil_profile },
    ];
    probe.soil_profile = sortedProfile(soilProfile);
    return probe;
  }

  add(probe: FixtureProbe): void {
    if (this.isKnownSerial(probe.serial)) throw new Error(`serial ${probe.serial} is already registered`);
    if (this.probeById(probe.id) || [...this.removed.values()].some((p) => p.id === probe.id)) {
      throw new Error(`probe id ${probe.id} is already used`);
    }
    this.requireCustomer(probe.customer_id);
    if (probe.location_id !== undefined && probe.location_id !== null && !this.hasLocation(probe.location_id)) {
      throw new Error(`unknown location ${probe.location_id}`);
    }
    this.insertSorted(probe);
  }

  remove(serial: string): void {
    const probe = this.requireProbe(serial);
    this.fixture.probes.splice(this.fixture.probes.indexOf(probe), 1);
    this.removed.set(serial, probe);
    this.reindex(true);
  }

  restore(serial: string): void {
    const probe = this.removed.get(serial);
    if (!probe)
      throw new Error(`probe ${serial} is not removed${this.probeBySerial(serial) ? '' : ' (unknown serial)'}`);
    this.removed.delete(serial);
    this.insertSorted(probe);
  }

  transfer(serial: string, customerId: number): FixtureProbe {
    const probe = this.requireProbe(serial);
    this.requireCustomer(customerId);
    probe.customer_id = customerId;
    return probe;
  }

  setStatus(serial: string, status: ProbeStatusChange): FixtureProbe {
    const probe = this.requireProbe(serial);
    if (status.battery !== undefined) probe.battery = status.battery;
    if (status.rssi !== undefined) probe.rssi = status.rssi;
    if (status.connectivity !== undefined) probe.connectivity = status.connectivity;
    return probe;
  }

  addCustomer(fields: { name: string; email: string }): Customer {
    failIf(checkName('name', fields.name) ?? checkEmail(fields.email));
    const taken = this.fixture.customers.some((c) => c.email.toLowerCase() === fields.email.toLowerCase());
    if (taken) throw new Error(`a customer with email ${fields.email} already exists`);
    const id = this.fixture.customers.reduce((max, c) => Math.max(max, c.id), this.fixture.account.id) + 1;
    const customer = { id, name: fields.name, email: fields.email };
    this.fixture.customers.push(customer);
    return customer;
  }

  addParameter(parameter: Parameter): void {
    if (this.fixture.parameters.some((p) => p.key === parameter.key))
      throw new Error(`parameter ${parameter.key} already exists`);
    this.fixture.parameters.push({ ...parameter });
  }

  /** The old translations are dropped: they would still show the old name in other languages. */
  renameParameter(key: string, name: string): void {
    const parameter = this.requireParameter(key);
    parameter.name = name;
    delete parameter.names;
  }

  /** Probes keep pointing at a removed soil key, as they would on the service: clients must cope. */
  removeParameter(key: string): void {
    const parameter = this.requireParameter(key);
    this.fixture.parameters.splice(this.fixture.parameters.indexOf(parameter), 1);
  }

  // ---- helpers ----

  requireProbe(serial: string): FixtureProbe {
    const probe = this.probeBySerial(serial);
    if (!probe) throw new Error(`unknown probe serial ${serial}${this.removed.has(serial) ? ' (it was removed)' : ''}`);
    return probe;
  }

  private requireCustomer(id: number): void {
    if (!this.hasCustomer(id)) throw new Error(`unknown customer ${id}`);
  }

  private requireParameter(key: string): Parameter {
    const parameter = this.fixture.parameters.find((p) => p.key === key);
    if (!parameter) throw new Error(`unknown parameter ${key}`);
    return parameter;
  }

  private insertSorted(probe: FixtureProbe): void {
    const probes = this.probes();
    let low = 0;
    let high = probes.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (probes[mid]!.id < probe.id) low = mid + 1;
      else high = mid;
    }
    probes.splice(low, 0, probe);
    this.reindex(true);
  }

  private reindex(force = false): void {
    const probes = this.fixture.probes;
    if (!force && this.indexed?.array === probes && this.indexed.length === probes.length) return;
    if (!isSortedById(probes)) probes.sort((a, b) => a.id - b.id);
    this.byId = new Map(probes.map((p) => [p.id, p]));
    this.bySerial = new Map(probes.map((p) => [p.serial, p]));
    this.indexed = { array: probes, length: probes.length };
  }
}

function isSortedById(probes: FixtureProbe[]): boolean {
  for (let i = 1; i < probes.length; i++) if (probes[i - 1]!.id > probes[i]!.id) return false;
  return true;
}

export function sortedProfile(profile: SoilLayer[]): SoilLayer[] {
  return profile.map((layer) => ({ depth: layer.depth, soil: layer.soil })).sort((a, b) => a.depth - b.depth);
}

function setOrDelete(probe: FixtureProbe, field: 'location_id' | 'latitude' | 'longitude', value: number | null): void {
  if (value === null) delete probe[field];
  else probe[field] = value;
}

function failIf(problem: string | null): void {
  if (problem) throw new Error(problem);
}

/** A deep copy, so that a simulator's changes never leak into a fixture a test reuses. */
export function cloneFixture(fixture: AccountFixture): AccountFixture {
  return {
    account: { ...fixture.account },
    customers: fixture.customers.map((c) => ({ ...c })),
    locations: fixture.locations.map((l) => ({ ...l })),
    parameters: fixture.parameters.map((p) => ({ ...p, ...(p.names ? { names: { ...p.names } } : {}) })),
    probes: fixture.probes.map(cloneProbe),
  };
}

export function cloneProbe(probe: FixtureProbe): FixtureProbe {
  const copy: FixtureProbe = {
    ...probe,
    soil_profile: probe.soil_profile.map((layer) => ({ ...layer })),
    depths: [...probe.depths],
  };
  if (probe.soil_history)
    copy.soil_history = probe.soil_history.map((h) => ({
      until: h.until,
      soil_profile: h.soil_profile.map((l) => ({ ...l })),
    }));
  return copy;
}
