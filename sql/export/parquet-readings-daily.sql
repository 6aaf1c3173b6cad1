-- readings_daily as Parquet, built on the previous version's file: each of its rows is one daily rollup row with
-- what the probe, its history and the soil thresholds say of it, so when none of those changed, the rows of the
-- rollup days that did not change are the previous file's, and only the days that changed are computed again.
-- Same columns, types and rows as sql/views/readings_daily.sql over the snapshot (test/export-incremental.test.ts).
-- Splices: {{previous}} the previous version's readings_daily.parquet, {{snapshot}}, {{replaced}} the rollup days
-- changed or gone and {{changed}} those changed (lists of DATE literals), {{path}}, {{compression}}.
COPY (
  SELECT * FROM read_parquet({{previous}}) WHERE day NOT IN {{replaced}}
  UNION ALL
  SELECT * FROM {{snapshot}}.readings_daily WHERE day IN {{changed}}
) TO {{path}} (FORMAT parquet, COMPRESSION {{compression}})
