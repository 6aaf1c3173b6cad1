-- The web page's bands: for each depth the probe measures moisture at, the soil calibration in effect over
-- [$from, $to), piece by piece (a re-calibration starts a new piece at its time), with that soil's wilting point,
-- refill point and field capacity (soil_thresholds). Times in epoch milliseconds; ±infinity clipped to the range.
-- Params: $serial, $from, $to (TIMESTAMPTZ)
WITH depths AS (
  SELECT DISTINCT depth_cm FROM readings
  WHERE serial = $serial AND ts >= $from AND ts < $to AND type = 'MOISTURE' AND depth_cm IS NOT NULL
)
SELECT d.depth_cm,
  epoch_ms(greatest(sl.valid_from, $from)) AS from_ms,
  epoch_ms(least(sl.valid_to, $to)) AS to_ms,
  sl.soil_key, t.wilting_point_pct, t.refill_pct, t.field_capacity_pct
FROM depths d
JOIN probe_soil_layers sl
  ON sl.serial = $serial AND d.depth_cm >= sl.depth_from_cm AND d.depth_cm < sl.depth_to_cm
  AND sl.valid_from < $to AND sl.valid_to > $from
LEFT JOIN soil_thresholds t ON t.soil_key = sl.soil_key
ORDER BY d.depth_cm, from_ms
