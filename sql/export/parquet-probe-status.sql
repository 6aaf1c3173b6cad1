-- Writes probe_status of the snapshot (battery and RSSI, a row per uplink) as Parquet, one folder per day (UTC, of
-- last_update; day_number=N, days since 1970-01-01) that export.ts moves into place as
-- probe_status/year=YYYY/month=M/YYYY-MM-DD.parquet: all of them, or only the days that changed since the last
-- publish (the others are reused). Like the readings files, the files carry year and month (of last_update, UTC)
-- as columns too.
-- Splices: {{snapshot}}, {{path}}, {{days}} a condition on last_update, and {{compression}}: EXPORT_PARQUET_COMPRESSION,
-- one of config.ts's PARQUET_COMPRESSIONS, as a string literal.
COPY (
  SELECT *, CAST(year(last_update) AS INTEGER) AS year, CAST(month(last_update) AS INTEGER) AS month,
         CAST(floor(epoch_us(last_update) / 86400000000) AS BIGINT) AS day_number
  FROM {{snapshot}}.probe_status
  WHERE {{days}}
) TO {{path}} (FORMAT parquet, COMPRESSION {{compression}}, PARTITION_BY (day_number), WRITE_PARTITION_COLUMNS false)
