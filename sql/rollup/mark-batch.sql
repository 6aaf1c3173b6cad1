-- Marks the span of the readings a batch has just stored, per probe, for a new daily rollup.
-- Needs batch_readings (readings/batch-match.sql); runs with readings/insert-new.sql.
INSERT INTO rollup_dirty (serial, from_ts, to_ts)
SELECT serial, min(ts), max(ts)
FROM batch_readings
WHERE rank_in_batch = 1 AND NOT already_stored
GROUP BY serial
