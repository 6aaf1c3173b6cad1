-- Adds to a copied snapshot the readings of the months that changed, as they are now, in time order.
-- Splices: {{snapshot}}, {{columns}} the converted column list, {{months}} a condition on ts selecting the months.
INSERT INTO {{snapshot}}.readings
SELECT {{columns}} FROM readings WHERE {{months}} ORDER BY ts
