-- Marks soil types missing from the parameter list as deleted (kept, with when). Params: $at
UPDATE soil_types
SET deleted_at = $at, updated_at = $at
WHERE deleted_at IS NULL AND key NOT IN (SELECT key FROM desired_soil_types)
