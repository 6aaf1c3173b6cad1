-- Adds to a copied snapshot the readings of the days that changed, as they are now, in time order.
-- Splices: {{snapshot}}, {{columns}} the converted column list, {{days}} a condition on ts selecting the days.
INSERT INTO {{snapshot}}.readings
SELECT {{columns}} FROM readings WHERE {{days}} ORDER BY ts
