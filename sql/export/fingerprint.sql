-- What a table holds, cheaply comparable between publishes: its row count and the sum of a hash of each row (in
-- the types the export writes), so that equal fingerprints mean the same rows whatever their order.
-- Splices: {{table}}, {{columns}} the converted column list.
SELECT count(*) AS row_count, coalesce(sum(hash(exported)), 0) AS row_hash
FROM (SELECT {{columns}} FROM {{table}}) exported
