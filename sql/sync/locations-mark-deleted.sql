-- Marks locations missing from a run's staged list as deleted. Params: $run_id, $at
UPDATE locations
SET deleted_at = $at, updated_at = $at
WHERE deleted_at IS NULL AND id NOT IN (SELECT id FROM stage_locations WHERE run_id = $run_id)
