-- 0004: what the views for agronomists need: each probe version's time zone, warehouse-wide settings the views
-- read, soil water thresholds, and the daily rollup behind readings_daily.

-- The time zone of the probe's location (from its coordinates, or an override), kept per version: a day in
-- readings_daily is the local day where the probe stood. NULL: no coordinates, REPORT_TZ applies.
ALTER TABLE probe_history ADD COLUMN time_zone VARCHAR;
ALTER TABLE probes ADD COLUMN time_zone VARCHAR;
ALTER TABLE stage_probes ADD COLUMN time_zone VARCHAR;

-- Settings the views depend on (report_tz, stale_after_hours), written by the worker from its configuration.
CREATE TABLE warehouse_settings (key VARCHAR NOT NULL, value VARCHAR NOT NULL);

-- Soil water thresholds per soil type, in % volumetric water content; the row 'SI' holds the Sensoterra Index zones.
-- Defaults: the midpoints of the ranges in FAO Irrigation and Drainage Paper 56 (Allen et al., 1998), Table 19
-- "Typical soil water characteristics for different soil types"; refill = wilting point + 50% of the available
-- water (FAO-56's depletion fraction p = 0.5, common to many crops). Peat is not in that table: no default.
-- The SI zones are our assumption, not Sensoterra's (0 = oven dry .. 10 = saturated). Users override any row
-- with SOIL_THRESHOLDS_FILE (soil_threshold_overrides).
CREATE TABLE soil_threshold_defaults (
  soil_key           VARCHAR NOT NULL,
  wilting_point_pct  DOUBLE NOT NULL,
  refill_pct         DOUBLE NOT NULL,
  field_capacity_pct DOUBLE NOT NULL,
  source             VARCHAR NOT NULL
);
INSERT INTO soil_threshold_defaults VALUES
  ('SAND',            4.5,  8.25, 12.0, 'FAO-56 Table 19 (midpoints), refill at p = 0.5'),
  ('LOAMY_SAND',      6.5, 10.75, 15.0, 'FAO-56 Table 19 (midpoints), refill at p = 0.5'),
  ('SANDY_LOAM',     11.0, 17.0, 23.0, 'FAO-56 Table 19 (midpoints), refill at p = 0.5'),
  ('LOAM',           12.0, 18.5, 25.0, 'FAO-56 Table 19 (midpoints), refill at p = 0.5'),
  ('SILT_LOAM',      15.0, 22.0, 29.0, 'FAO-56 Table 19 (midpoints), refill at p = 0.5'),
  ('SILT',           17.0, 24.5, 32.0, 'FAO-56 Table 19 (midpoints), refill at p = 0.5'),
  ('SILTY_CLAY_LOAM', 20.5, 27.0, 33.5, 'FAO-56 Table 19 (midpoints), refill at p = 0.5'),
  ('CLAY_LOAM',      20.5, 27.0, 33.5, 'FAO-56 Table 19, silty clay loam row (no clay loam row), refill at p = 0.5'),
  ('SILTY_CLAY',     23.0, 29.5, 36.0, 'FAO-56 Table 19 (midpoints), refill at p = 0.5'),
  ('CLAY',           22.0, 29.0, 36.0, 'FAO-56 Table 19 (midpoints), refill at p = 0.5'),
  ('SI',              2.0,  4.0,  8.0, 'assumed Sensoterra Index zones (0 oven dry .. 10 saturated), not published by Sensoterra');

CREATE TABLE soil_threshold_overrides (
  soil_key           VARCHAR NOT NULL,
  wilting_point_pct  DOUBLE NOT NULL,
  refill_pct         DOUBLE NOT NULL,
  field_capacity_pct DOUBLE NOT NULL,
  source             VARCHAR NOT NULL
);

-- Per probe, depth, type and local day: the rollup behind readings_daily, refreshed for the days a batch touched.
CREATE TABLE daily_rollup (
  serial            VARCHAR NOT NULL,
  type              VARCHAR NOT NULL,
  depth_cm          INTEGER,
  day               DATE NOT NULL,           -- the local day in time_zone
  time_zone         VARCHAR NOT NULL,
  min_value         DOUBLE NOT NULL,
  max_value         DOUBLE NOT NULL,
  mean_value        DOUBLE NOT NULL,
  last_value        DOUBLE NOT NULL,
  last_ts           TIMESTAMPTZ NOT NULL,
  readings          BIGINT NOT NULL,
  day_hours         DOUBLE NOT NULL,         -- 24, or 23 / 25 on a daylight-saving day
  expected_readings BIGINT NOT NULL          -- from the probe's measuring interval and the day's length
);

-- Ranges of readings whose days must be rolled up again (written with the readings, consumed by the refresh).
CREATE TABLE rollup_dirty (serial VARCHAR NOT NULL, from_ts TIMESTAMPTZ NOT NULL, to_ts TIMESTAMPTZ NOT NULL);
