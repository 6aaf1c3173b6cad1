-- What is the latest moisture profile of every probe? One row per probe that measures moisture, one column per
-- depth (% water).
SELECT
  probe_name,
  max(ts) AS measured_at,
  round(max(value) FILTER (WHERE depth_cm = 10), 1) AS cm_10,
  round(max(value) FILTER (WHERE depth_cm = 15), 1) AS cm_15,
  round(max(value) FILTER (WHERE depth_cm = 20), 1) AS cm_20,
  round(max(value) FILTER (WHERE depth_cm = 30), 1) AS cm_30,
  round(max(value) FILTER (WHERE depth_cm = 45), 1) AS cm_45,
  round(max(value) FILTER (WHERE depth_cm = 60), 1) AS cm_60
FROM probe_latest
WHERE type = 'MOISTURE'
GROUP BY probe_name
ORDER BY probe_name
