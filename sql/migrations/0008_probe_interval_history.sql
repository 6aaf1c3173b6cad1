-- The measuring interval becomes part of a probe's history: a new version when it changes, so that a day's expected
-- readings follow the interval that held on that day (rollup/insert-dirty.sql). The version hash takes it in; 0009
-- fills the versions already there and hashes them again, so that the next sync sees no change where none was.
ALTER TABLE probe_history ADD COLUMN interval_minutes DOUBLE;
CREATE OR REPLACE MACRO probe_version_hash(name, location_id, latitude, longitude, customer_id, soil_profile, interval_minutes) AS
  md5(to_json({
    'name': name, 'location_id': location_id, 'latitude': latitude, 'longitude': longitude,
    'customer_id': customer_id, 'soil_profile': CAST(soil_profile AS VARCHAR), 'interval_minutes': interval_minutes
  })::VARCHAR);
