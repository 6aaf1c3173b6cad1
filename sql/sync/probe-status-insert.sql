-- Adds to the status time series (battery, RSSI, connectivity at last_update) what it does not hold yet: a row per
-- distinct status seen at a last_update. A push and a pull that saw the same status are one row: a row that agrees
-- wherever both have a value (a push carries no connectivity) gets what it lacks; only a status that disagrees is a
-- row of its own. Returns the day of each row it added or filled in (UTC, 'YYYY-MM-DD'), for day_changes.
-- Params: $run_id. Splices: {{day}} the UTC day of last_update as a DATE (days.ts, epochDay). Needs desired_probes.
MERGE INTO probe_status s
USING (SELECT * FROM desired_probes WHERE last_update IS NOT NULL) d
ON s.serial = d.serial AND s.last_update = d.last_update
   AND (s.battery IS NULL OR d.battery IS NULL OR s.battery = d.battery)
   AND (s.rssi IS NULL OR d.rssi IS NULL OR s.rssi = d.rssi)
   AND (s.connectivity IS NULL OR d.connectivity IS NULL OR s.connectivity = d.connectivity)
WHEN MATCHED AND ((s.battery IS NULL AND d.battery IS NOT NULL) OR (s.rssi IS NULL AND d.rssi IS NOT NULL)
                  OR (s.connectivity IS NULL AND d.connectivity IS NOT NULL)) THEN
  UPDATE SET battery = coalesce(s.battery, d.battery), rssi = coalesce(s.rssi, d.rssi), connectivity = coalesce(s.connectivity, d.connectivity)
WHEN NOT MATCHED THEN
  INSERT (serial, last_update, battery, rssi, connectivity, run_id) VALUES (d.serial, d.last_update, d.battery, d.rssi, d.connectivity, $run_id)
RETURNING CAST({{day}} AS VARCHAR) AS day
