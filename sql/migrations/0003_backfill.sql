-- 0003: what a backfill has done, chunk by chunk, so that an interrupted one resumes where it stopped.
CREATE TABLE backfill_chunks (
  backfill_id VARCHAR NOT NULL,           -- md5 of the request: from, to, probe
  serial      VARCHAR NOT NULL,
  chunk_from  TIMESTAMPTZ NOT NULL,
  chunk_to    TIMESTAMPTZ NOT NULL,
  readings    BIGINT NOT NULL,            -- read from the API
  inserted    BIGINT NOT NULL,
  done_at     TIMESTAMPTZ NOT NULL
);
