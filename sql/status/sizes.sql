-- Row counts of the tables a user cares about, and the newest reading and push. No params.
SELECT
  (SELECT count(*) FROM probes WHERE deleted_at IS NULL) AS probes,
  (SELECT count(*) FROM probes WHERE deleted_at IS NOT NULL) AS probes_deleted,
  (SELECT count(*) FROM readings) AS readings,
  (SELECT max(ts) FROM readings) AS newest_reading,
  (SELECT max(received_at) FROM readings WHERE source = 'push') AS newest_push,
  (SELECT count(*) FROM reading_conflicts) AS conflicts,
  (SELECT count(*) FROM rejected_pushes) AS rejected_pushes,
  (SELECT count(*) FROM raw_pushes) AS raw_pushes,
  (SELECT count(*) FROM probe_history) AS probe_versions
