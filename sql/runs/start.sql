-- Records that a run has started. Params: $run_id, $job, $trigger, $started_at
INSERT INTO sync_runs (run_id, job, trigger, started_at, status)
VALUES ($run_id, $job, $trigger, $started_at, 'running')
