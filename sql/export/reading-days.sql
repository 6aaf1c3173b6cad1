-- The readings of each day (UTC), as the Parquet files hold them, with what changes when the day does: readings
-- are only ever added, each with the time it was received, so a day that gained or lost readings since the last
-- publish has a different count or a later last_received (reading the two columns, not the rows).
SELECT CAST(CAST(ts AS DATE) AS VARCHAR) AS day, count(*) AS row_count, CAST(max(received_at) AS VARCHAR) AS last_received
FROM readings
GROUP BY ALL
ORDER BY day
