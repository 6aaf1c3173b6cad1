-- The SOIL parameters of a run's staged parameter list, one row per key, with the hash of what they say; a soil
-- type whose current version starts after $at (a sync that began later finished first) is left out.
-- Params: $run_id, $at
CREATE OR REPLACE TEMP TABLE desired_soil_types AS
SELECT s.key, s.name, s.raw, md5(CAST(s.raw AS VARCHAR)) AS version_hash
FROM stage_parameters s
WHERE s.run_id = $run_id AND s.type = 'SOIL'
  AND NOT EXISTS (
    SELECT 1 FROM soil_type_history h WHERE h.key = s.key AND h.valid_to = 'infinity'::TIMESTAMPTZ AND h.valid_from > $at
  )
QUALIFY row_number() OVER (PARTITION BY s.key ORDER BY s.name) = 1
