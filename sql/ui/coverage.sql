-- The web page's coverage: probes by local day over their last $days days (each probe's own calendar, from
-- readings_daily: today is its local today, begun), the mean coverage of its series that day (0 to 1).
-- Params: $days
SELECT serial, any_value(probe_name) AS probe_name, CAST(day AS VARCHAR) AS day, round(avg(coverage), 4) AS coverage
FROM readings_daily
WHERE day > CAST(timezone(time_zone, now()) AS DATE) - CAST($days AS INTEGER)
  AND day <= CAST(timezone(time_zone, now()) AS DATE)
GROUP BY serial, day
ORDER BY serial, day
