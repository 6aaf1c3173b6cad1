-- 0001: the warehouse's tables. Append-only: later changes go in new numbered files.
-- Times are TIMESTAMPTZ in UTC. No primary keys or unique indexes on the big tables: DuckDB keeps such indexes
-- in memory; natural keys are enforced by the writer (deduplicate in the batch, then anti-join the table).

-- Every run of every job: what it read and changed, and how it ended.
CREATE TABLE sync_runs (
  run_id        VARCHAR NOT NULL,
  job           VARCHAR NOT NULL,
  trigger       VARCHAR,                 -- schedule | command | retry | ingest
  started_at    TIMESTAMPTZ NOT NULL,
  finished_at   TIMESTAMPTZ,
  status        VARCHAR NOT NULL,        -- running | succeeded | failed
  rows_read     BIGINT NOT NULL DEFAULT 0,
  rows_inserted BIGINT NOT NULL DEFAULT 0,
  rows_updated  BIGINT NOT NULL DEFAULT 0,
  rows_deleted  BIGINT NOT NULL DEFAULT 0,
  conflicts     BIGINT NOT NULL DEFAULT 0,
  duration_ms   BIGINT,
  error         VARCHAR,
  details       JSON                     -- job-specific counts and notes (new versions, refused deletions, ...)
);

-- Soil calibrations: the SOIL rows of GET /parameter, current state and every version of their names.
CREATE TABLE soil_types (
  key           VARCHAR NOT NULL,
  name          VARCHAR,
  language      VARCHAR,
  raw           JSON,
  version_hash  VARCHAR NOT NULL,
  first_seen_at TIMESTAMPTZ NOT NULL,
  updated_at    TIMESTAMPTZ NOT NULL,
  deleted_at    TIMESTAMPTZ
);
CREATE TABLE soil_type_history (
  key          VARCHAR NOT NULL,
  name         VARCHAR,
  version_hash VARCHAR NOT NULL,
  valid_from   TIMESTAMPTZ NOT NULL,
  valid_to     TIMESTAMPTZ NOT NULL DEFAULT 'infinity',
  run_id       VARCHAR
);

-- Every other parameter list of GET /parameter (crops, ...), keyed by (type, key).
CREATE TABLE parameters (
  type          VARCHAR NOT NULL,
  key           VARCHAR NOT NULL,
  name          VARCHAR,
  language      VARCHAR,
  raw           JSON,
  version_hash  VARCHAR NOT NULL,
  first_seen_at TIMESTAMPTZ NOT NULL,
  updated_at    TIMESTAMPTZ NOT NULL,
  deleted_at    TIMESTAMPTZ
);

CREATE TABLE locations (
  id            BIGINT NOT NULL,
  name          VARCHAR,
  customer_id   BIGINT,
  code          VARCHAR,
  raw           JSON,
  version_hash  VARCHAR NOT NULL,
  first_seen_at TIMESTAMPTZ NOT NULL,
  updated_at    TIMESTAMPTZ NOT NULL,
  deleted_at    TIMESTAMPTZ
);

CREATE TABLE customers (
  id            BIGINT NOT NULL,
  name          VARCHAR,
  email         VARCHAR,
  raw           JSON,
  version_hash  VARCHAR NOT NULL,
  first_seen_at TIMESTAMPTZ NOT NULL,
  updated_at    TIMESTAMPTZ NOT NULL,
  deleted_at    TIMESTAMPTZ
);

-- Which probe belongs to which of a reseller's customers, as last listed by GET /probe?customer=<id>.
CREATE TABLE customer_probes (
  customer_id   BIGINT NOT NULL,
  serial        VARCHAR NOT NULL,
  probe_id      BIGINT,
  first_seen_at TIMESTAMPTZ NOT NULL
);

-- Probes, current state: one row per serial; deleted_at is set (never the row removed) when a probe leaves.
CREATE TABLE probes (
  serial           VARCHAR NOT NULL,
  probe_id         BIGINT,
  name             VARCHAR,
  sku              VARCHAR,
  state            VARCHAR,
  location_id      BIGINT,
  latitude         DOUBLE,
  longitude        DOUBLE,
  customer_id      BIGINT,
  interval_minutes DOUBLE,
  unit             VARCHAR,
  dev_eui          VARCHAR,
  soil_profile     JSON,                 -- [{"depth": 0, "soil": "CLAY"}, ...] sorted by depth
  battery          VARCHAR,
  rssi             DOUBLE,
  connectivity     VARCHAR,
  last_update      TIMESTAMPTZ,
  version_hash     VARCHAR NOT NULL,     -- md5 of the tracked fields (the probe_version_hash macro below)
  raw              JSON,
  first_seen_at    TIMESTAMPTZ NOT NULL,
  updated_at       TIMESTAMPTZ NOT NULL,
  deleted_at       TIMESTAMPTZ
);

-- Every version of a probe's tracked fields, in half-open intervals [valid_from, valid_to).
-- The first version starts at -infinity so that older and backfilled readings find it; the open one ends at infinity.
CREATE TABLE probe_history (
  serial       VARCHAR NOT NULL,
  probe_id     BIGINT,
  name         VARCHAR,
  location_id  BIGINT,
  latitude     DOUBLE,
  longitude    DOUBLE,
  customer_id  BIGINT,
  soil_profile JSON,
  version_hash VARCHAR NOT NULL,
  valid_from   TIMESTAMPTZ NOT NULL,
  valid_to     TIMESTAMPTZ NOT NULL DEFAULT 'infinity',
  changed_by   VARCHAR NOT NULL,         -- the job or command that saw or made the change
  run_id       VARCHAR
);

-- Battery, RSSI and connectivity over time: status, not versions. A row per distinct status seen at a last_update.
CREATE TABLE probe_status (
  serial       VARCHAR NOT NULL,
  last_update  TIMESTAMPTZ NOT NULL,
  battery      VARCHAR,
  rssi         DOUBLE,
  connectivity VARCHAR,
  run_id       VARCHAR
);

-- One row per (serial, type, depth_cm, ts); NULL depth_cm counts as equal to NULL in that key.
-- The first value stored for a key stands; a different later value goes to reading_conflicts.
CREATE TABLE readings (
  serial      VARCHAR NOT NULL,
  probe_id    BIGINT,
  type        VARCHAR NOT NULL,          -- MOISTURE | SI | TEMPERATURE | other types as sent
  depth_cm    INTEGER,                   -- NULL for readings without a depth (temperature)
  ts          TIMESTAMPTZ NOT NULL,
  value       DOUBLE NOT NULL,
  unit        VARCHAR,
  source      VARCHAR NOT NULL,          -- push | status | backfill | reconcile
  received_at TIMESTAMPTZ NOT NULL,
  extra       JSON                       -- fields of the reading we do not know (kept, never dropped)
);

CREATE TABLE reading_conflicts (
  serial         VARCHAR NOT NULL,
  type           VARCHAR NOT NULL,
  depth_cm       INTEGER,
  ts             TIMESTAMPTZ NOT NULL,
  stored_value   DOUBLE,
  offered_value  DOUBLE NOT NULL,
  source         VARCHAR NOT NULL,
  received_at    TIMESTAMPTZ NOT NULL
);

-- Pushes as they arrived, kept RAW_PUSH_RETENTION_DAYS so that readings can be derived again.
CREATE TABLE raw_pushes (
  received_at TIMESTAMPTZ NOT NULL,
  body_hash   VARCHAR NOT NULL,
  body        VARCHAR NOT NULL
);

-- Authentic pushes (or parts of them) that could not be used, verbatim, with the reason. Kept, never lost.
CREATE TABLE rejected_pushes (
  received_at TIMESTAMPTZ NOT NULL,
  reason      VARCHAR NOT NULL,
  body        VARCHAR NOT NULL,
  body_hash   VARCHAR NOT NULL           -- md5(reason || body): a pusher retrying the same body adds nothing
);

-- Snapshot pages are staged here by a pull and applied in one short transaction; rows are keyed by run.
CREATE TABLE stage_probes (
  run_id           VARCHAR NOT NULL,
  serial           VARCHAR NOT NULL,
  probe_id         BIGINT,
  name             VARCHAR,
  sku              VARCHAR,
  state            VARCHAR,
  location_id      BIGINT,
  latitude         DOUBLE,
  longitude        DOUBLE,
  customer_id      BIGINT,
  interval_minutes DOUBLE,
  unit             VARCHAR,
  dev_eui          VARCHAR,
  soil_profile     JSON,
  battery          VARCHAR,
  rssi             DOUBLE,
  connectivity     VARCHAR,
  last_update      TIMESTAMPTZ,
  raw              JSON
);
CREATE TABLE stage_locations (run_id VARCHAR NOT NULL, id BIGINT NOT NULL, name VARCHAR, customer_id BIGINT, code VARCHAR, raw JSON);
CREATE TABLE stage_customers (run_id VARCHAR NOT NULL, id BIGINT NOT NULL, name VARCHAR, email VARCHAR, raw JSON);
CREATE TABLE stage_parameters (run_id VARCHAR NOT NULL, type VARCHAR NOT NULL, key VARCHAR NOT NULL, name VARCHAR, raw JSON);
CREATE TABLE stage_customer_probes (run_id VARCHAR NOT NULL, customer_id BIGINT NOT NULL, serial VARCHAR NOT NULL, probe_id BIGINT);
CREATE TABLE stage_readings (
  run_id      VARCHAR NOT NULL,
  serial      VARCHAR NOT NULL,
  probe_id    BIGINT,
  type        VARCHAR NOT NULL,
  depth_cm    INTEGER,
  ts          TIMESTAMPTZ NOT NULL,
  value       DOUBLE NOT NULL,
  unit        VARCHAR,
  source      VARCHAR NOT NULL,
  received_at TIMESTAMPTZ NOT NULL,
  extra       JSON
);

-- The hash of a probe's tracked fields: a new probe_history version only when one of these changes
-- (architecture.md, decision 5). Battery, RSSI and last-seen are status, not part of it.
CREATE MACRO probe_version_hash(name, location_id, latitude, longitude, customer_id, soil_profile) AS
  md5(to_json({
    'name': name, 'location_id': location_id, 'latitude': latitude, 'longitude': longitude,
    'customer_id': customer_id, 'soil_profile': CAST(soil_profile AS VARCHAR)
  })::VARCHAR);
