-- Marks for a new daily rollup the readings of every probe whose rollup would now come out differently: a new probe
-- (its readings were rolled up on REPORT_TZ's days and the default interval), a new time zone (its readings may fall
-- on other local days), a new measuring interval (the expected counts change). A rename, a customer move, a new
-- location name or soil calibration changes nothing the rollup holds (readings_daily joins those at query time):
-- nothing is marked for them. Needs desired_probes; runs before probes-merge.sql.
INSERT INTO rollup_dirty (serial, from_ts, to_ts)
SELECT r.serial, min(r.ts), max(r.ts)
FROM readings r
WHERE r.serial IN (
  SELECT d.serial FROM desired_probes d LEFT JOIN probes p USING (serial)
  WHERE p.serial IS NULL OR p.time_zone IS DISTINCT FROM d.time_zone OR p.interval_minutes IS DISTINCT FROM d.interval_minutes
)
GROUP BY r.serial
