-- Writes one table of the snapshot as a Parquet file. Splices: {{snapshot}}, {{table}}, {{path}}, and
-- {{compression}}: EXPORT_PARQUET_COMPRESSION, one of config.ts's PARQUET_COMPRESSIONS, as a string literal.
COPY (SELECT * FROM {{snapshot}}.{{table}}) TO {{path}} (FORMAT parquet, COMPRESSION {{compression}})
