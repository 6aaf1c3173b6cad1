-- Drops rejected pushes received before the retention (REJECTED_PUSH_RETENTION_DAYS). Params: $before
DELETE FROM rejected_pushes WHERE received_at < $before
