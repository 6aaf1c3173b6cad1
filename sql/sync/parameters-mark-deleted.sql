-- Marks non-SOIL parameters missing from a run's staged list as deleted. Params: $run_id, $at
UPDATE parameters t
SET deleted_at = $at, updated_at = $at
WHERE t.deleted_at IS NULL
  AND NOT EXISTS (
    SELECT 1 FROM stage_parameters s WHERE s.run_id = $run_id AND s.type = t.type AND s.key = t.key
  )
