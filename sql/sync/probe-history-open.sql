-- Opens a version for every new probe (from -infinity, so that older and backfilled readings find it) and for
-- every probe whose tracked fields change (from $at), each with the next version_id from id_counters, never one given
-- before (one writer: no two runs number at once; probe-version-counter.sql runs next). Params: $at, $changed_by,
-- $run_id. Needs desired_probes; runs before probes-update.sql.
INSERT INTO probe_history (serial, probe_id, name, location_id, latitude, longitude, customer_id, soil_profile,
                           time_zone, interval_minutes, version_hash, valid_from, changed_by, run_id, version_id, is_current)
SELECT
  d.serial, d.probe_id, d.name, d.location_id, d.latitude, d.longitude, d.customer_id, d.soil_profile,
  d.time_zone, d.interval_minutes, d.version_hash,
  CASE WHEN p.serial IS NULL THEN '-infinity'::TIMESTAMPTZ ELSE $at END,
  $changed_by, $run_id,
  (SELECT last FROM id_counters WHERE name = 'probe_version') + row_number() OVER (ORDER BY d.serial),
  true
FROM desired_probes d
LEFT JOIN probes p USING (serial)
WHERE p.serial IS NULL OR p.version_hash <> d.version_hash
