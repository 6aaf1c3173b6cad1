-- Writes the readings of the snapshot as Parquet, partitioned by year and month of ts (UTC), with the partition
-- columns also written inside the files (so a single file read on its own still has them).
-- Splices: {{snapshot}}, {{path}}.
COPY (
  SELECT *, CAST(year(ts) AS INTEGER) AS year, CAST(month(ts) AS INTEGER) AS month FROM {{snapshot}}.readings
) TO {{path}} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (year, month), WRITE_PARTITION_COLUMNS true)
