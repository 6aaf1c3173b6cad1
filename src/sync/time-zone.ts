/**
 * The time zone a probe stands in, for its local days: an override (TIME_ZONE_OVERRIDES, by serial or by
 * location), else looked up offline from its coordinates (@photostructure/tz-lookup, no network), else null,
 * which the views read as REPORT_TZ.
 */
import tzlookup from '@photostructure/tz-lookup';
import type { Config } from '../config.js';

export interface Located {
  serial: string;
  location_id?: number | null;
  latitude?: number | null;
  longitude?: number | null;
}

export function probeTimeZone(probe: Located, overrides: Config['timeZoneOverrides']): string | null {
  const bySerial = overrides.serials[probe.serial];
  if (bySerial) return bySerial;
  const byLocation = probe.location_id == null ? undefined : overrides.locations[String(probe.location_id)];
  if (byLocation) return byLocation;
  return lookUp(probe.latitude, probe.longitude);
}

function lookUp(latitude: number | null | undefined, longitude: number | null | undefined): string | null {
  if (latitude == null || longitude == null) return null;
  try {
    return tzlookup(latitude, longitude);
  } catch {
    return null; // coordinates outside -90..90 / -180..180: no zone rather than a wrong one
  }
}
