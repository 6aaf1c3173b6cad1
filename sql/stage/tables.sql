-- The stage tables the warehouse has (their columns: stage/columns.sql). No parameters.
SELECT table_name
FROM duckdb_tables()
WHERE database_name = current_database() AND schema_name = 'main' AND table_name LIKE 'stage\_%' ESCAPE '\'
