-- 0011: when the writer last changed each day of the tables the export keeps by day (probe_status, by the UTC day
-- of last_update; daily_rollup, by its local day), stamped in the same transaction as the change. A publish compares
-- each day's row count and stamp with the previous version's instead of hashing every row (24 million at 100 million
-- readings). Internal: not in the snapshot nor the Parquet.
CREATE TABLE day_changes (
  table_name VARCHAR NOT NULL,
  day        DATE NOT NULL,
  stamp      BIGINT NOT NULL,   -- microseconds since the epoch of the last change, strictly rising for each day
  PRIMARY KEY (table_name, day)
);
