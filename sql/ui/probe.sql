-- The web page's probe: its name, customer, location, time zone (the probe's local one: the page's times are in
-- it), measuring interval (a gap longer than twice it breaks the chart's line), and when its last reading was
-- taken (from the daily rollup: one probe's rows, not a scan of readings). Params: $serial
SELECT p.serial, p.name, p.customer_id, c.name AS customer_name, p.location_id, l.name AS location_name,
  coalesce(p.time_zone, 'UTC') AS time_zone, p.interval_minutes, p.deleted_at IS NOT NULL AS deleted,
  (SELECT epoch_ms(max(last_ts)) FROM daily_rollup d WHERE d.serial = p.serial) AS last_reading_ms
FROM probes p
LEFT JOIN customers c ON c.id = p.customer_id
LEFT JOIN locations l ON l.id = p.location_id
WHERE p.serial = $serial
