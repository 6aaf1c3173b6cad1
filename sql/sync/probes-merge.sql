-- Brings the current state of probes to desired_probes: new probes inserted; a probe whose data changed in any
-- way (tracked fields, status, raw JSON) or that comes back after being deleted is updated. An unchanged probe
-- is not touched, so a repeated sync leaves the table as it was. Params: $at
MERGE INTO probes p
USING desired_probes d
ON p.serial = d.serial
WHEN MATCHED AND (
  p.version_hash <> d.version_hash OR p.deleted_at IS NOT NULL
  OR CAST(p.raw AS VARCHAR) IS DISTINCT FROM CAST(d.raw AS VARCHAR) OR p.time_zone IS DISTINCT FROM d.time_zone
) THEN UPDATE SET
  probe_id = d.probe_id, name = d.name, sku = d.sku, state = d.state, location_id = d.location_id,
  latitude = d.latitude, longitude = d.longitude, customer_id = d.customer_id,
  interval_minutes = d.interval_minutes, unit = d.unit, dev_eui = d.dev_eui, soil_profile = d.soil_profile,
  battery = d.battery, rssi = d.rssi, connectivity = d.connectivity, last_update = d.last_update,
  version_hash = d.version_hash, raw = d.raw, time_zone = d.time_zone, updated_at = $at, deleted_at = NULL
WHEN NOT MATCHED THEN INSERT (
  serial, probe_id, name, sku, state, location_id, latitude, longitude, customer_id, interval_minutes, unit,
  dev_eui, soil_profile, battery, rssi, connectivity, last_update, version_hash, raw, time_zone, first_seen_at, updated_at
) VALUES (
  d.serial, d.probe_id, d.name, d.sku, d.state, d.location_id, d.latitude, d.longitude, d.customer_id,
  d.interval_minutes, d.unit, d.dev_eui, d.soil_profile, d.battery, d.rssi, d.connectivity, d.last_update,
  d.version_hash, d.raw, d.time_zone, $at, $at
)
