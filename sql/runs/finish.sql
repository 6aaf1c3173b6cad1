-- Records how a run ended, with its counts. Params: $run_id, $status, $finished_at, $rows_read, $rows_inserted,
-- $rows_updated, $rows_deleted, $conflicts, $error, $details
UPDATE sync_runs
SET status = $status, finished_at = $finished_at,
    duration_ms = CAST(epoch_ms($finished_at) - epoch_ms(started_at) AS BIGINT),
    rows_read = $rows_read, rows_inserted = $rows_inserted, rows_updated = $rows_updated,
    rows_deleted = $rows_deleted, conflicts = $conflicts, error = $error, details = $details
WHERE run_id = $run_id
