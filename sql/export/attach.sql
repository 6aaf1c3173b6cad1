-- Creates the snapshot file of a new export version, in a storage version DuckDB 1.0 and later can open (the
-- DuckDB builds inside BI drivers lag behind). Splices: {{path}}, {{snapshot}}.
ATTACH {{path}} AS {{snapshot}} (STORAGE_VERSION 'v1.0.0')
