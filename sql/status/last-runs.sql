-- The latest run of every job, with its counts and how it ended. No params.
SELECT job, status, trigger, started_at, finished_at, duration_ms, rows_read, rows_inserted, rows_updated, rows_deleted, conflicts, error
FROM sync_runs
QUALIFY row_number() OVER (PARTITION BY job ORDER BY started_at DESC) = 1
ORDER BY job
