-- probe_latest: per probe, type and depth, the latest reading, with the probe as it is now.
CREATE OR REPLACE VIEW probe_latest AS
SELECT
  r.serial,
  p.name AS probe_name,
  p.customer_id,
  p.location_id,
  r.type,
  r.depth_cm,
  max(r.ts) AS ts,
  arg_max(r.value, r.ts) AS value,
  arg_max(r.unit, r.ts) AS unit
FROM readings r
LEFT JOIN probes p ON p.serial = r.serial
GROUP BY r.serial, p.name, p.customer_id, p.location_id, r.type, r.depth_cm
