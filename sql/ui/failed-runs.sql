-- The web page's service: the latest failed runs, newest first, with their errors.
SELECT job, trigger, started_at, duration_ms, error
FROM sync_runs
WHERE status = 'failed'
ORDER BY started_at DESC
LIMIT 20
