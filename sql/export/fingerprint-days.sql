-- A table kept by day's fingerprint per day: its rows, and when the writer last changed them (day_changes,
-- stamped in the same transaction as every change: src/warehouse/day-changes.ts). What a publish compares to replace
-- only the days that changed, reading the day's column and not the rows.
-- Params: $table_name. Splices: {{table}}, {{day}} the row's day as a DATE.
SELECT CAST(r.day AS VARCHAR) AS day, r.row_count, CAST(c.stamp AS VARCHAR) AS stamp
FROM (SELECT {{day}} AS day, count(*) AS row_count FROM {{table}} GROUP BY ALL) r
LEFT JOIN day_changes c ON c.table_name = $table_name AND c.day = r.day
