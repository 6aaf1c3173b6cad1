-- Parks one push the writer could not store (its batch-mates land without it), verbatim with the reason, once.
-- Params: $received_at, $reason, $body
INSERT INTO rejected_pushes (received_at, reason, body, body_hash)
SELECT $received_at, $reason, $body, md5($reason || $body)
WHERE NOT EXISTS (SELECT 1 FROM rejected_pushes WHERE body_hash = md5($reason || $body))
