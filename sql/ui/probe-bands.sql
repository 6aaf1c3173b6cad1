-- The web page's bands: the probe's soil calibration over [$from, $to), layer by layer and version by version (a
-- re-calibration starts a new piece at its time), with each soil's wilting point, refill point and field capacity
-- (soil_thresholds). A layer reaches from depth_from_cm down to, not including, depth_to_cm: the page draws, for
-- the series at each depth, the layer it falls in. Times in epoch milliseconds, ±infinity clipped to the range.
-- Reads no readings. Params: $serial, $from, $to (TIMESTAMPTZ)
SELECT sl.depth_from_cm, sl.depth_to_cm,
  epoch_ms(greatest(sl.valid_from, $from)) AS from_ms,
  epoch_ms(least(sl.valid_to, $to)) AS to_ms,
  sl.soil_key, t.wilting_point_pct, t.refill_pct, t.field_capacity_pct
FROM probe_soil_layers sl
LEFT JOIN soil_thresholds t ON t.soil_key = sl.soil_key
WHERE sl.serial = $serial AND sl.valid_from < $to AND sl.valid_to > $from
ORDER BY sl.depth_from_cm, from_ms
