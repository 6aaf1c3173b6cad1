-- The probes that have gone quiet: not deleted, known by id, and with no reading since $stale_before (or none at
-- all). gap_from is where their gap starts: the latest reading, but not before $lookback_from.
-- Params: $stale_before, $lookback_from
SELECT
  p.serial,
  p.probe_id,
  greatest(coalesce(max(r.ts), $lookback_from), $lookback_from) AS gap_from
FROM probes p
LEFT JOIN readings r ON r.serial = p.serial AND r.ts >= $lookback_from
WHERE p.deleted_at IS NULL AND p.probe_id IS NOT NULL
GROUP BY p.serial, p.probe_id
HAVING max(r.ts) IS NULL OR max(r.ts) < $stale_before
ORDER BY p.serial
