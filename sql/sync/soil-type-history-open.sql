-- Opens a version for every new soil type (from -infinity) and every changed one (from $at).
-- Params: $at, $run_id. Runs before soil-types-merge.
INSERT INTO soil_type_history (key, name, version_hash, valid_from, run_id)
SELECT d.key, d.name, d.version_hash, CASE WHEN t.key IS NULL THEN '-infinity'::TIMESTAMPTZ ELSE $at END, $run_id
FROM desired_soil_types d
LEFT JOIN soil_types t USING (key)
WHERE t.key IS NULL OR t.version_hash <> d.version_hash
