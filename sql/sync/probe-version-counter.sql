-- Moves the probe version counter past the ids probe-history-open.sql just handed out. Runs right after it.
UPDATE id_counters
SET last = greatest(last, (SELECT coalesce(max(version_id), 0) FROM probe_history))
WHERE name = 'probe_version'
