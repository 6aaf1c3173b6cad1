-- 0005: the unknown fields of a pushed uplink, kept once per uplink rather than copied into each of its readings
-- (a reading's own unknown fields stay in readings.extra).

CREATE TABLE uplink_extras (
  serial      VARCHAR NOT NULL,
  uplink_ts   TIMESTAMPTZ,              -- the uplink's timestamp; NULL when it had none (or none we could read)
  received_at TIMESTAMPTZ NOT NULL,     -- when the push that carried it arrived (the first time)
  extra       JSON NOT NULL,
  extra_hash  VARCHAR NOT NULL          -- md5 of serial, uplink_ts and extra: a redelivered uplink adds nothing
);

CREATE TABLE stage_uplink_extras (
  run_id      VARCHAR NOT NULL,
  serial      VARCHAR NOT NULL,
  uplink_ts   TIMESTAMPTZ,
  received_at TIMESTAMPTZ NOT NULL,
  extra       JSON NOT NULL
);
