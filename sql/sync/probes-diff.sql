-- What applying desired_probes would change, counted before anything is changed. Params: $complete (whether the
-- snapshot lists every probe of the account, so that a probe missing from it has left), $run_id.
SELECT
  count(*) FILTER (WHERE p.serial IS NULL) AS new_probes,
  count(*) FILTER (WHERE p.version_hash <> d.version_hash) AS new_versions,
  count(*) FILTER (WHERE p.deleted_at IS NOT NULL) AS restored,
  count(*) FILTER (
    WHERE p.serial IS NOT NULL AND (
      p.version_hash <> d.version_hash OR p.deleted_at IS NOT NULL
      OR md5(CAST(p.raw AS VARCHAR)) IS DISTINCT FROM d.raw_md5 OR p.time_zone IS DISTINCT FROM d.time_zone)
  ) AS updated,
  (SELECT count(*) FROM probes WHERE deleted_at IS NULL) AS active_before,
  CASE WHEN $complete THEN (
    SELECT count(*) FROM probes
    WHERE deleted_at IS NULL AND serial NOT IN (SELECT serial FROM stage_probes WHERE run_id = $run_id)
  ) ELSE 0 END AS missing
FROM desired_probes d
LEFT JOIN probes p USING (serial)
