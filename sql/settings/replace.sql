-- Records the settings the views read. Params: $report_tz, $stale_after_hours
INSERT INTO warehouse_settings VALUES ('report_tz', $report_tz), ('stale_after_hours', $stale_after_hours)
