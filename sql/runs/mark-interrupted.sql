-- Runs still 'running' when a process opens the warehouse read-write were cut short: the process that ran them was
-- killed or crashed (only one process holds the file, so none of them can still be going). Params: $finished_at
UPDATE sync_runs
SET status = 'interrupted', finished_at = $finished_at,
    duration_ms = CAST(epoch_ms($finished_at) - epoch_ms(started_at) AS BIGINT),
    error = 'interrupted: the process running it stopped before it finished (killed, crashed or lost its storage)'
WHERE status = 'running'
