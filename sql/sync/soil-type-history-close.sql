-- Ends the open version of every soil type whose definition changes. Params: $at. Runs before soil-types-merge.
UPDATE soil_type_history h
SET valid_to = $at
FROM desired_soil_types d, soil_types t
WHERE h.key = d.key AND t.key = d.key
  AND h.valid_to = 'infinity'::TIMESTAMPTZ
  AND h.valid_from <= $at
  AND t.version_hash <> d.version_hash
