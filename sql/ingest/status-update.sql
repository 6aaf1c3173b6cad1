-- Pushed battery and RSSI (batch_status, status-batch.sql), by the rule of sync/probe-status-update.sql, first half:
-- a stored row that agrees with a pushed status wherever both have a value (a pull's, with connectivity) is the same
-- status and gets what it lacks. Stored rows are looked up only on the days the batch has statuses of (UTC), so the
-- cost follows the batch, not the series (a row per uplink). status-insert.sql then adds what matched no row.
-- Splices: {{days}} a condition on p.last_update selecting the batch's days.
UPDATE probe_status p
SET battery = coalesce(p.battery, s.battery), rssi = coalesce(p.rssi, s.rssi)
FROM batch_status s
WHERE ({{days}})
  AND p.serial = s.serial AND p.last_update = s.last_update
  AND (p.battery IS NULL OR s.battery IS NULL OR p.battery = s.battery)
  AND (p.rssi IS NULL OR s.rssi IS NULL OR p.rssi = s.rssi)
  AND ((p.battery IS NULL AND s.battery IS NOT NULL) OR (p.rssi IS NULL AND s.rssi IS NOT NULL))
