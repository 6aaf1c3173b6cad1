-- Brings soil_types to desired_soil_types: new ones inserted, changed or returning ones updated, the rest
-- untouched. Params: $at, $language
MERGE INTO soil_types t
USING desired_soil_types d
ON t.key = d.key
WHEN MATCHED AND (t.version_hash <> d.version_hash OR t.deleted_at IS NOT NULL) THEN UPDATE SET
  name = d.name, language = $language, raw = d.raw, version_hash = d.version_hash, updated_at = $at, deleted_at = NULL
WHEN NOT MATCHED THEN INSERT (key, name, language, raw, version_hash, first_seen_at, updated_at)
  VALUES (d.key, d.name, $language, d.raw, d.version_hash, $at, $at)
RETURNING merge_action
