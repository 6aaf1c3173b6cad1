-- Copies into a copied snapshot the warehouse's daily rollup rows of the days that changed.
-- Splices: {{snapshot}}, {{columns}} the converted column list, {{days}} a list of DATE literals, checked.
INSERT INTO {{snapshot}}.daily_rollup SELECT {{columns}} FROM daily_rollup WHERE day IN {{days}}
