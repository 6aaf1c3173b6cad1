-- The last probe version id handed out, so that an id is never given twice: a version replaced by a second change at
-- the same instant takes its id with it (sync/probe-history-open.sql numbers from here, sync/probe-version-counter.sql
-- moves it on).
CREATE TABLE id_counters (name VARCHAR NOT NULL, last BIGINT NOT NULL);
INSERT INTO id_counters SELECT 'probe_version', coalesce(max(version_id), 0) FROM probe_history;
