-- Drops verbatim pushes older than the retention (RAW_PUSH_RETENTION_DAYS). Params: $before
DELETE FROM raw_pushes WHERE received_at < $before
