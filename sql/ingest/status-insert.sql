-- Pushed battery and RSSI, second half (after status-update.sql): a pushed status that agrees with no stored row
-- is a row of its own; a push sent again adds nothing. Stored rows are looked up only on the batch's days, a scan
-- per range of days (a batch with a late uplink spans months; one condition over both ends would read them all).
-- Params: $run_id. Splices: {{stored}} the stored statuses (serial, last_update, battery, rssi) on the batch's days
-- (UTC, days.ts, daysScan).
INSERT INTO probe_status (serial, last_update, battery, rssi, connectivity, run_id)
SELECT s.serial, s.last_update, s.battery, s.rssi, NULL, $run_id
FROM batch_status s
WHERE NOT EXISTS (
  SELECT 1 FROM {{stored}} p
  WHERE p.serial = s.serial AND p.last_update = s.last_update
    AND (p.battery IS NULL OR s.battery IS NULL OR p.battery = s.battery)
    AND (p.rssi IS NULL OR s.rssi IS NULL OR p.rssi = s.rssi)
)
