-- Keeps a batch's pushes verbatim in raw_pushes, each once: a batch retried after a crash adds nothing.
-- Params: $run_id
INSERT INTO raw_pushes (received_at, body_hash, body)
SELECT s.received_at, md5(s.body), s.body
FROM stage_pushes s
WHERE s.run_id = $run_id AND s.reason IS NULL
  AND NOT EXISTS (SELECT 1 FROM raw_pushes r WHERE r.received_at = s.received_at AND r.body_hash = md5(s.body))
