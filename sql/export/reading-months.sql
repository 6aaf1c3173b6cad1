-- The readings of each month (UTC), as the Parquet partitions hold them, with what changes when the month does:
-- readings are only ever added, each with the time it was received, so a month that gained or lost readings since
-- the last publish has a different count or a later last_received (reading the two columns, not the rows).
SELECT CAST(year(ts) AS INTEGER) AS year, CAST(month(ts) AS INTEGER) AS month, count(*) AS row_count,
       CAST(max(received_at) AS VARCHAR) AS last_received
FROM readings
GROUP BY ALL
ORDER BY year, month
