-- The REPORT_TZ the daily rollup was last made with, if any. No params.
SELECT value FROM warehouse_settings WHERE key = 'report_tz'
