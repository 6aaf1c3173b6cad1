-- Writes one table of the snapshot as a Parquet file. Splices: {{snapshot}}, {{table}}, {{path}}.
COPY (SELECT * FROM {{snapshot}}.{{table}}) TO {{path}} (FORMAT parquet, COMPRESSION zstd)
