-- Applies a run's staged locations: new ones inserted, changed or returning ones updated, the rest untouched.
-- Params: $run_id, $at
MERGE INTO locations t
USING (
  SELECT id, name, customer_id, code, raw, md5(CAST(raw AS VARCHAR)) AS version_hash
  FROM stage_locations
  WHERE run_id = $run_id
  QUALIFY row_number() OVER (PARTITION BY id ORDER BY name) = 1
) d
ON t.id = d.id
WHEN MATCHED AND (t.version_hash <> d.version_hash OR t.deleted_at IS NOT NULL) THEN UPDATE SET
  name = d.name, customer_id = d.customer_id, code = d.code, raw = d.raw, version_hash = d.version_hash,
  updated_at = $at, deleted_at = NULL
WHEN NOT MATCHED THEN INSERT (id, name, customer_id, code, raw, version_hash, first_seen_at, updated_at)
  VALUES (d.id, d.name, d.customer_id, d.code, d.raw, d.version_hash, $at, $at)
RETURNING merge_action
