-- Adds to the status time series (battery, RSSI, connectivity at last_update) what it does not hold yet, first of
-- two (probe-status-insert.sql adds the rest): a row per distinct status seen at a last_update. A push and a pull
-- that saw the same status are one row: a stored row that agrees wherever both have a value (a push carries no
-- connectivity) gets what it lacks here; only a status that disagrees is a row of its own. An UPDATE and an
-- INSERT ... WHERE NOT EXISTS rather than one MERGE: DuckDB joined a MERGE's ON of these conditions (each an OR) row
-- by row against every stored status, 28 s for a second pull of 130,000 probes, where these join by hash.
-- Returns the day of each row it filled in (UTC, 'YYYY-MM-DD'), for day_changes.
-- Splices: {{day}} the UTC day of last_update as a DATE (days.ts, epochDay). Needs desired_probes.
UPDATE probe_status s
SET battery = coalesce(s.battery, d.battery), rssi = coalesce(s.rssi, d.rssi),
    connectivity = coalesce(s.connectivity, d.connectivity)
FROM desired_probes d
WHERE s.serial = d.serial AND s.last_update = d.last_update
  AND (s.battery IS NULL OR d.battery IS NULL OR s.battery = d.battery)
  AND (s.rssi IS NULL OR d.rssi IS NULL OR s.rssi = d.rssi)
  AND (s.connectivity IS NULL OR d.connectivity IS NULL OR s.connectivity = d.connectivity)
  AND ((s.battery IS NULL AND d.battery IS NOT NULL) OR (s.rssi IS NULL AND d.rssi IS NOT NULL)
       OR (s.connectivity IS NULL AND d.connectivity IS NOT NULL))
RETURNING CAST({{day}} AS VARCHAR) AS day
