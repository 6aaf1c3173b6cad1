-- soil_thresholds: wilting point, refill point and field capacity (% volumetric water) per soil type, and the
-- Sensoterra Index zones in the row 'SI'. An override from SOIL_THRESHOLDS_FILE replaces a default; `source`
-- says which one holds (defaults: FAO-56 Table 19, see sql/migrations/0004_analysis.sql).
CREATE OR REPLACE VIEW soil_thresholds AS
SELECT soil_key, wilting_point_pct, refill_pct, field_capacity_pct, source FROM soil_threshold_overrides
UNION ALL
SELECT d.soil_key, d.wilting_point_pct, d.refill_pct, d.field_capacity_pct, d.source
FROM soil_threshold_defaults d
WHERE d.soil_key NOT IN (SELECT soil_key FROM soil_threshold_overrides)
