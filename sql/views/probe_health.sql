-- probe_health: per probe now in the account: battery, RSSI, connectivity, when it was last seen (its latest
-- reading, or its status' last update), whether it is stale (quiet for longer than STALE_AFTER_HOURS), and how
-- many of the last 168 hours passed without a reading.
CREATE OR REPLACE VIEW probe_health AS
WITH settings AS (
  SELECT coalesce((SELECT max(TRY_CAST(value AS DOUBLE)) FROM warehouse_settings WHERE key = 'stale_after_hours'), 3) AS stale_after_hours
),
recent AS (
  SELECT serial, max(ts) AS last_reading, count(DISTINCT date_trunc('hour', ts)) AS hours_with_readings
  FROM readings
  WHERE ts >= now() - INTERVAL 7 DAY
  GROUP BY serial
),
latest AS (
  SELECT serial, max(ts) AS last_reading FROM readings GROUP BY serial
)
SELECT
  p.serial,
  p.name AS probe_name,
  p.customer_id,
  p.location_id,
  p.battery,
  p.rssi,
  p.connectivity,
  greatest(l.last_reading, p.last_update) AS last_seen,
  coalesce(greatest(l.last_reading, p.last_update) < now() - to_milliseconds(CAST(s.stale_after_hours * 3600000 AS BIGINT)), true) AS stale,
  168 - coalesce(r.hours_with_readings, 0) AS hours_missing_7d
FROM probes p
CROSS JOIN settings s
LEFT JOIN latest l ON l.serial = p.serial
LEFT JOIN recent r ON r.serial = p.serial
WHERE p.deleted_at IS NULL
