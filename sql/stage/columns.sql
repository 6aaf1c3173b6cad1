-- The columns of one stage table, in table order (checked against src/warehouse/stage-tables.ts when the warehouse
-- opens). Params: $table, as main.<name>, one that exists (stage/tables.sql). pragma_table_info reads that table
-- alone; duckdb_columns() would bind every view of the warehouse first.
SELECT list(name ORDER BY cid) AS columns FROM pragma_table_info($table)
