-- Adds pushed battery and RSSI to the probe_status series, one row per (serial, last_update) not yet there.
-- Params: $run_id
INSERT INTO probe_status (serial, last_update, battery, rssi, connectivity, run_id)
SELECT serial, last_update, any_value(battery), any_value(rssi), NULL, $run_id
FROM stage_status s
WHERE s.run_id = $run_id
  AND NOT EXISTS (SELECT 1 FROM probe_status p WHERE p.serial = s.serial AND p.last_update = s.last_update)
GROUP BY serial, last_update
