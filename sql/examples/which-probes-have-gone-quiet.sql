-- Which probes have gone quiet (no reading for longer than STALE_AFTER_HOURS), and how do their batteries look?
SELECT
  h.probe_name,
  c.name AS customer,
  l.name AS field,
  h.last_seen,
  round(epoch(now() - h.last_seen) / 3600, 1) AS hours_quiet,
  h.battery,
  h.rssi,
  h.hours_missing_7d
FROM probe_health h
LEFT JOIN customers c ON c.id = h.customer_id
LEFT JOIN locations l ON l.id = h.location_id
WHERE h.stale
ORDER BY h.last_seen NULLS FIRST
