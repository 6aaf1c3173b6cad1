-- The SOIL parameters of a run's staged parameter list, one row per key, with the hash of what they say.
-- Params: $run_id
CREATE OR REPLACE TEMP TABLE desired_soil_types AS
SELECT key, name, raw, md5(CAST(raw AS VARCHAR)) AS version_hash
FROM stage_parameters
WHERE run_id = $run_id AND type = 'SOIL'
QUALIFY row_number() OVER (PARTITION BY key ORDER BY name) = 1
