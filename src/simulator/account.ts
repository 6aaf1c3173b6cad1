/**
 * The simulated Sensoterra account: a reseller login with customers, locations, parameters and probes.
 *
 * An account is plain data (`AccountFixture`) so that a test can write one by hand and compute its expected values
 * from it. `generateAccount` makes a plausible one from a seed, from a handful of probes up to 100,000. Readings are
 * never stored: they are computed on demand from the probe (see readings.ts), which keeps big accounts cheap.
 */
import { mulberry32 } from './random.js';

export const DEFAULT_EMAIL = 'demo@sensoterra.example';
export const DEFAULT_PASSWORD = 'demo-password';

export interface SoilLayer {
  depth: number;
  soil: string;
}

export type ProbeKind = 'MOISTURE' | 'SI';

export interface FixtureProbe {
  id: number;
  serial: string;
  /** Defaults to the serial, as on the real service. */
  name?: string;
  sku?: string; // default 'ST-MULTI-60'
  state?: string; // default 'ACTIVE'
  customer_id: number;
  /** Absent (or null, for a hand-written fixture) = none: the API then leaves the key out. */
  location_id?: number | null;
  latitude?: number | null;
  longitude?: number | null;
  soil_profile: SoilLayer[];
  /** What its depth sensors report. */
  kind: ProbeKind;
  /** Sensor depths in cm, e.g. [15] or [15, 30, 45, 60]. */
  depths: number[];
  /** Minutes between measurements, default 60. */
  interval?: number;
  /** Minute of the interval at which it measures; default `id % interval`, so a test can work it out by hand. */
  minute_offset?: number;
  /** ISO; default 2024-01-01T00:00:00Z. No readings exist before it. */
  installed_at?: string;
  battery?: 'NORMAL' | 'FAIR' | 'POOR' | (string & {}); // setStatus may set other values, to test tolerance
  rssi?: number;
  connectivity?: string;
  /**
   * Earlier soil calibrations, oldest first, each in force until `until` (ISO). Kept so that a reading's value never
   * changes after a recalibration: moisture is computed with the calibration that held when it was measured.
   * Never shown by the API; recalibrateProbe appends to it.
   */
  soil_history?: { until: string; soil_profile: SoilLayer[] }[];
}

export interface Customer {
  id: number;
  name: string;
  email: string;
}

export interface Location {
  id: number;
  name: string;
  customer_id: number;
  code?: string;
}

export type ParameterLanguage = 'nl' | 'es' | 'en-us';

export interface Parameter {
  key: string;
  type: string;
  name: string;
  names?: Partial<Record<ParameterLanguage, string>>;
}

export interface AccountFixture {
  /** The reseller login. */
  account: { id: number; email: string; password: string; role?: string };
  customers: Customer[];
  locations: Location[];
  parameters: Parameter[];
  probes: FixtureProbe[];
}

export interface GenerateOptions {
  seed?: number;
  /** Default 12. */
  probes?: number;
  /** Default: one per 100 probes, at least 3. */
  customers?: number;
  /** Default 2. */
  locationsPerCustomer?: number;
}

/** Id ranges, far apart so that an id printed in a log says what it is. */
const RESELLER_ID = 39;
const FIRST_CUSTOMER_ID = 1001;
const FIRST_LOCATION_ID = 2_000_001;
const FIRST_PROBE_ID = 50_001;
/** serial = SERIAL_BASE + id: 11 digits like the real ones, and the id can be read off the serial. */
const SERIAL_BASE = 24_000_000_000;

/** Soil calibrations with their Dutch and Spanish names; `language` on a request picks one. */
export function defaultParameters(): Parameter[] {
  const soil = (key: string, name: string, nl: string, es: string): Parameter => ({
    key,
    type: 'SOIL',
    name,
    names: { nl, es },
  });
  return [
    soil('SAND', 'Sand', 'Zand', 'Arena'),
    soil('LOAMY_SAND', 'Loamy sand', 'Lemig zand', 'Arena franca'),
    soil('SANDY_LOAM', 'Sandy loam', 'Zandige leem', 'Franco arenoso'),
    soil('LOAM', 'Loam', 'Leem', 'Franco'),
    soil('SILT_LOAM', 'Silt loam', 'Siltige leem', 'Franco limoso'),
    soil('CLAY_LOAM', 'Clay loam', 'Kleiige leem', 'Franco arcilloso'),
    soil('CLAY', 'Clay', 'Klei', 'Arcilla'),
    soil('PEAT', 'Peat', 'Veen', 'Turba'),
    {
      key: 'MOISTURE',
      type: 'READING',
      name: 'Volumetric water content',
      names: { nl: 'Volumetrisch vochtgehalte', es: 'Contenido volumétrico de agua' },
    },
    {
      key: 'SI',
      type: 'READING',
      name: 'Sensoterra Index',
      names: { nl: 'Sensoterra-index', es: 'Índice Sensoterra' },
    },
    {
      key: 'TEMPERATURE',
      type: 'READING',
      name: 'Soil temperature',
      names: { nl: 'Bodemtemperatuur', es: 'Temperatura del suelo' },
    },
  ];
}

export function generateAccount(opts: GenerateOptions = {}): AccountFixture {
  const seed = opts.seed ?? 1;
  const probeCount = opts.probes ?? 12;
  const customerCount = opts.customers ?? Math.max(3, Math.ceil(probeCount / 100));
  const locationsPerCustomer = opts.locationsPerCustomer ?? 2;
  const random = mulberry32(seed);
  const customers = generateCustomers(customerCount, random);
  const sites = generateSites(customers, locationsPerCustomer, random);
  return {
    account: { id: RESELLER_ID, email: DEFAULT_EMAIL, password: DEFAULT_PASSWORD, role: 'RESELLER' },
    customers,
    locations: sites.map((site) => site.location),
    parameters: defaultParameters(),
    probes: generateProbes(probeCount, customers, sites, random),
  };
}

const FARM_NAMES = [
  'Van Dijk',
  'De Boer',
  'Bakker',
  'Huerta Los Olivos',
  'Finca El Romeral',
  'Jansen',
  'Visser',
  'Smit',
  'Meijer',
  'Green Acres',
];
const FARM_KINDS = ['Farms', 'Orchards', 'Vineyards', 'Potatoes', 'Growers'];
const FIELD_NAMES = [
  'North field',
  'South field',
  'Orchard block',
  'Greenhouse',
  'Pivot',
  'Polder',
  'Vineyard row',
  'Pasture',
];

function pick<T>(items: readonly T[], random: () => number): T {
  return items[Math.floor(random() * items.length)]!; // random() < 1; every caller passes a non-empty list
}

function generateCustomers(count: number, random: () => number): Customer[] {
  const customers: Customer[] = [];
  for (let i = 0; i < count; i++) {
    const id = FIRST_CUSTOMER_ID + i;
    customers.push({
      id,
      name: `${pick(FARM_NAMES, random)} ${pick(FARM_KINDS, random)} ${i + 1}`,
      email: `grower-${id}@example.com`,
    });
  }
  return customers;
}

/** A location plus the centre its probes are scattered around (the API has no coordinates for locations). */
interface Site {
  location: Location;
  latitude: number;
  longitude: number;
}

function generateSites(customers: Customer[], perCustomer: number, random: () => number): Site[] {
  const sites: Site[] = [];
  for (const customer of customers) {
    // A farm's fields lie close together, somewhere in the Netherlands.
    const farmLatitude = 51.5 + random() * 1.6;
    const farmLongitude = 4.2 + random() * 2.6;
    for (let j = 0; j < perCustomer; j++) {
      const id = FIRST_LOCATION_ID + sites.length;
      sites.push({
        location: { id, name: `${pick(FIELD_NAMES, random)} ${j + 1}`, customer_id: customer.id, code: `L${id}` },
        latitude: farmLatitude + (random() - 0.5) * 0.05,
        longitude: farmLongitude + (random() - 0.5) * 0.05,
      });
    }
  }
  return sites;
}

/** The probe models sold, with how often each appears in a generated account. */
const MODELS = [
  { sku: 'ST-MULTI-60', depths: [15, 30, 45, 60], share: 0.5, siShare: 0 },
  { sku: 'ST-MULTI-30', depths: [10, 20, 30], share: 0.2, siShare: 0 },
  { sku: 'ST-SINGLE-15', depths: [15], share: 0.15, siShare: 0.6 },
  { sku: 'ST-SINGLE-30', depths: [30], share: 0.15, siShare: 0.6 },
];
const SOILS = ['SAND', 'LOAMY_SAND', 'SANDY_LOAM', 'LOAM', 'SILT_LOAM', 'CLAY_LOAM', 'CLAY', 'PEAT'];
const INSTALL_START = Date.UTC(2023, 0, 1);
const INSTALL_SPAN_MINUTES = 540 * 24 * 60; // installed over 2023 and the first half of 2024

function generateProbes(count: number, customers: Customer[], sites: Site[], random: () => number): FixtureProbe[] {
  const probes: FixtureProbe[] = [];
  for (let i = 0; i < count; i++) {
    const customer = customers[i % customers.length];
    if (!customer) throw new Error('cannot generate probes for an account without customers');
    probes.push(generateProbe(FIRST_PROBE_ID + i, customer, sitesOf(customer, sites, customers.length), random));
  }
  return probes;
}

/** Sites are generated customer by customer, so a customer's sites are one contiguous slice. */
function sitesOf(customer: Customer, sites: Site[], customerCount: number): Site[] {
  const perCustomer = sites.length / customerCount;
  const start = (customer.id - FIRST_CUSTOMER_ID) * perCustomer;
  return sites.slice(start, start + perCustomer);
}

function generateProbe(id: number, customer: Customer, sites: Site[], random: () => number): FixtureProbe {
  const model = pickModel(random());
  const site = sites.length > 0 && random() < 0.9 ? pick(sites, random) : undefined; // some probes have no location
  const serial = String(SERIAL_BASE + id);
  const rssi = -75 - Math.floor(random() * 45);
  const probe: FixtureProbe = {
    id,
    serial,
    sku: model.sku,
    state: 'ACTIVE',
    customer_id: customer.id,
    // A probe without a location has no location_id, latitude or longitude at all, as on the service.
    ...(site
      ? {
          location_id: site.location.id,
          latitude: round6(site.latitude + (random() - 0.5) * 0.008),
          longitude: round6(site.longitude + (random() - 0.5) * 0.008),
        }
      : {}),
    soil_profile: generateSoilProfile(random),
    kind: random() < model.siShare ? 'SI' : 'MOISTURE',
    depths: model.depths.slice(),
    interval: random() < 0.1 ? 30 : 60,
    installed_at: new Date(INSTALL_START + Math.floor(random() * INSTALL_SPAN_MINUTES) * 60_000).toISOString(),
    battery: pickBattery(random()),
    rssi,
    connectivity: rssi > -100 ? 'GOOD' : rssi > -110 ? 'FAIR' : 'POOR',
  };
  // About one probe in ten was never named: the service then shows its serial.
  if (random() < 0.9)
    probe.name = site ? `${site.location.name} probe ${1 + Math.floor(random() * 20)}` : `Probe ${id}`;
  return probe;
}

function pickModel(r: number): (typeof MODELS)[number] {
  let sum = 0;
  for (const model of MODELS) {
    sum += model.share;
    if (r < sum) return model;
  }
  return MODELS[0]!; // MODELS is a non-empty constant
}

function pickBattery(r: number): 'NORMAL' | 'FAIR' | 'POOR' {
  return r < 0.8 ? 'NORMAL' : r < 0.95 ? 'FAIR' : 'POOR';
}

/** One to three layers; the top layer starts at 0 so every depth has a soil. */
function generateSoilProfile(random: () => number): SoilLayer[] {
  const profile: SoilLayer[] = [{ depth: 0, soil: pick(SOILS, random) }];
  if (random() < 0.4) profile.push({ depth: 30, soil: pick(SOILS, random) });
  if (profile.length === 2 && random() < 0.35) profile.push({ depth: 50, soil: pick(SOILS, random) });
  return profile;
}

function round6(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
