-- The days (UTC, 'YYYY-MM-DD') of a run's staged statuses: what status-update.sql and status-insert.sql read of
-- the stored series. Params: $run_id
SELECT DISTINCT CAST(DATE '1970-01-01' + CAST(floor(epoch_us(last_update) / 86400000000) AS INTEGER) AS VARCHAR) AS day
FROM stage_status
WHERE run_id = $run_id
