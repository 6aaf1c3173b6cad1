-- The days (UTC, 'YYYY-MM-DD') a run's staged readings fall on: what batch-match.sql reads of the stored readings.
-- Params: $run_id
SELECT DISTINCT CAST(DATE '1970-01-01' + CAST(floor(epoch_us(ts) / 86400000000) AS INTEGER) AS VARCHAR) AS day
FROM stage_readings
WHERE run_id = $run_id
