-- The columns of every table and view of the warehouse, in order, with their types: read once per publish
-- (duckdb_columns() binds every view each time it is read: read per table, it was half of a small publish's CPU).
SELECT table_name, column_name, data_type
FROM duckdb_columns()
WHERE database_name = current_database() AND schema_name = 'main'
ORDER BY table_name, column_index
