-- The readings of each day (UTC), as the Parquet files hold them, with what changes when the day does: readings
-- are only ever added, each with the time it was received, so a day that gained or lost readings since the last
-- publish has a different count or a later last_received (reading the two columns, not the rows). The day is
-- counted from the epoch in whole days of 86,400 s: arithmetic per row, no calendar (UTC has no other days).
SELECT CAST(DATE '1970-01-01' + CAST(day_number AS INTEGER) AS VARCHAR) AS day, row_count, last_received
FROM (
  SELECT CAST(floor(epoch_us(ts) / 86400000000) AS BIGINT) AS day_number, count(*) AS row_count,
         CAST(max(received_at) AS VARCHAR) AS last_received
  FROM readings
  GROUP BY ALL
)
ORDER BY day
