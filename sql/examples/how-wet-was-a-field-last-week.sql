-- How wet was a field at 30 cm last week, day by day, and under which soil calibration?
-- Change the field and the depth in `question`; days are local to where the probes stand.
WITH question AS (
  SELECT 'North field' AS field, 30 AS depth_cm, current_date - 7 AS first_day, current_date - 1 AS last_day
)
SELECT
  l.name AS field,
  d.probe_name,
  d.day,
  round(d.mean_value, 1) AS mean_moisture_pct,
  round(d.min_value, 1) AS min_pct,
  round(d.max_value, 1) AS max_pct,
  d.soil_key AS calibration,
  d.water_status,
  d.coverage
FROM readings_daily d
JOIN locations l ON l.id = d.location_id
CROSS JOIN question q
WHERE l.name = q.field AND d.type = 'MOISTURE' AND d.depth_cm = q.depth_cm AND d.day BETWEEN q.first_day AND q.last_day
ORDER BY d.probe_name, d.day
