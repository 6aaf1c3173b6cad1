-- Records a chunk of a backfill as done. Params: $backfill_id, $serial, $chunk_from, $chunk_to, $readings, $inserted, $done_at
INSERT INTO backfill_chunks VALUES ($backfill_id, $serial, $chunk_from, $chunk_to, $readings, $inserted, $done_at)
