-- Adds a batch's counts to the ingest run of its minute (one sync_runs row per minute of pushes, not per batch).
-- Params: $run_id, $at, $read, $inserted, $conflicts, $duplicates, $rejected, $pushes
MERGE INTO sync_runs t
USING (SELECT $run_id AS run_id) s
ON t.run_id = s.run_id
WHEN MATCHED THEN UPDATE SET
  finished_at = $at,
  duration_ms = CAST(epoch_ms(CAST($at AS TIMESTAMPTZ)) - epoch_ms(t.started_at) AS BIGINT),
  rows_read = t.rows_read + $read,
  rows_inserted = t.rows_inserted + $inserted,
  conflicts = t.conflicts + $conflicts,
  details = json_object(
    'batches', CAST(json_extract(t.details, '$.batches') AS BIGINT) + 1,
    'pushes', CAST(json_extract(t.details, '$.pushes') AS BIGINT) + $pushes,
    'duplicates', CAST(json_extract(t.details, '$.duplicates') AS BIGINT) + $duplicates,
    'rejected', CAST(json_extract(t.details, '$.rejected') AS BIGINT) + $rejected)
WHEN NOT MATCHED THEN INSERT
  (run_id, job, trigger, started_at, finished_at, status, rows_read, rows_inserted, conflicts, duration_ms, details)
VALUES
  ($run_id, 'ingest-pushes', 'push', $at, $at, 'succeeded', $read, $inserted, $conflicts, 0,
   json_object('batches', 1, 'pushes', $pushes, 'duplicates', $duplicates, 'rejected', $rejected))
