-- Forgets the marks the refresh has just handled. No params.
DELETE FROM rollup_dirty
