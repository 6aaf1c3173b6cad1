-- Marks customers missing from a run's staged list as deleted. Params: $run_id, $at
UPDATE customers
SET deleted_at = $at, updated_at = $at
WHERE deleted_at IS NULL AND id NOT IN (SELECT id FROM stage_customers WHERE run_id = $run_id)
