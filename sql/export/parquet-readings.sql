-- Writes readings of the snapshot as Parquet, one folder per day (UTC; day_number=N, days since 1970-01-01, as in
-- reading-days.sql) that export.ts moves into place as
-- year=YYYY/month=M/YYYY-MM-DD.parquet: all of them, or only the days that changed since the last publish (the
-- others are reused). The files carry year and month (of ts, UTC) as columns too, so that a file read on its own
-- still has its partition's values; the day folder's name is not written into them.
-- Splices: {{snapshot}}, {{path}}, {{days}} a condition on ts (a few weeks of days at a time), and {{compression}}:
-- EXPORT_PARQUET_COMPRESSION, one of config.ts's PARQUET_COMPRESSIONS, as a string literal.
COPY (
  SELECT *, CAST(year(ts) AS INTEGER) AS year, CAST(month(ts) AS INTEGER) AS month,
         CAST(floor(epoch_us(ts) / 86400000000) AS BIGINT) AS day_number
  FROM {{snapshot}}.readings
  WHERE {{days}}
) TO {{path}} (FORMAT parquet, COMPRESSION {{compression}}, PARTITION_BY (day_number), WRITE_PARTITION_COLUMNS false)
