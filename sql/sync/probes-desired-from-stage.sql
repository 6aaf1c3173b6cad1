-- The probes of a run's staged snapshot as they should be: one row per serial, the customer taken from the
-- probe itself or, when the API gives none, from the reseller's mapping, and the hash of the tracked fields.
-- The JSON as received is not copied: it stays in stage_probes, where stage_row points (probes-update.sql and
-- probes-insert.sql take it from there), and raw_md5 stands for it in comparisons. A copy was most of what a large
-- pull held in memory (100,000 probes: 230 MB; BENCHMARKS.md, pull-scale), and so is the window's if it carries
-- every column: the first row of each serial is chosen on the narrow columns alone.
-- A probe whose current version starts after $at was changed after this snapshot began (a command, a sync that
-- started later and finished first): what this snapshot read of it may be older, so it is left out.
-- Params: $run_id, $at
CREATE OR REPLACE TEMP TABLE desired_probes AS
WITH chosen AS (
  SELECT rowid AS stage_row FROM stage_probes
  WHERE run_id = $run_id
  QUALIFY row_number() OVER (PARTITION BY serial ORDER BY probe_id) = 1
),
staged AS (
  SELECT s.* EXCLUDE (raw), md5(CAST(s.raw AS VARCHAR)) AS raw_md5, s.rowid AS stage_row FROM stage_probes s
  WHERE s.run_id = $run_id AND s.rowid IN (SELECT stage_row FROM chosen)
),
mapping AS (
  SELECT serial, min(customer_id) AS customer_id FROM customer_probes GROUP BY serial
)
SELECT
  s.* EXCLUDE (run_id, customer_id),
  coalesce(s.customer_id, m.customer_id) AS customer_id,
  probe_version_hash(s.name, s.location_id, s.latitude, s.longitude, coalesce(s.customer_id, m.customer_id), s.soil_profile, s.interval_minutes) AS version_hash
FROM staged s
LEFT JOIN mapping m USING (serial)
WHERE NOT EXISTS (
  SELECT 1 FROM probe_history h WHERE h.serial = s.serial AND h.valid_to = 'infinity'::TIMESTAMPTZ AND h.valid_from > $at
)
ORDER BY s.serial -- appended by one thread: a parallel insert held the table twice until the commit
