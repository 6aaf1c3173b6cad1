-- Stamps days of a table the export keeps by day as changed (src/warehouse/day-changes.ts): with the time of this
-- transaction, or just after the day's last stamp if the clock has gone back since, so that a day's stamp never
-- repeats and a publish that saw one stamp tells it from any later change.
-- Params: $table_name. Splices: {{days}} the days, a list of checked DATE literals.
INSERT INTO day_changes (table_name, day, stamp)
SELECT $table_name, day, epoch_us(now())
FROM (SELECT DISTINCT unnest({{days}}) AS day)
ON CONFLICT (table_name, day) DO UPDATE SET stamp = greatest(EXCLUDED.stamp, stamp + 1)
