-- Marks probes missing from a complete snapshot as deleted (kept, with when). Params: $at. Needs desired_probes.
UPDATE probes
SET deleted_at = $at, updated_at = $at
WHERE deleted_at IS NULL AND serial NOT IN (SELECT serial FROM desired_probes)
