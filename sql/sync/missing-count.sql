-- How many active rows of a table a run's staged list would mark deleted, out of how many active now: a list that
-- would remove too large a share at once is more likely truncated than true. Params: $run_id
SELECT
  count(*) FILTER (WHERE id NOT IN (SELECT id FROM {{stage}} WHERE run_id = $run_id)) AS missing,
  count(*) AS active_before
FROM {{table}}
WHERE deleted_at IS NULL
