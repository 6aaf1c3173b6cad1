-- The current probes with the reseller's customer mapping applied, for probes whose API row names no customer
-- of its own (a probe's own customer_id always wins, so the two syncs never undo each other), leaving out a probe
-- whose current version starts after $at (changed after this sync began). Params: $at
CREATE OR REPLACE TEMP TABLE desired_probes AS
WITH mapping AS (
  SELECT serial, min(customer_id) AS customer_id FROM customer_probes GROUP BY serial
)
SELECT
  p.* EXCLUDE (customer_id, version_hash, first_seen_at, updated_at, deleted_at, raw),
  CAST(NULL AS BIGINT) AS stage_row, -- the JSON stays as it is (probes-update.sql)
  md5(CAST(p.raw AS VARCHAR)) AS raw_md5,
  m.customer_id AS customer_id,
  probe_version_hash(p.name, p.location_id, p.latitude, p.longitude, m.customer_id, p.soil_profile, p.interval_minutes) AS version_hash
FROM probes p
JOIN mapping m USING (serial)
WHERE p.deleted_at IS NULL
  AND json_extract_string(p.raw, '$.customer_id') IS NULL -- no key, or a JSON null (json_extract gives a JSON null)
  AND p.customer_id IS DISTINCT FROM m.customer_id
  AND NOT EXISTS (
    SELECT 1 FROM probe_history h WHERE h.serial = p.serial AND h.valid_to = 'infinity'::TIMESTAMPTZ AND h.valid_from > $at
  )
