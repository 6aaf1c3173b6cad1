-- Drops conflicting values offered before the retention (READING_CONFLICT_RETENTION_DAYS); the stored readings stay.
-- Params: $before
DELETE FROM reading_conflicts WHERE received_at < $before
