-- The web page's health table: every probe in the account (probe_health) with its customer's and location's names
-- (today's), and its coverage over the last 7 days (the share of hours with a reading).
SELECT h.serial, h.probe_name, h.customer_id, c.name AS customer_name, h.location_id, l.name AS location_name,
  h.battery, h.rssi, h.connectivity, epoch_ms(h.last_seen) AS last_seen_ms, h.stale, h.hours_missing_7d,
  round((168 - h.hours_missing_7d) / 168, 4) AS coverage_7d, p.time_zone
FROM probe_health h
JOIN probes p ON p.serial = h.serial
LEFT JOIN customers c ON c.id = h.customer_id
LEFT JOIN locations l ON l.id = h.location_id
ORDER BY h.stale DESC, h.serial
