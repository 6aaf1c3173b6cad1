-- Drops everything a run staged, whether it was applied or failed. Params: $run_id
DELETE FROM {{stage}} WHERE run_id = $run_id
