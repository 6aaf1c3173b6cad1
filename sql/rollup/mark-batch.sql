-- Marks the readings a batch has just stored for a new daily rollup: per probe and UTC day, the span they cover (a
-- probe sending a late reading beside today's marks two days, not the months between).
-- Needs batch_readings (readings/batch-match.sql); runs with readings/insert-new.sql.
INSERT INTO rollup_dirty (serial, from_ts, to_ts)
SELECT serial, min(ts), max(ts)
FROM batch_readings
WHERE rank_in_batch = 1 AND NOT already_stored
GROUP BY serial, floor(epoch_us(ts) / 86400000000)
