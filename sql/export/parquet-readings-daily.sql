-- Writes readings_daily of the snapshot as Parquet, one folder per day (the row's day: the probe's local day, as in
-- the view; day_number=N, days since 1970-01-01) that export.ts moves into place as
-- readings_daily/year=YYYY/month=M/YYYY-MM-DD.parquet: all of them, or only the days whose rollup rows changed
-- since the last publish, when nothing else the view reads did (the others are reused). Like the readings files,
-- the files carry year and month (of day) as columns too; the day folder's name is not written into them.
-- Splices: {{snapshot}}, {{path}}, {{days}} a condition on day (a few weeks of days at a time), and {{compression}}:
-- EXPORT_PARQUET_COMPRESSION, one of config.ts's PARQUET_COMPRESSIONS, as a string literal.
COPY (
  SELECT *, CAST(year(day) AS INTEGER) AS year, CAST(month(day) AS INTEGER) AS month,
         CAST(day - DATE '1970-01-01' AS BIGINT) AS day_number
  FROM {{snapshot}}.readings_daily
  WHERE {{days}}
) TO {{path}} (FORMAT parquet, COMPRESSION {{compression}}, PARTITION_BY (day_number), WRITE_PARTITION_COLUMNS false)
