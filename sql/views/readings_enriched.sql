-- readings_enriched: every reading with what held when it was taken: the probe version in effect at ts (its id,
-- name, customer, location, coordinates, time zone), and the soil calibration at the reading's depth in that version,
-- by key and by the name the soil type had then. Customers and locations keep no history of their names: their
-- names here are today's, and say so (customer_name_current, location_name_current). Readings of probes not synced
-- yet appear with empty columns.
CREATE OR REPLACE VIEW readings_enriched AS
SELECT
  r.serial,
  coalesce(r.probe_id, h.probe_id) AS probe_id,
  h.name AS probe_name,
  r.type,
  r.depth_cm,
  r.ts,
  r.value,
  r.unit,
  r.source,
  r.received_at,
  h.customer_id,
  c.name AS customer_name_current,
  h.location_id,
  l.name AS location_name_current,
  h.latitude,
  h.longitude,
  h.time_zone,
  sl.soil_key,
  coalesce(st.name, sl.soil_key) AS soil_name,
  h.version_id AS probe_version_id,
  h.valid_from AS probe_version_from
FROM readings r
LEFT JOIN probe_history h
  ON h.serial = r.serial AND r.ts >= h.valid_from AND r.ts < h.valid_to
LEFT JOIN probe_soil_layers sl
  ON sl.version_id = h.version_id AND r.depth_cm >= sl.depth_from_cm AND r.depth_cm < sl.depth_to_cm
LEFT JOIN soil_type_history st
  ON st.key = sl.soil_key AND r.ts >= st.valid_from AND r.ts < st.valid_to
LEFT JOIN customers c ON c.id = h.customer_id
LEFT JOIN locations l ON l.id = h.location_id
