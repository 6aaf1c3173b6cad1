-- A version that began at this very instant and changes again at it is replaced, not closed to nothing: two changes
-- at the same instant leave one version (the later one), never an empty [T, T) beside it. Params: $at. Needs
-- desired_probes; runs before probe-history-close.sql.
DELETE FROM probe_history h
USING desired_probes d, probes p
WHERE h.serial = d.serial AND p.serial = d.serial
  AND h.valid_to = 'infinity'::TIMESTAMPTZ
  AND h.valid_from = $at
  AND p.version_hash <> d.version_hash
