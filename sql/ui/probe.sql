-- The web page's probe: its name, customer, location, time zone (its own, or REPORT_TZ's without coordinates, as
-- the daily rollup has it: the page's times are in it), measuring interval (a gap longer than twice it breaks the
-- chart's line), whether it has been deleted, when its last reading was taken (from the daily rollup: one probe's
-- rows, not a scan of readings), and the Sensoterra Index zones (soil_thresholds' row 'SI') for an SI probe's chart.
-- Params: $serial
SELECT p.serial, p.name, p.customer_id, c.name AS customer_name, p.location_id, l.name AS location_name,
  coalesce(p.time_zone, (SELECT max(value) FROM warehouse_settings WHERE key = 'report_tz'), 'UTC') AS time_zone,
  p.interval_minutes, p.deleted_at IS NOT NULL AS deleted,
  (SELECT epoch_ms(max(last_ts)) FROM daily_rollup d WHERE d.serial = p.serial) AS last_reading_ms,
  si.wilting_point_pct AS si_wilting_point, si.refill_pct AS si_refill, si.field_capacity_pct AS si_field_capacity
FROM probes p
LEFT JOIN customers c ON c.id = p.customer_id
LEFT JOIN locations l ON l.id = p.location_id
LEFT JOIN soil_thresholds si ON si.soil_key = 'SI'
WHERE p.serial = $serial
