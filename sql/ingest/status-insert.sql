-- Adds pushed battery and RSSI to the probe_status series, by the rule of sync/probe-status-insert.sql: a row that
-- agrees wherever both have a value (a pull's, with connectivity) is the same status and gets what it lacks; a
-- status that disagrees is a row of its own; a push sent again adds nothing. Params: $run_id
MERGE INTO probe_status p
USING (
  SELECT serial, last_update, any_value(battery) AS battery, any_value(rssi) AS rssi
  FROM stage_status WHERE run_id = $run_id
  GROUP BY serial, last_update
) s
ON p.serial = s.serial AND p.last_update = s.last_update
   AND (p.battery IS NULL OR s.battery IS NULL OR p.battery = s.battery)
   AND (p.rssi IS NULL OR s.rssi IS NULL OR p.rssi = s.rssi)
WHEN MATCHED AND ((p.battery IS NULL AND s.battery IS NOT NULL) OR (p.rssi IS NULL AND s.rssi IS NOT NULL)) THEN
  UPDATE SET battery = coalesce(p.battery, s.battery), rssi = coalesce(p.rssi, s.rssi)
WHEN NOT MATCHED THEN
  INSERT (serial, last_update, battery, rssi, connectivity, run_id) VALUES (s.serial, s.last_update, s.battery, s.rssi, NULL, $run_id)
