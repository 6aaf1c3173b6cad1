-- Removes from a copied snapshot the readings of the days that changed since it was written.
-- Splices: {{snapshot}}, {{days}} a condition on ts selecting those days (UTC, as time ranges the zone maps of ts
-- can skip by).
DELETE FROM {{snapshot}}.readings WHERE {{days}}
