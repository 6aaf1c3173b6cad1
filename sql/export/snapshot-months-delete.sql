-- Removes from a copied snapshot the readings of the months that changed since it was written.
-- Splices: {{snapshot}}, {{months}} a condition on ts selecting those months (UTC, as time ranges the zone maps
-- of ts can skip by).
DELETE FROM {{snapshot}}.readings WHERE {{months}}
