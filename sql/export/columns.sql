-- The columns of a table or view of the warehouse, in order, with their types. Params: $name
SELECT column_name, data_type
FROM duckdb_columns()
WHERE database_name = current_database() AND schema_name = 'main' AND table_name = $name
ORDER BY column_index
