-- Writes readings of the snapshot as Parquet, one folder per day (UTC) that export.ts moves into place as
-- year=YYYY/month=M/YYYY-MM-DD.parquet: all of them, or only the days that changed since the last publish (the
-- others are reused). The files carry year and month (of ts, UTC) as columns too, so that a file read on its own
-- still has its partition's values; the day folder's name is not written into them.
-- Splices: {{snapshot}}, {{path}}, {{days}} a condition on ts (TRUE for all), and {{compression}}:
-- EXPORT_PARQUET_COMPRESSION, one of config.ts's PARQUET_COMPRESSIONS, as a string literal.
COPY (
  SELECT *, CAST(year(ts) AS INTEGER) AS year, CAST(month(ts) AS INTEGER) AS month,
         CAST(CAST(ts AS DATE) AS VARCHAR) AS day
  FROM {{snapshot}}.readings
  WHERE {{days}}
) TO {{path}} (FORMAT parquet, COMPRESSION {{compression}}, PARTITION_BY (day), WRITE_PARTITION_COLUMNS false)
