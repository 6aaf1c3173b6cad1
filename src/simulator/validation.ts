/**
 * Checks shared by the write routes and the change methods. Each returns a message naming the field and what would
 * be valid, or null when the value is fine, so the HTTP side can answer 400 with it and the methods can throw it.
 */
import type { SoilLayer } from './account.js';

export function checkSerial(serial: unknown): string | null {
  return typeof serial === 'string' && /^\d{11}$/.test(serial)
    ? null
    : `serial must be a string of 11 digits, got ${show(serial)}`;
}

export function checkLatitude(value: unknown): string | null {
  return checkCoordinate('latitude', value, 90);
}

export function checkLongitude(value: unknown): string | null {
  return checkCoordinate('longitude', value, 180);
}

function checkCoordinate(field: string, value: unknown, limit: number): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number' && Number.isFinite(value) && Math.abs(value) <= limit) return null;
  return `${field} must be a number between -${limit} and ${limit}, got ${show(value)}`;
}

/** A profile is a non-empty list of {depth, soil} with distinct depths 0..300 cm and soils from GET /parameter (type SOIL). */
export function checkSoilProfile(value: unknown, soilKeys: ReadonlySet<string>): string | null {
  if (!Array.isArray(value) || value.length === 0)
    return `soil_profile must be a non-empty array of {depth, soil}, got ${show(value)}`;
  const depths = new Set<number>();
  for (const [i, layer] of value.entries()) {
    const problem = checkSoilLayer(layer, soilKeys);
    if (problem) return `soil_profile[${i}]: ${problem}`;
    if (depths.has((layer as SoilLayer).depth))
      return `soil_profile[${i}]: depth ${(layer as SoilLayer).depth} appears twice`;
    depths.add((layer as SoilLayer).depth);
  }
  return null;
}

function checkSoilLayer(layer: unknown, soilKeys: ReadonlySet<string>): string | null {
  if (typeof layer !== 'object' || layer === null) return `expected {depth, soil}, got ${show(layer)}`;
  const { depth, soil } = layer as Record<string, unknown>;
  if (typeof depth !== 'number' || !Number.isInteger(depth) || depth < 0 || depth > 300) {
    return `depth must be a whole number of cm from 0 to 300, got ${show(depth)}`;
  }
  if (typeof soil !== 'string' || !soilKeys.has(soil)) {
    return `unknown soil ${show(soil)}; expected one of ${[...soilKeys].join(', ')} (GET /parameter, type SOIL)`;
  }
  return null;
}

export function checkName(field: string, value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' && value.length <= 200
    ? null
    : `${field} must be a non-empty string of at most 200 characters, got ${show(value)}`;
}

export function checkEmail(value: unknown): string | null {
  return typeof value === 'string' && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value)
    ? null
    : `email must be an e-mail address, got ${show(value)}`;
}

export function show(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) return String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
