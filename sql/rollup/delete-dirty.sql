-- Drops the rollup rows of the dirty days. Needs dirty_days.
DELETE FROM daily_rollup r USING dirty_days d WHERE r.serial = d.serial AND r.day = d.day
