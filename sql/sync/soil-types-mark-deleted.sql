-- Marks soil types missing from a run's parameter list as deleted (kept, with when). Params: $at, $run_id
UPDATE soil_types
SET deleted_at = $at, updated_at = $at
WHERE deleted_at IS NULL AND key NOT IN (SELECT key FROM stage_parameters WHERE run_id = $run_id AND type = 'SOIL')
