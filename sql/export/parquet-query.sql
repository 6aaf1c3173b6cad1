-- Writes the rows of a query as a Parquet file (a view computed from what the publish has just written, export.ts).
-- Run with the snapshot as the current database, so that the query's tables are the snapshot's.
-- Splices (named here without their braces, since the query spans lines): query, path, and compression: one of
-- config.ts's PARQUET_COMPRESSIONS, as a literal.
COPY (
{{query}}
) TO {{path}} (FORMAT parquet, COMPRESSION {{compression}})
