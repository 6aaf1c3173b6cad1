-- The columns of each stage table, in table order (checked against src/warehouse/stage-tables.ts when the warehouse opens). No parameters.
SELECT table_name, list(column_name ORDER BY column_index) AS columns
FROM duckdb_columns()
WHERE database_name = current_database() AND schema_name = 'main' AND table_name LIKE 'stage\_%' ESCAPE '\'
GROUP BY table_name
