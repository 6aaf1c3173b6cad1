-- Ends the open version of every probe whose tracked fields change: valid_to = the time of the change.
-- Params: $at. Needs desired_probes; runs after probe-history-replace.sql and before probes-update.sql (it compares
-- with the current hash).
UPDATE probe_history h
SET valid_to = $at, is_current = false
FROM desired_probes d, probes p
WHERE h.serial = d.serial AND p.serial = d.serial
  AND h.valid_to = 'infinity'::TIMESTAMPTZ
  AND h.valid_from < $at -- never end a version before it began (one that began at $at was replaced)
  AND p.version_hash <> d.version_hash
