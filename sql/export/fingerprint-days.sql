-- A table kept by day's fingerprint per day (fingerprint.sql, by day): what a publish compares to replace only the
-- days that changed. Splices: {{table}}, {{columns}} the converted column list, {{day}} its day as a DATE, in terms
-- of those columns (export.ts, BY_DAY).
SELECT CAST({{day}} AS VARCHAR) AS day, count(*) AS row_count, coalesce(sum(hash(exported)), 0) AS row_hash
FROM (SELECT {{columns}} FROM {{table}}) exported
GROUP BY 1
