/**
 * Calls that change things at Sensoterra. Their paths and bodies are [assumed] in the public contract, so they
 * all live here: when the real ones are known, this is the one file to change.
 */
import type { SensoterraHttp } from './http.js';
import type { Element } from './paging.js';
import { customerSchema, parseElement, probeSchema, tokenSchema, type ApiCustomer, type ApiProbe } from './schemas.js';

export interface ProbeChanges {
  name?: string;
  soil_profile?: { depth: number; soil: string }[];
  latitude?: number | null;
  longitude?: number | null;
  location_id?: number | null;
}

export interface ProbeRegistration extends ProbeChanges {
  serial: string;
  customer_id?: number;
}

export class ManagementApi {
  constructor(private readonly http: SensoterraHttp) {}

  /** The registered probe, parsed and as answered (raw). */
  async registerProbe(registration: ProbeRegistration, signal?: AbortSignal): Promise<Element<ApiProbe>> {
    const raw = await this.http.json('POST', '/probe', { body: registration, signal });
    return { value: parseElement(probeSchema, raw, 'POST /probe', ''), raw };
  }

  /** The changed probe, parsed and as answered (raw). */
  async updateProbe(probeId: number, changes: ProbeChanges, signal?: AbortSignal): Promise<Element<ApiProbe>> {
    const path = `/probe/${probeId}`;
    const raw = await this.http.json('PUT', path, { body: changes, signal });
    return { value: parseElement(probeSchema, raw, `PUT ${path}`, ''), raw };
  }

  async transferProbe(
    probeId: number,
    toCustomerId: number,
    keepSensorData: boolean,
    signal?: AbortSignal,
  ): Promise<void> {
    await this.http.json('PUT', `/probe/${probeId}/transfer`, {
      body: { to_customer_id: toCustomerId, keep_sensordata: keepSensorData },
      signal,
    });
  }

  async createCustomer(customer: { name: string; email: string }, signal?: AbortSignal): Promise<ApiCustomer> {
    const body = await this.http.json('POST', '/customer', { body: customer, signal });
    return parseElement(customerSchema, body, 'POST /customer', '');
  }

  /** A long-lived token [known]: `expiration` is ISO-8601 with an offset. */
  async createToken(
    request: { tag: string; scope: string; expiration: string },
    signal?: AbortSignal,
  ): Promise<string> {
    const body = await this.http.json('POST', '/token', { body: request, signal });
    return parseElement(tokenSchema, body, 'POST /token', '').token;
  }
}
