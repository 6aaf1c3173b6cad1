-- Marks probes missing from a run's complete snapshot as deleted (kept, with when). Params: $at, $run_id
UPDATE probes
SET deleted_at = $at, updated_at = $at
WHERE deleted_at IS NULL AND serial NOT IN (SELECT serial FROM stage_probes WHERE run_id = $run_id)
