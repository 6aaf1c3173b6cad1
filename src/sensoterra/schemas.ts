/**
 * The shapes the Sensoterra API answers, as far as the public contract shows them (shared/docs/sensoterra-api.md).
 * Tolerant on purpose: numeric strings become numbers, timestamps may be null, fields the contract marks optional
 * may be missing or null (the service leaves them out; older answers and other tools send null), and unknown
 * fields pass through (the caller also keeps each element's raw JSON).
 * A value that breaks the contract fails with the endpoint and the field's path.
 *
 * Readings (a probe's status.last_readings, historic readings) are not judged here but by toReading
 * (src/readings/reading.ts), the rules every source shares: one bad reading is skipped with its reason, it does not
 * fail the probe or the page it came with.
 */
import { z } from 'zod';
import { ContractError } from '../errors.js';
import { parseInstant } from '../time.js';

const NUMERIC_TEXT = /^\s*-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;

/** A number, or a string holding one ("6.3"). */
const numeric = z.union(
  [z.number().refine(Number.isFinite, 'must be a finite number'), z.string().regex(NUMERIC_TEXT).transform(Number)],
  { error: 'must be a number or a numeric string' },
);

/** An ISO-8601 timestamp (UTC without an offset, src/time.ts), normalised to a Date. */
const timestamp = z.string().transform((s, ctx) => {
  const parsed = parseInstant(s);
  if (parsed instanceof Date) return parsed;
  ctx.addIssue({ code: 'custom', message: `must be an ISO-8601 timestamp: ${parsed.reason}` });
  return z.NEVER;
});

const text = z.string();
/** Ids appear as numbers; tolerate numeric strings. */
const id = z.union([z.number().int(), z.string().regex(/^\d+$/).transform(Number)], {
  error: 'must be a whole number id',
});

const soilLayerSchema = z.looseObject({ depth: numeric, soil: text });

export const probeSchema = z.looseObject({
  id,
  serial: z.union([text.min(1), z.number().int().transform(String)]),
  name: text.nullish(),
  sku: text.nullish(),
  state: text.nullish(),
  location_id: id.nullish(),
  latitude: numeric.nullish(),
  longitude: numeric.nullish(),
  customer_id: id.nullish(),
  interval: numeric.nullish(),
  unit: text.nullish(),
  dev_eui: text.nullish(),
  soil_profile: z.array(soilLayerSchema).nullish(),
  status: z
    .looseObject({
      last_update: timestamp.nullish(),
      battery: text.nullish(),
      rssi: numeric.nullish(),
      connectivity: text.nullish(),
      last_readings: z.array(z.unknown()).nullish(), // each judged by toReading
    })
    .nullish(),
});

export const locationSchema = z.looseObject({
  id,
  name: text.nullish(),
  customer_id: id.nullish(),
  code: z.union([text, z.number().transform(String)]).nullish(),
});

export const parameterSchema = z.looseObject({ key: text.min(1), name: text.nullish(), type: text.min(1) });

export const customerSchema = z.looseObject({ id, name: text.nullish(), email: text.nullish() });

/** `{timestamp, height, unit, value}`, judged by toReading (src/sync/historic.ts). */
export const historicReadingSchema = z.unknown();

export const loginSchema = z.looseObject({
  api_key: text.min(1),
  id: id.nullish(),
  email: text.nullish(),
  role: text.nullish(),
});
export const tokenSchema = z.looseObject({ token: text.min(1) });

export type ApiProbe = z.infer<typeof probeSchema>;
export type ApiLocation = z.infer<typeof locationSchema>;
export type ApiParameter = z.infer<typeof parameterSchema>;
export type ApiCustomer = z.infer<typeof customerSchema>;
export type ApiHistoricReading = z.infer<typeof historicReadingSchema>;

/** Validates one element; a failure names the endpoint and the field, e.g. `GET /probe: field "[12].status.rssi" ...`. */
export function parseElement<S extends z.ZodType>(
  schema: S,
  value: unknown,
  endpoint: string,
  where: string,
): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = [where, ...issue.path.map(String)].filter((x) => x !== '').join('.');
  throw new ContractError(endpoint, field || '(body)', issue.message, { retryable: false });
}
