-- Writes readings of the snapshot as Parquet, partitioned by year and month of ts (UTC), with the partition
-- columns also written inside the files (so a single file read on its own still has them): all of them, or only
-- the months that changed since the last publish (the others are reused).
-- Splices: {{snapshot}}, {{path}}, {{months}} a condition on ts (TRUE for all), and {{compression}}:
-- EXPORT_PARQUET_COMPRESSION, one of config.ts's PARQUET_COMPRESSIONS, as a string literal.
COPY (
  SELECT *, CAST(year(ts) AS INTEGER) AS year, CAST(month(ts) AS INTEGER) AS month
  FROM {{snapshot}}.readings
  WHERE {{months}}
) TO {{path}} (FORMAT parquet, COMPRESSION {{compression}}, PARTITION_BY (year, month), WRITE_PARTITION_COLUMNS true)
