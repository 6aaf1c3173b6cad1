-- Adds to a copied snapshot the readings of the days that changed, as they are now (in the order the warehouse
-- holds them: mostly time order, as they arrived; sorting a day's readings costs more than it saves a reader).
-- Splices: {{snapshot}}, {{columns}} the converted column list, {{days}} a condition on ts selecting the days.
INSERT INTO {{snapshot}}.readings
SELECT {{columns}} FROM readings WHERE {{days}}
