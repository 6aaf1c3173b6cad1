-- probe_health: per probe now in the account: battery, RSSI, connectivity, when it was last seen (its latest
-- reading, or its status' last update), whether it is stale (quiet for longer than STALE_AFTER_HOURS), and how
-- many of the last 168 hours passed without a reading: UTC hours, the current one (begun) and the 167 before it, so
-- that the count is 0 to 168 whatever the minute (a reading up to 10 minutes ahead, which a push may carry, counts in
-- no hour until its own begins).
-- Written for readers without the icu extension (a published snapshot opened by an offline BI driver): instants
-- are compared as microseconds since the epoch (epoch_us), never shifted by an INTERVAL or truncated with
-- date_trunc, which on TIMESTAMPTZ need icu and would depend on the reader's time zone.
-- Splices: {{latest_readings}} where each probe's last reading is found: readings (views.ts); a publish gives it
-- the probe_latest file it has just written (the latest reading of each series), not to read every reading again.
CREATE OR REPLACE VIEW probe_health AS
WITH settings AS (
  SELECT coalesce((SELECT max(TRY_CAST(value AS DOUBLE)) FROM warehouse_settings WHERE key = 'stale_after_hours'), 3) AS stale_after_hours
),
recent AS (
  SELECT serial, count(DISTINCT epoch_us(ts) // 3600000000) AS hours_with_readings
  FROM readings
  WHERE ts >= to_timestamp((epoch_us(now()) // 3600000000 - 167) * 3600)
    AND ts < to_timestamp((epoch_us(now()) // 3600000000 + 1) * 3600)
  GROUP BY serial
),
latest AS (
  SELECT serial, max(ts) AS last_reading FROM {{latest_readings}} GROUP BY serial
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
  coalesce(epoch_us(greatest(l.last_reading, p.last_update)) < epoch_us(now()) - CAST(s.stale_after_hours * 3600000000 AS BIGINT), true) AS stale,
  168 - coalesce(r.hours_with_readings, 0) AS hours_missing_7d
FROM probes p
CROSS JOIN settings s
LEFT JOIN latest l ON l.serial = p.serial
LEFT JOIN recent r ON r.serial = p.serial
WHERE p.deleted_at IS NULL
