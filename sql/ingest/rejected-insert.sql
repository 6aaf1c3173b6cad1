-- Keeps what a batch rejected, verbatim with the reason, once per distinct (reason, body): a pusher that retries
-- the same bad body does not fill the table. Params: $run_id
INSERT INTO rejected_pushes (received_at, reason, body, body_hash)
SELECT received_at, reason, body, body_hash
FROM (
  SELECT received_at, reason, body, md5(reason || body) AS body_hash
  FROM stage_pushes
  WHERE run_id = $run_id AND reason IS NOT NULL
  QUALIFY row_number() OVER (PARTITION BY md5(reason || body) ORDER BY received_at) = 1
) s
WHERE NOT EXISTS (SELECT 1 FROM rejected_pushes r WHERE r.body_hash = s.body_hash)
