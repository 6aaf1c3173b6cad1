-- Adds to the status time series (battery, RSSI, connectivity at last_update) what it does not hold yet.
-- Params: $run_id. Needs desired_probes.
INSERT INTO probe_status (serial, last_update, battery, rssi, connectivity, run_id)
SELECT d.serial, d.last_update, d.battery, d.rssi, d.connectivity, $run_id
FROM desired_probes d
WHERE d.last_update IS NOT NULL
  AND NOT EXISTS (
    SELECT 1 FROM probe_status s
    WHERE s.serial = d.serial AND s.last_update = d.last_update
      AND s.battery IS NOT DISTINCT FROM d.battery AND s.rssi IS NOT DISTINCT FROM d.rssi
      AND s.connectivity IS NOT DISTINCT FROM d.connectivity
  )
