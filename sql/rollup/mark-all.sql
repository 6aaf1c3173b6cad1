-- Marks every reading for a new daily rollup (REPORT_TZ changed: days of probes without coordinates move).
INSERT INTO rollup_dirty (serial, from_ts, to_ts) SELECT serial, min(ts), max(ts) FROM readings GROUP BY serial
