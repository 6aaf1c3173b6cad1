-- Keeps every offered value that differs from the value standing for its key (stored before, or first in the
-- batch), once: a conflict already recorded is not recorded again. Needs batch_readings (batch-match.sql).
INSERT INTO reading_conflicts (serial, type, depth_cm, ts, stored_value, offered_value, source, received_at)
SELECT b.serial, b.type, b.depth_cm, b.ts, coalesce(b.stored_value, b.batch_first_value), b.value, b.source, b.received_at
FROM batch_readings b
WHERE b.value <> coalesce(b.stored_value, b.batch_first_value)
  AND NOT EXISTS (
    SELECT 1 FROM reading_conflicts c
    WHERE c.serial = b.serial AND c.type = b.type AND c.depth_cm IS NOT DISTINCT FROM b.depth_cm
      AND c.ts = b.ts AND c.offered_value = b.value
  )
-- the same offer twice in one batch (a redelivery) is one conflict
QUALIFY row_number() OVER (PARTITION BY b.serial, b.type, b.depth_cm, b.ts, b.value ORDER BY b.received_at) = 1
