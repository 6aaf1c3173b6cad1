-- Opens a version for every new probe (from -infinity, so that older and backfilled readings find it) and for
-- every probe whose tracked fields change (from $at). Params: $at, $changed_by, $run_id. Needs desired_probes;
-- runs before probes-merge.sql.
INSERT INTO probe_history (serial, probe_id, name, location_id, latitude, longitude, customer_id, soil_profile,
                           time_zone, version_hash, valid_from, changed_by, run_id)
SELECT
  d.serial, d.probe_id, d.name, d.location_id, d.latitude, d.longitude, d.customer_id, d.soil_profile,
  d.time_zone, d.version_hash,
  CASE WHEN p.serial IS NULL THEN '-infinity'::TIMESTAMPTZ ELSE $at END,
  $changed_by, $run_id
FROM desired_probes d
LEFT JOIN probes p USING (serial)
WHERE p.serial IS NULL OR p.version_hash <> d.version_hash
