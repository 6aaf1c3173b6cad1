-- Copies into a copied snapshot the warehouse's rows of a table kept by day (export.ts, BY_DAY) on the days that
-- changed. Splices: {{snapshot}}, {{table}}, {{columns}} the converted column list, {{days}} a condition selecting
-- those days.
INSERT INTO {{snapshot}}.{{table}} SELECT {{columns}} FROM {{table}} WHERE {{days}}
