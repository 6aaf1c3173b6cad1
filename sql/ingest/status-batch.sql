-- A batch's pushed battery and RSSI, one row per probe and last_update (a push sent twice in a batch is one), for
-- status-update.sql and status-insert.sql, which must see the same choice when two pushes disagree. Params: $run_id
CREATE OR REPLACE TEMP TABLE batch_status AS
SELECT serial, last_update, any_value(battery) AS battery, any_value(rssi) AS rssi
FROM stage_status
WHERE run_id = $run_id
GROUP BY serial, last_update
