/**
 * What `query` may call: an allowlist, not a denylist. A function is allowed by its name (DuckDB finds functions
 * by name whatever the case, quoting or schema, so the name is what is checked); anything not named here is refused,
 * including every function a later DuckDB adds until someone reviews it and adds it.
 *
 * - AGGREGATES: every aggregate and window function of DuckDB 1.5 (they read rows and are bounded by them).
 * - SCALARS: DuckDB 1.5's scalar functions and macros (math, string, date/time, list, struct, map, JSON, regex,
 *   casts and operators), generated from duckdb_functions() and then cut by hand: out are functions with side
 *   effects (nextval, setseed, random, uuid, write_log, sleep_ms), functions about settings, sessions, plans, the
 *   parser and logs (current_setting, getvariable, json_serialize_sql, json_serialize_plan, parse_duckdb_log_message),
 *   DuckDB's internal ones (__internal_*, finalize, combine, create_sort_key, vector_type, stats), and the PostgreSQL
 *   catalog stubs (pg_*, has_*_privilege) but pg_typeof and pg_size_pretty, and list_reduce (reduce, array_reduce),
 *   whose accumulator can double at each step (a || a) in one call.
 * - TABLE_FUNCTIONS: the few that read nothing but their arguments or the warehouse's own catalog. Out are every
 *   file, database, extension, settings, logging, profiling, checkpoint and parser function (read_*, glob, query,
 *   checkpoint, enable_logging, enable_peg_parser, duckdb_settings, ...).
 * - BUILDERS: allowed functions that build a list or a string in one call, which DuckDB cannot interrupt or bound
 *   by its memory limit: their size argument must be a number written in the query, at most MAX_BUILT (see
 *   read-only.ts). A vector of 2,048 rows of 10,000 values each is ~160 MB; more belongs in FROM range(...).
 */

export const AGGREGATES: readonly string[] = [
  'any_value', 'approx_count_distinct', 'approx_quantile', 'approx_top_k', 'arbitrary', 'arg_max', 'arg_max_null',
  'arg_max_nulls_last', 'arg_min', 'arg_min_null', 'arg_min_nulls_last', 'argmax', 'argmin', 'array_agg', 'avg',
  'bit_and', 'bit_or', 'bit_xor', 'bitstring_agg', 'bool_and', 'bool_or', 'corr', 'count', 'count_if', 'count_star',
  'countif', 'covar_pop', 'covar_samp', 'cume_dist', 'dense_rank', 'entropy', 'favg', 'fill', 'first', 'first_value',
  'fsum', 'group_concat', 'histogram', 'histogram_exact', 'kahan_sum', 'kurtosis', 'kurtosis_pop', 'lag', 'last',
  'last_value', 'lead', 'list', 'listagg', 'mad', 'max', 'max_by', 'mean', 'median', 'min', 'min_by', 'mode',
  'nth_value', 'ntile', 'percent_rank', 'product', 'quantile', 'quantile_cont', 'quantile_disc', 'rank', 'rank_dense',
  'regr_avgx', 'regr_avgy', 'regr_count', 'regr_intercept', 'regr_r2', 'regr_slope', 'regr_sxx', 'regr_sxy',
  'regr_syy', 'reservoir_quantile', 'row_number', 'sem', 'skewness', 'stddev', 'stddev_pop', 'stddev_samp',
  'string_agg', 'sum', 'sum_no_overflow', 'sumkahan', 'var_pop', 'var_samp', 'variance',
];

export const SCALARS: readonly string[] = [
  '!__postfix', '!~~', '!~~*', '%', '&', '&&', '*', '**', '+', '-', '->>', '/', '//', '<->', '<<', '<=>', '<@', '>>',
  '@', '@>', '^', '^@', 'abs', 'acos', 'acosh', 'add', 'age', 'aggregate', 'apply', 'array_aggr', 'array_aggregate',
  'array_apply', 'array_cat', 'array_concat', 'array_contains', 'array_cosine_distance', 'array_cosine_similarity',
  'array_cross_product', 'array_distance', 'array_distinct', 'array_dot_product', 'array_extract', 'array_filter',
  'array_grade_up', 'array_has', 'array_has_all', 'array_has_any', 'array_indexof', 'array_inner_product',
  'array_intersect', 'array_length', 'array_negative_dot_product', 'array_negative_inner_product', 'array_position',
  'array_resize', 'array_reverse_sort', 'array_select', 'array_slice', 'array_sort', 'array_to_json',
  'array_transform', 'array_unique', 'array_value', 'array_where', 'array_zip', 'ascii', 'asin', 'asinh', 'atan',
  'atan2', 'atanh', 'bar', 'base64', 'bin', 'bit_count', 'bit_length', 'bit_position', 'bitstring', 'cardinality',
  'cbrt', 'ceil', 'ceiling', 'century', 'char_length', 'character_length', 'chr', 'concat', 'concat_ws', 'contains',
  'cos', 'cosh', 'cot', 'current_database', 'current_date', 'current_localtime', 'current_localtimestamp',
  'current_schema', 'current_schemas', 'damerau_levenshtein', 'date_diff', 'date_part', 'date_sub', 'date_trunc',
  'datediff', 'datepart', 'datesub', 'datetrunc', 'day', 'dayname', 'dayofmonth', 'dayofweek', 'dayofyear', 'decade',
  'decode', 'degrees', 'divide', 'editdist3', 'element_at', 'encode', 'ends_with', 'enum_code', 'enum_first',
  'enum_last', 'enum_range', 'enum_range_boundary', 'epoch', 'epoch_ms', 'epoch_ns', 'epoch_us', 'equi_width_bins',
  'era', 'even', 'exp', 'factorial', 'filter', 'flatten', 'floor', 'format', 'formatReadableDecimalSize',
  'formatReadableSize', 'format_bytes', 'from_base64', 'from_binary', 'from_hex', 'from_json', 'from_json_strict',
  'gamma', 'gcd', 'generate_series', 'get_bit', 'get_current_time', 'get_current_timestamp', 'grade_up', 'greatest',
  'greatest_common_divisor', 'hamming', 'hash', 'hex', 'hour', 'icu_sort_key', 'ilike_escape', 'instr',
  'is_histogram_other_bin', 'isfinite', 'isinf', 'isnan', 'isodow', 'isoyear', 'jaccard', 'jaro_similarity',
  'jaro_winkler_similarity', 'json_array', 'json_array_length', 'json_contains', 'json_exists', 'json_extract',
  'json_extract_path', 'json_extract_path_text', 'json_extract_string', 'json_keys', 'json_merge_patch',
  'json_object', 'json_pretty', 'json_quote', 'json_structure', 'json_transform', 'json_transform_strict',
  'json_type', 'json_valid', 'json_value', 'julian', 'last_day', 'lcase', 'lcm', 'least', 'least_common_multiple',
  'left', 'left_grapheme', 'len', 'length', 'length_grapheme', 'levenshtein', 'lgamma', 'like_escape', 'list_aggr',
  'list_aggregate', 'list_apply', 'list_cat', 'list_concat', 'list_contains', 'list_cosine_distance',
  'list_cosine_similarity', 'list_distance', 'list_distinct', 'list_dot_product', 'list_element', 'list_extract',
  'list_filter', 'list_grade_up', 'list_has', 'list_has_all', 'list_has_any', 'list_indexof', 'list_inner_product',
  'list_intersect', 'list_negative_dot_product', 'list_negative_inner_product', 'list_pack', 'list_position',
  'list_resize', 'list_reverse_sort', 'list_select', 'list_slice', 'list_sort', 'list_transform',
  'list_unique', 'list_value', 'list_where', 'list_zip', 'ln', 'log', 'log10', 'log2', 'lower', 'lpad', 'ltrim',
  'make_date', 'make_time', 'make_timestamp', 'make_timestamp_ms', 'make_timestamp_ns', 'make_timestamptz', 'map',
  'map_concat', 'map_contains', 'map_entries', 'map_extract', 'map_extract_value', 'map_from_entries', 'map_keys',
  'map_values', 'md5', 'md5_number', 'microsecond', 'millennium', 'millisecond', 'minute', 'mismatches', 'mod',
  'month', 'monthname', 'multiply', 'nanosecond', 'nextafter', 'nfc_normalize', 'normalized_interval',
  'not_ilike_escape', 'not_like_escape', 'now', 'octet_length', 'ord', 'parse_dirname', 'parse_dirpath',
  'parse_filename', 'parse_formatted_bytes', 'parse_path', 'pi', 'position', 'pow', 'power', 'prefix', 'printf',
  'quarter', 'radians', 'range', 'regexp_escape', 'regexp_extract', 'regexp_extract_all',
  'regexp_full_match', 'regexp_matches', 'regexp_replace', 'regexp_split_to_array', 'repeat', 'replace', 'reverse',
  'right', 'right_grapheme', 'round', 'row', 'row_to_json', 'rpad', 'rtrim', 'second', 'set_bit', 'sha1', 'sha256',
  'sign', 'signbit', 'sin', 'sinh', 'split', 'sqrt', 'st_asbinary', 'st_astext', 'st_aswkb', 'st_aswkt', 'st_crs',
  'st_geomfromwkb', 'st_intersects_extent', 'st_setcrs', 'starts_with', 'str_split', 'str_split_regex', 'strftime',
  'string_split', 'string_split_regex', 'string_to_array', 'strip_accents', 'strlen', 'strpos', 'strptime',
  'struct_concat', 'struct_contains', 'struct_extract', 'struct_extract_at', 'struct_has', 'struct_indexof',
  'struct_insert', 'struct_keys', 'struct_pack', 'struct_position', 'struct_update', 'struct_values', 'substr',
  'substring', 'substring_grapheme', 'subtract', 'suffix', 'switch', 'tan', 'tanh', 'time_bucket',
  'timetz_byte_comparable', 'timezone', 'timezone_hour', 'timezone_minute', 'to_base', 'to_base64', 'to_binary',
  'to_centuries', 'to_days', 'to_decades', 'to_hex', 'to_hours', 'to_json', 'to_microseconds', 'to_millennia',
  'to_milliseconds', 'to_minutes', 'to_months', 'to_quarters', 'to_seconds', 'to_timestamp', 'to_weeks', 'to_years',
  'today', 'transaction_timestamp', 'translate', 'trim', 'trunc', 'try_strptime', 'typeof', 'ucase', 'unbin', 'unhex',
  'unicode', 'union_extract', 'union_tag', 'union_value', 'unpivot_list', 'upper', 'url_decode', 'url_encode',
  'uuid_extract_timestamp', 'uuid_extract_version', 'variant_extract', 'variant_normalize', 'variant_typeof',
  'version', 'week', 'weekday', 'weekofyear', 'xor', 'year', 'yearweek', '|', '||', '~', '~~', '~~*', '~~~',
];

export const TABLE_FUNCTIONS: readonly string[] = [
  'range', 'generate_series', 'unnest', 'repeat', 'repeat_row', 'json_each', 'json_tree', 'duckdb_tables', 'duckdb_views',
  'duckdb_columns', 'duckdb_schemas', 'duckdb_databases', 'duckdb_types', 'duckdb_functions', 'duckdb_constraints',
  'duckdb_indexes', 'duckdb_keywords', 'pragma_table_info', 'pg_timezone_names', 'icu_calendar_names',
];

/** Scalar functions that build a list or a string, and which argument says how large (0-based). */
export const BUILDERS: Readonly<Record<string, { sizeArgument: number | 'count' }>> = {
  range: { sizeArgument: 'count' },
  generate_series: { sizeArgument: 'count' },
  repeat: { sizeArgument: 1 },
  lpad: { sizeArgument: 1 },
  rpad: { sizeArgument: 1 },
  list_resize: { sizeArgument: 1 },
  array_resize: { sizeArgument: 1 },
};
