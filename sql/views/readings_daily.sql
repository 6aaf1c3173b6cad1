-- readings_daily: per probe, depth, type and local day (the day where the probe stood; REPORT_TZ without
-- coordinates): min, max, mean, last, the count and the count expected from the measuring interval (23 or 25
-- hours on daylight-saving days), coverage, and where the day stood against the soil's water thresholds
-- (moisture against the soil at that depth, SI against the SI zones; NULL where no threshold is known).
CREATE OR REPLACE VIEW readings_daily AS
SELECT
  d.serial,
  p.name AS probe_name,
  h.customer_id,
  h.location_id,
  d.type,
  d.depth_cm,
  d.day,
  d.time_zone,
  d.min_value,
  d.max_value,
  d.mean_value,
  d.last_value,
  d.readings,
  d.expected_readings,
  d.day_hours,
  round(least(d.readings / greatest(d.expected_readings, 1), 1), 4) AS coverage,
  sl.soil_key,
  CASE
    WHEN t.soil_key IS NULL THEN NULL
    WHEN d.mean_value < t.wilting_point_pct THEN 'below wilting point'
    WHEN d.mean_value < t.refill_pct THEN 'below refill'
    WHEN d.mean_value <= t.field_capacity_pct THEN 'available'
    ELSE 'above field capacity'
  END AS water_status
FROM daily_rollup d
LEFT JOIN probes p ON p.serial = d.serial
LEFT JOIN probe_history h
  ON h.serial = d.serial AND d.last_ts >= h.valid_from AND d.last_ts < h.valid_to
LEFT JOIN probe_soil_layers sl
  ON sl.version_id = h.version_id AND d.depth_cm >= sl.depth_from_cm AND d.depth_cm < sl.depth_to_cm
LEFT JOIN soil_thresholds t
  ON t.soil_key = CASE d.type WHEN 'MOISTURE' THEN sl.soil_key WHEN 'SI' THEN 'SI' END
