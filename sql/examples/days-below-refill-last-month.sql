-- How much of last month did each customer's fields spend below refill? Per field and depth: the days of last
-- month with readings, and how many of them averaged below the refill point of the soil at that depth.
WITH last_month AS (
  SELECT date_trunc('month', current_date - INTERVAL 1 MONTH) AS first_day, date_trunc('month', current_date) AS end_day
)
SELECT
  c.name AS customer,
  l.name AS field,
  d.depth_cm,
  count(DISTINCT d.day) AS days_measured,
  count(DISTINCT d.day) FILTER (WHERE d.water_status IN ('below refill', 'below wilting point')) AS days_below_refill,
  round(100.0 * days_below_refill / days_measured, 1) AS pct_below_refill
FROM readings_daily d
CROSS JOIN last_month m
LEFT JOIN customers c ON c.id = d.customer_id
LEFT JOIN locations l ON l.id = d.location_id
WHERE d.type = 'MOISTURE' AND d.water_status IS NOT NULL AND d.day >= m.first_day AND d.day < m.end_day
GROUP BY c.name, l.name, d.depth_cm
ORDER BY customer, field, depth_cm
