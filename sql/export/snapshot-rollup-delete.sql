-- Removes from a copied snapshot the daily rollup rows of the days that changed or are gone.
-- Splices: {{snapshot}}, {{days}} a list of DATE literals, checked, e.g. (DATE '2024-06-15').
DELETE FROM {{snapshot}}.daily_rollup WHERE day IN {{days}}
