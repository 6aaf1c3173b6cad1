-- Gives the open version of a probe the time zone now worked out for it (an override added, a better lookup)
-- without making a new version: the time zone follows from the coordinates, which the version already tracks.
-- Needs desired_probes; runs after probe-history-open.sql.
UPDATE probe_history h
SET time_zone = d.time_zone
FROM desired_probes d
WHERE h.serial = d.serial AND h.valid_to = 'infinity'::TIMESTAMPTZ
  AND h.time_zone IS DISTINCT FROM d.time_zone
