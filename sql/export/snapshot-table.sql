-- Copies a table (or a view, materialised) into the snapshot being written, in types BI tools read. Splices:
-- {{snapshot}} the attached snapshot, {{table}} the name, {{columns}} the converted column list.
CREATE OR REPLACE TABLE {{snapshot}}.{{table}} AS SELECT {{columns}} FROM {{table}}
