-- Drops the rollup rows of the dirty days. Needs dirty_days. Splices: {{days}} the dirty days, a list of DATE
-- literals (the rows of other days are skipped by their zone maps, not compared).
DELETE FROM daily_rollup r USING dirty_days d WHERE r.day IN {{days}} AND r.serial = d.serial AND r.day = d.day
