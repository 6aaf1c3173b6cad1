-- When did each probe get which soil calibration per depth? Every version of every probe, layer by layer.
SELECT
  h.serial,
  h.name AS probe_name,
  -- open ends: -infinity and infinity in the live warehouse, 1900-01-01 and 2200-01-01 in the export
  CASE WHEN h.valid_from <= TIMESTAMPTZ '1900-01-01 00:00:00+00' THEN 'from the start' ELSE CAST(h.valid_from AS VARCHAR) END AS valid_from,
  CASE WHEN h.valid_to >= TIMESTAMPTZ '2200-01-01 00:00:00+00' THEN 'now' ELSE CAST(h.valid_to AS VARCHAR) END AS valid_to,
  s.depth_from_cm,
  s.soil_key,
  t.name AS soil_name,
  h.changed_by
FROM probe_history h
JOIN probe_soil_layers s ON s.version_id = h.version_id
LEFT JOIN soil_types t ON t.key = s.soil_key
ORDER BY h.serial, h.valid_from, s.depth_from_cm
