-- The new probes of desired_probes, second of two (after probes-update.sql), with the JSON as received from
-- stage_probes. In order of serial: the ordered insert is appended by one thread, where a parallel one held each
-- new row twice until the commit (100,000 new probes: 229 MB against 114). Run once per piece of desired_probes
-- (rows $from_row to $to_row, exclusive; snapshots.ts, inPieces): the join and the sort that carry each new probe's
-- JSON hold a piece's at a time, not the whole snapshot's. Params: $at, $from_row, $to_row
INSERT INTO probes (
  serial, probe_id, name, sku, state, location_id, latitude, longitude, customer_id, interval_minutes, unit,
  dev_eui, soil_profile, battery, rssi, connectivity, last_update, version_hash, raw, time_zone, first_seen_at, updated_at
)
SELECT
  d.serial, d.probe_id, d.name, d.sku, d.state, d.location_id, d.latitude, d.longitude, d.customer_id,
  d.interval_minutes, d.unit, d.dev_eui, d.soil_profile, d.battery, d.rssi, d.connectivity, d.last_update,
  d.version_hash, s.raw, d.time_zone, $at, $at
FROM desired_probes d
LEFT JOIN stage_probes s ON s.rowid = d.stage_row
WHERE d.rowid >= $from_row AND d.rowid < $to_row
  AND NOT EXISTS (SELECT 1 FROM probes p WHERE p.serial = d.serial)
ORDER BY d.serial
