-- Matches the readings a run staged against what is stored, once: per staged row its rank among duplicates of
-- the same key in the batch (the first received wins), the value that stands for the key (stored, else the
-- batch's first), and whether the key is already stored. Stored readings are looked up only on the days the batch
-- has readings of: its cost follows the batch, not the table (late readings included: their day is read too).
-- Params: $run_id. Splices: {{stored}} the stored readings (serial, type, depth_cm, ts, value) on the batch's days
-- (UTC), a scan per range of days (days.ts, daysScan).
CREATE OR REPLACE TEMP TABLE batch_readings AS
WITH ranked AS (
  SELECT
    s.*,
    row_number() OVER by_key AS rank_in_batch,
    first_value(s.value) OVER by_key AS batch_first_value
  FROM stage_readings s
  WHERE s.run_id = $run_id
  WINDOW by_key AS (PARTITION BY s.serial, s.type, s.depth_cm, s.ts ORDER BY s.received_at, s.value)
)
SELECT
  b.*,
  r.value AS stored_value,
  r.serial IS NOT NULL AS already_stored
FROM ranked b
LEFT JOIN {{stored}} r
  ON r.serial = b.serial AND r.type = b.type AND r.depth_cm IS NOT DISTINCT FROM b.depth_cm AND r.ts = b.ts
