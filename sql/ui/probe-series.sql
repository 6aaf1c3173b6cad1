-- The web page's probe chart: each series of the probe (moisture or Sensoterra Index per depth, temperature) over
-- [$from, $to), as two lists in time order: epoch milliseconds and values. One row per series keeps a year of
-- hourly readings (5 x 8,760) one small answer. Params: $serial, $from, $to (TIMESTAMPTZ)
SELECT type, depth_cm, any_value(unit) AS unit,
  list(epoch_ms(ts) ORDER BY ts) AS t,
  list(value ORDER BY ts) AS v
FROM readings
WHERE serial = $serial AND ts >= $from AND ts < $to AND type IN ('MOISTURE', 'SI', 'TEMPERATURE')
GROUP BY type, depth_cm
ORDER BY type, depth_cm NULLS LAST
