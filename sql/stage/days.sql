-- The days (UTC, 'YYYY-MM-DD') a run's staged rows fall on, by one of their instants: what the writer reads of the
-- stored rows of that table (readings/batch-match.sql, ingest/status-*.sql), so that its cost follows the batch.
-- Params: $run_id. Splices: {{stage}} a stage table, {{day}} the UTC day of its instant as a DATE (days.ts, epochDay).
SELECT DISTINCT CAST({{day}} AS VARCHAR) AS day
FROM {{stage}}
WHERE run_id = $run_id
