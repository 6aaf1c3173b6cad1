-- 0002: staging for the push writer. A batch of pushes (one BullMQ job) is staged under its run id and applied
-- in the same transaction.

-- Each push of a batch, verbatim; reason is set for what goes to rejected_pushes instead of raw_pushes.
CREATE TABLE stage_pushes (
  run_id      VARCHAR NOT NULL,
  received_at TIMESTAMPTZ NOT NULL,
  reason      VARCHAR,
  body        VARCHAR NOT NULL
);

-- Battery and RSSI as pushed with each uplink, for the probe_status series.
CREATE TABLE stage_status (
  run_id      VARCHAR NOT NULL,
  serial      VARCHAR NOT NULL,
  last_update TIMESTAMPTZ NOT NULL,
  battery     VARCHAR,
  rssi        DOUBLE
);
