-- Rolls the dirty days up again from readings: per probe, type, depth and local day, the day being local to the
-- probe version in effect at each reading (REPORT_TZ for a probe without coordinates, or not yet synced).
-- Expected readings follow from the measuring interval that held on that day (the version in effect at the day's
-- last reading) and the day's length (23 or 25 hours on a daylight-saving day). Needs dirty_days.
-- Splices: {{readings}} the readings (serial, type, depth_cm, ts, value) of the UTC days from the day before each
-- dirty day to the day after it (a local day lies within those), a scan per range of days (days.ts, daysScan): only
-- they are read, whatever the size of readings, and of them only
-- a probe's own: its dirty days in runs (days less than 3 apart in one run, so that the runs' windows, a day wider
-- either side, never overlap and no reading is counted twice), each read from the day before to the day after (a
-- late reading of one probe rolls up its day and today's, not the months between, nor everyone's late day).
-- A reading's local day comes from its zone's offset from UTC, looked up once per zone and minute of UTC (offsets
-- change on whole minutes: checked against every zone of the icu extension, 2000-2030; quarter hours would not do,
-- Newfoundland and New Brunswick switched at 00:01 until 2011) rather than per reading: timezone() with a zone that
-- varies from row to row costs microseconds a call, and a refresh reads days of readings.
INSERT INTO daily_rollup
WITH runs AS (
  SELECT serial, day, sum(CASE WHEN day - previous < 3 THEN 0 ELSE 1 END) OVER (PARTITION BY serial ORDER BY day) AS run
  FROM (SELECT serial, day, lag(day) OVER (PARTITION BY serial ORDER BY day) AS previous FROM dirty_days)
),
spans AS (
  SELECT serial, min(day) - 1 AS first_day, max(day) + 2 AS end_day FROM runs GROUP BY serial, run
),
report AS (
  SELECT coalesce((SELECT max(value) FROM warehouse_settings WHERE key = 'report_tz'), 'UTC') AS time_zone
),
located AS (
  SELECT r.serial, r.type, r.depth_cm, r.ts, r.value, coalesce(h.time_zone, report.time_zone) AS time_zone,
         h.interval_minutes, to_timestamp(floor(epoch(r.ts) / 60) * 60) AS minute
  FROM {{readings}} r
  JOIN spans s ON s.serial = r.serial AND r.ts >= CAST(s.first_day AS TIMESTAMPTZ) AND r.ts < CAST(s.end_day AS TIMESTAMPTZ)
  CROSS JOIN report
  LEFT JOIN probe_history h ON h.serial = r.serial AND r.ts >= h.valid_from AND r.ts < h.valid_to
),
offsets AS (
  SELECT time_zone, minute, timezone(time_zone, minute) - timezone('UTC', minute) AS utc_offset
  FROM (SELECT DISTINCT time_zone, minute FROM located)
),
local AS (
  SELECT l.*, CAST(timezone('UTC', l.ts) + o.utc_offset AS DATE) AS day
  FROM located l
  JOIN offsets o ON o.time_zone = l.time_zone AND o.minute = l.minute
),
rolled AS (
  SELECT
    l.serial, l.type, l.depth_cm, l.day, max(l.time_zone) AS time_zone,
    min(l.value) AS min_value, max(l.value) AS max_value, avg(l.value) AS mean_value,
    arg_max(l.value, l.ts) AS last_value, max(l.ts) AS last_ts, count(*) AS readings,
    arg_max(l.interval_minutes, l.ts) AS interval_minutes
  FROM local l
  GROUP BY l.serial, l.type, l.depth_cm, l.day
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
