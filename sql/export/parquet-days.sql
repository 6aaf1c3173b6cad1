-- Writes a table of the snapshot kept as a file a day (export.ts, DAY_FILES: readings by the UTC day of ts,
-- readings_daily by its own day, probe_status by the UTC day of last_update) as Parquet, one folder per day
-- (day_number=N, days since 1970-01-01) that export.ts moves into place as <table>/year=YYYY/month=M/YYYY-MM-DD.parquet:
-- a few weeks of days at a time, all of them or only the days that changed since the last publish (the others are
-- reused). The files carry year and month of that day as columns too, so that a file read on its own still has its
-- partition's values; the day number it was partitioned by is not written into them.
-- Splices: {{snapshot}}, {{table}}, {{day}} the row's day as a DATE, {{days}} a condition selecting the days,
-- {{path}}, and {{compression}}: EXPORT_PARQUET_COMPRESSION, one of config.ts's PARQUET_COMPRESSIONS, as a literal.
COPY (
  SELECT *, CAST(year({{day}}) AS INTEGER) AS year, CAST(month({{day}}) AS INTEGER) AS month,
         CAST({{day}} - DATE '1970-01-01' AS BIGINT) AS day_number
  FROM {{snapshot}}.{{table}}
  WHERE {{days}}
) TO {{path}} (FORMAT parquet, COMPRESSION {{compression}}, PARTITION_BY (day_number), WRITE_PARTITION_COLUMNS false)
