-- Brings the probes already stored to desired_probes, first of two (probes-insert.sql adds the new ones): a probe
-- whose data changed in any way (tracked fields, status, raw JSON) or that comes back after being deleted is
-- updated. An unchanged probe is not touched, so a repeated sync leaves the table as it was. The JSON as received
-- comes from stage_probes (desired_probes points to it: stage_row); a probe without one there (sync-customers'
-- mapping) keeps its own. Two statements rather than one MERGE: a MERGE held every new row twice until the commit
-- (100,000 new probes: 229 MB where INSERT holds 114; BENCHMARKS.md, pull-scale). Run once per piece of
-- desired_probes (rows $from_row to $to_row, exclusive; snapshots.ts, inPieces), as probes-insert.sql is.
-- Params: $at, $from_row, $to_row
UPDATE probes p SET
  probe_id = d.probe_id, name = d.name, sku = d.sku, state = d.state, location_id = d.location_id,
  latitude = d.latitude, longitude = d.longitude, customer_id = d.customer_id,
  interval_minutes = d.interval_minutes, unit = d.unit, dev_eui = d.dev_eui, soil_profile = d.soil_profile,
  battery = d.battery, rssi = d.rssi, connectivity = d.connectivity, last_update = d.last_update,
  version_hash = d.version_hash, raw = CASE WHEN d.stage_row IS NULL THEN p.raw ELSE d.raw END,
  time_zone = d.time_zone, updated_at = $at, deleted_at = NULL
FROM (
  SELECT d.*, s.raw FROM desired_probes d LEFT JOIN stage_probes s ON s.rowid = d.stage_row
  WHERE d.rowid >= $from_row AND d.rowid < $to_row
) d
WHERE p.serial = d.serial
  AND (
    p.version_hash <> d.version_hash OR p.deleted_at IS NOT NULL
    OR md5(CAST(p.raw AS VARCHAR)) IS DISTINCT FROM d.raw_md5 OR p.time_zone IS DISTINCT FROM d.time_zone
  )
