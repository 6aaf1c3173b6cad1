-- probe_latest as Parquet, built on the previous version's file instead of every reading: readings are only ever
-- added, and every reading added since that version is in a day that changed, so the latest reading of each
-- series (probe, type, depth) is the latest of the previous file's and of the changed days'. The probe's columns
-- are joined as they are now. Same columns, types and rows as sql/views/probe_latest.sql over the snapshot
-- (test/export-incremental.test.ts compares the two).
-- Splices: {{previous}} the previous version's probe_latest.parquet, {{snapshot}}, {{days}} a condition on ts
-- selecting the changed days, {{path}}, {{compression}}.
COPY (
  WITH series AS (
    SELECT serial, type, depth_cm, max(ts) AS ts, arg_max(value, ts) AS value, arg_max(unit, ts) AS unit
    FROM (
      SELECT serial, type, depth_cm, ts, value, unit FROM read_parquet({{previous}})
      UNION ALL
      SELECT serial, type, depth_cm, ts, value, unit FROM {{snapshot}}.readings WHERE {{days}}
    )
    GROUP BY serial, type, depth_cm
  )
  SELECT s.serial, p.name AS probe_name, p.customer_id, p.location_id, s.type, s.depth_cm, s.ts, s.value, s.unit
  FROM series s
  LEFT JOIN {{snapshot}}.probes p ON p.serial = s.serial
) TO {{path}} (FORMAT parquet, COMPRESSION {{compression}})
