-- The (probe, local day) pairs to roll up again: every UTC date of a marked span, and one either side (no local
-- day lies further than that from the UTC dates of its readings). No params.
CREATE OR REPLACE TEMP TABLE dirty_days AS
SELECT DISTINCT d.serial, CAST(t.day AS DATE) AS day
FROM rollup_dirty d,
     LATERAL unnest(generate_series(CAST(d.from_ts AS DATE) - INTERVAL 1 DAY, CAST(d.to_ts AS DATE) + INTERVAL 1 DAY, INTERVAL 1 DAY)) AS t(day)
