-- Numbers the probe versions already there (0006 added the columns), marks the open ones current, and drops the
-- empty versions [T, T) that two changes at the same instant could leave behind (no reading falls in them).
DELETE FROM probe_history WHERE valid_from = valid_to;
UPDATE probe_history SET version_id = numbered.n, is_current = (probe_history.valid_to = 'infinity'::TIMESTAMPTZ)
FROM (SELECT rowid AS row, row_number() OVER (ORDER BY serial, valid_from) AS n FROM probe_history) numbered
WHERE probe_history.rowid = numbered.row;
