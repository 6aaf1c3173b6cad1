-- Marks every reading of a probe whose version or time zone is about to change for a new daily rollup: its
-- readings may now fall on other local days. Needs desired_probes; runs before probes-merge.sql.
INSERT INTO rollup_dirty (serial, from_ts, to_ts)
SELECT r.serial, min(r.ts), max(r.ts)
FROM readings r
WHERE r.serial IN (
  SELECT d.serial FROM desired_probes d LEFT JOIN probes p USING (serial)
  WHERE p.serial IS NULL OR p.version_hash <> d.version_hash OR p.time_zone IS DISTINCT FROM d.time_zone
)
GROUP BY r.serial
