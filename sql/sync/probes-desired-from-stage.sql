-- The probes of a run's staged snapshot as they should be: one row per serial, the customer taken from the
-- probe itself or, when the API gives none, from the reseller's mapping, and the hash of the tracked fields.
-- A probe whose current version starts after $at was changed after this snapshot began (a command, a sync that
-- started later and finished first): what this snapshot read of it may be older, so it is left out.
-- Params: $run_id, $at
CREATE OR REPLACE TEMP TABLE desired_probes AS
WITH staged AS (
  SELECT * FROM stage_probes
  WHERE run_id = $run_id
  QUALIFY row_number() OVER (PARTITION BY serial ORDER BY probe_id) = 1
),
mapping AS (
  SELECT serial, min(customer_id) AS customer_id FROM customer_probes GROUP BY serial
)
SELECT
  s.* EXCLUDE (run_id, customer_id),
  coalesce(s.customer_id, m.customer_id) AS customer_id,
  probe_version_hash(s.name, s.location_id, s.latitude, s.longitude, coalesce(s.customer_id, m.customer_id), s.soil_profile, s.interval_minutes) AS version_hash
FROM staged s
LEFT JOIN mapping m USING (serial)
WHERE NOT EXISTS (
  SELECT 1 FROM probe_history h WHERE h.serial = s.serial AND h.valid_to = 'infinity'::TIMESTAMPTZ AND h.valid_from > $at
)
