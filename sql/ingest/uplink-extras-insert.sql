-- Keeps the unknown fields of a batch's uplinks, once per (serial, uplink_ts, extra): a redelivered uplink adds
-- nothing. Params: $run_id
INSERT INTO uplink_extras (serial, uplink_ts, received_at, extra, extra_hash)
SELECT serial, uplink_ts, received_at, extra, extra_hash
FROM (
  SELECT serial, uplink_ts, received_at, extra,
    md5(concat_ws('|', serial, CAST(epoch_ms(uplink_ts) AS VARCHAR), CAST(extra AS VARCHAR))) AS extra_hash
  FROM stage_uplink_extras
  WHERE run_id = $run_id
  QUALIFY row_number() OVER (PARTITION BY extra_hash ORDER BY received_at) = 1
) s
WHERE NOT EXISTS (SELECT 1 FROM uplink_extras u WHERE u.extra_hash = s.extra_hash)
