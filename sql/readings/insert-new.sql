-- Stores the batch's readings whose key is new: one per key (the first received), none already stored.
-- Needs batch_readings (batch-match.sql).
INSERT INTO readings (serial, probe_id, type, depth_cm, ts, value, unit, source, received_at, extra)
SELECT serial, probe_id, type, depth_cm, ts, value, unit, source, received_at, extra
FROM batch_readings
WHERE rank_in_batch = 1 AND NOT already_stored
ORDER BY ts
