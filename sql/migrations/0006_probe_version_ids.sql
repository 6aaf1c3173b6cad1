-- Every probe version gets an id of its own, and point-in-time joins (readings_enriched, readings_daily,
-- probe_soil_layers) use it: (serial, valid_from) could repeat when two changes landed at the same instant.
-- is_current marks the open version (valid_to = 'infinity' here; 2200-01-01 in the export), as BI tools expect of a
-- history table. Both are written by sync/probe-history-open.sql (ids from a counter, 0010; not a sequence default,
-- which DuckDB 1.5 cannot replay from its write-ahead log). The versions already there are
-- numbered by 0007: DuckDB cannot update a table in the transaction that altered it.
ALTER TABLE probe_history ADD COLUMN version_id BIGINT;
ALTER TABLE probe_history ADD COLUMN is_current BOOLEAN;
