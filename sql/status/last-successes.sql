-- When each job last succeeded: the metrics' sensoterra_job_last_success_timestamp_seconds at the worker's start.
-- No params.
SELECT job, max(finished_at) AS finished_at
FROM sync_runs
WHERE status = 'succeeded'
GROUP BY job
