-- Applies the non-SOIL rows of a run's staged parameter list to parameters, keyed by (type, key): new ones
-- inserted, changed or returning ones updated, the rest untouched. Params: $run_id, $at, $language
MERGE INTO parameters t
USING (
  SELECT type, key, name, raw, md5(CAST(raw AS VARCHAR)) AS version_hash
  FROM stage_parameters
  WHERE run_id = $run_id AND type <> 'SOIL'
  QUALIFY row_number() OVER (PARTITION BY type, key ORDER BY name) = 1
) d
ON t.type = d.type AND t.key = d.key
WHEN MATCHED AND (t.version_hash <> d.version_hash OR t.deleted_at IS NOT NULL) THEN UPDATE SET
  name = d.name, language = $language, raw = d.raw, version_hash = d.version_hash, updated_at = $at, deleted_at = NULL
WHEN NOT MATCHED THEN INSERT (type, key, name, language, raw, version_hash, first_seen_at, updated_at)
  VALUES (d.type, d.key, d.name, $language, d.raw, d.version_hash, $at, $at)
RETURNING merge_action
