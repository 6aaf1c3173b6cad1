-- The chunks of a backfill already done. Params: $backfill_id
SELECT serial, chunk_from FROM backfill_chunks WHERE backfill_id = $backfill_id
