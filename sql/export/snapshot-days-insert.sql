-- Adds to a copied snapshot the readings of the days that changed, as they are now (in the order the warehouse
-- holds them: mostly time order, as they arrived; sorting a day's readings costs more than it saves a reader).
-- Splices: {{snapshot}}, {{columns}} the converted column list, {{days}} a condition on ts selecting the days (and,
-- for a day that only grew, on received_at: what it gained since the previous version; export.ts, patchReadings).
INSERT INTO {{snapshot}}.readings
SELECT {{columns}} FROM readings WHERE {{days}}
