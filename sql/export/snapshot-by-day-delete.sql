-- Removes from a copied snapshot the rows of a table kept by day (export.ts, BY_DAY: the daily rollup,
-- probe_status) on the days that changed or are gone.
-- Splices: {{snapshot}}, {{table}}, {{days}} a condition selecting those days (a list of checked DATE literals, or
-- time ranges the zone maps can skip by).
DELETE FROM {{snapshot}}.{{table}} WHERE {{days}}
