-- probe_soil_layers: the soil calibration of every probe version, one row per layer: from depth_from_cm down to
-- (not including) depth_to_cm the soil is soil_key. The soil at a reading's depth is the last layer whose depth
-- is at or above it (Sensoterra's rule), so a layer reaches down to the next one, the deepest one without end.
-- version_id is the probe version's (probe_history.version_id): join on it.
CREATE OR REPLACE VIEW probe_soil_layers AS
WITH layers AS (
  SELECT serial, version_id, valid_from, valid_to, unnest(from_json(soil_profile, '[{"depth":"INTEGER","soil":"VARCHAR"}]')) AS layer
  FROM probe_history
)
SELECT
  serial,
  version_id,
  valid_from,
  valid_to,
  layer.depth AS depth_from_cm,
  coalesce(lead(layer.depth) OVER (PARTITION BY version_id ORDER BY layer.depth), 100000) AS depth_to_cm,
  layer.soil AS soil_key
FROM layers
