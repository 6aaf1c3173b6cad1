-- Replaces the probe-to-customer mapping with a run's staged one: new pairs inserted, pairs no longer listed
-- removed (the history of a probe's customer lives in probe_history). Params: $run_id, $at
MERGE INTO customer_probes t
USING (
  SELECT DISTINCT customer_id, serial, probe_id FROM stage_customer_probes WHERE run_id = $run_id
) d
ON t.customer_id = d.customer_id AND t.serial = d.serial
WHEN MATCHED AND t.probe_id IS DISTINCT FROM d.probe_id THEN UPDATE SET probe_id = d.probe_id
WHEN NOT MATCHED THEN INSERT (customer_id, serial, probe_id, first_seen_at) VALUES (d.customer_id, d.serial, d.probe_id, $at)
WHEN NOT MATCHED BY SOURCE THEN DELETE
RETURNING merge_action
