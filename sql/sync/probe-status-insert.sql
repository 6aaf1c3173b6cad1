-- The status time series, second of two (after probe-status-update.sql): a status that agrees with no stored row
-- at its last_update is a row of its own; one seen before adds nothing. Returns the day of each row it added (UTC,
-- 'YYYY-MM-DD'), for day_changes. Params: $run_id. Splices: {{day}} the UTC day of last_update as a DATE (days.ts,
-- epochDay). Needs desired_probes.
INSERT INTO probe_status (serial, last_update, battery, rssi, connectivity, run_id)
SELECT d.serial, d.last_update, d.battery, d.rssi, d.connectivity, $run_id
FROM desired_probes d
WHERE d.last_update IS NOT NULL
  AND NOT EXISTS (
    SELECT 1 FROM probe_status s
    WHERE s.serial = d.serial AND s.last_update = d.last_update
      AND (s.battery IS NULL OR d.battery IS NULL OR s.battery = d.battery)
      AND (s.rssi IS NULL OR d.rssi IS NULL OR s.rssi = d.rssi)
      AND (s.connectivity IS NULL OR d.connectivity IS NULL OR s.connectivity = d.connectivity)
  )
RETURNING CAST({{day}} AS VARCHAR) AS day
