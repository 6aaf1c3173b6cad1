-- Rolls the dirty days up again from readings: per probe, type, depth and local day, the day being local to the
-- probe version in effect at each reading (REPORT_TZ for a probe without coordinates, or not yet synced).
-- Expected readings follow from the measuring interval that held on that day (the version in effect at the day's
-- last reading) and the day's length (23 or 25 hours on a daylight-saving day). Needs dirty_days.
INSERT INTO daily_rollup
WITH spans AS (
  SELECT serial, min(day) - 1 AS first_day, max(day) + 2 AS end_day FROM dirty_days GROUP BY serial
),
report AS (
  SELECT coalesce((SELECT max(value) FROM warehouse_settings WHERE key = 'report_tz'), 'UTC') AS time_zone
),
located AS (
  SELECT r.serial, r.type, r.depth_cm, r.ts, r.value, coalesce(h.time_zone, report.time_zone) AS time_zone, h.interval_minutes
  FROM readings r
  JOIN spans s ON s.serial = r.serial AND r.ts >= CAST(s.first_day AS TIMESTAMPTZ) AND r.ts < CAST(s.end_day AS TIMESTAMPTZ)
  CROSS JOIN report
  LEFT JOIN probe_history h ON h.serial = r.serial AND r.ts >= h.valid_from AND r.ts < h.valid_to
),
rolled AS (
  SELECT
    l.serial, l.type, l.depth_cm, CAST(timezone(l.time_zone, l.ts) AS DATE) AS day, max(l.time_zone) AS time_zone,
    min(l.value) AS min_value, max(l.value) AS max_value, avg(l.value) AS mean_value,
    arg_max(l.value, l.ts) AS last_value, max(l.ts) AS last_ts, count(*) AS readings,
    arg_max(l.interval_minutes, l.ts) AS interval_minutes
  FROM located l
  GROUP BY l.serial, l.type, l.depth_cm, CAST(timezone(l.time_zone, l.ts) AS DATE)
)
SELECT
  r.serial, r.type, r.depth_cm, r.day, r.time_zone, r.min_value, r.max_value, r.mean_value, r.last_value, r.last_ts,
  r.readings, hours.day_hours,
  CAST(round(hours.day_hours * 60 / coalesce(r.interval_minutes, p.interval_minutes, 60)) AS BIGINT) AS expected_readings
FROM rolled r
JOIN dirty_days d ON d.serial = r.serial AND d.day = r.day
LEFT JOIN probes p ON p.serial = r.serial
CROSS JOIN LATERAL (
  SELECT epoch(timezone(r.time_zone, CAST(r.day + 1 AS TIMESTAMP)) - timezone(r.time_zone, CAST(r.day AS TIMESTAMP))) / 3600 AS day_hours
) hours
