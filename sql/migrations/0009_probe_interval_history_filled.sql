-- The versions already there take the probe's current interval (the only one known), and every stored hash is
-- made again with it (0008), in probes and in probe_history alike.
UPDATE probe_history SET interval_minutes = p.interval_minutes FROM probes p WHERE probe_history.serial = p.serial;
UPDATE probe_history SET version_hash = probe_version_hash(name, location_id, latitude, longitude, customer_id, soil_profile, interval_minutes);
UPDATE probes SET version_hash = probe_version_hash(name, location_id, latitude, longitude, customer_id, soil_profile, interval_minutes);
