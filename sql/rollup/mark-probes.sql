-- Marks for a new daily rollup the readings of every probe whose rollup would now come out differently: a new probe
-- (its readings were rolled up on REPORT_TZ's days and the default interval), a new time zone (its readings may fall
-- on other local days), a new measuring interval (the expected counts change). A rename, a customer move, a new
-- location name or soil calibration changes nothing the rollup holds (readings_daily joins those at query time):
-- nothing is marked for them. Only the days the change reaches are marked: those from the start of the current
-- version (which the change ends, or whose time zone it updates); the days of earlier versions keep theirs.
-- Needs desired_probes; runs before probes-update.sql and the history updates.
INSERT INTO rollup_dirty (serial, from_ts, to_ts)
SELECT r.serial, min(r.ts), max(r.ts)
FROM readings r
JOIN (
  SELECT d.serial, coalesce(max(h.valid_from), '-infinity'::TIMESTAMPTZ) AS since
  FROM desired_probes d
  LEFT JOIN probes p USING (serial)
  LEFT JOIN probe_history h ON h.serial = d.serial AND h.valid_to = 'infinity'::TIMESTAMPTZ AND p.serial IS NOT NULL
  WHERE p.serial IS NULL OR p.time_zone IS DISTINCT FROM d.time_zone OR p.interval_minutes IS DISTINCT FROM d.interval_minutes
  GROUP BY d.serial
) changed ON changed.serial = r.serial AND r.ts >= changed.since
GROUP BY r.serial
