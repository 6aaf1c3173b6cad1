-- The probes a backfill walks: one by serial (deleted or not), or every probe still in the account.
-- Params: $serial (NULL for all)
SELECT serial, probe_id
FROM probes
WHERE probe_id IS NOT NULL
  AND CASE WHEN CAST($serial AS VARCHAR) IS NULL THEN deleted_at IS NULL ELSE serial = CAST($serial AS VARCHAR) END
ORDER BY serial
