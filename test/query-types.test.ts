/**
 * Every DuckDB type prints in each of `query`'s formats (table, csv, json): numbers exact or their exact digits,
 * NaN and infinities said as such, times as ISO 8601 in UTC whatever the year (and 'infinity'), intervals and
 * times of day as DuckDB writes them, nested values as JSON by the same rules (query/values.ts). The answers
 * go through `query`'s read-only path on a real warehouse, and once through the CLI and Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatRows, type Format } from '../src/format/table.js';
import { createLogger } from '../src/logger.js';
import type { QueryResult } from '../src/warehouse/query/read-only.js';
import { Warehouse } from '../src/warehouse/warehouse.js';
import { runCli } from './helpers/cli.js';
import { testPlace, type TestPlace } from './helpers/config.js';
import { startStack, type Stack } from './helpers/stack.js';
import { createWarehouse } from './helpers/warehouse.js';

let place: TestPlace;
let db: Warehouse;

beforeAll(async () => {
  place = testPlace();
  db = await Warehouse.open(
    place.config.warehousePath,
    place.config.duckdb,
    createLogger('silent'),
    place.config.exportDir,
  );
});
afterAll(async () => {
  await db?.close();
  place?.cleanup();
});

const ask = (sql: string): Promise<QueryResult> => db.query(sql, { timeoutMs: 30_000, memoryMb: 1024 });

async function printed(sql: string): Promise<Record<Format, string>> {
  const { columns, rows } = await ask(sql);
  return {
    table: formatRows(columns, rows, 'table'),
    csv: formatRows(columns, rows, 'csv'),
    json: formatRows(columns, rows, 'json'),
  };
}

const lines = (...text: string[]): string => text.join('\n');

describe('every DuckDB type prints, in each format', () => {
  it('integers: a number while it is exact, past 2^53 the exact digits', async () => {
    const out = await printed(`
      SELECT CAST(t AS TINYINT) AS tinyint, CAST(i AS INTEGER) AS "integer", CAST(b AS BIGINT) AS "bigint", CAST(ub AS UBIGINT) AS "ubigint",
        CAST(h AS HUGEINT) AS "hugeint", CAST(uh AS UHUGEINT) AS "uhugeint", CAST(bn AS BIGNUM) AS "bignum"
      FROM (VALUES
        (1, '-128', '42', '9007199254740991', '0', '-170141183460469231731687303715884105728', '0', '123456789012345678901234567890'),
        (2, '127', '-2147483648', '9223372036854775807', '18446744073709551615', '170141183460469231731687303715884105727', '340282366920938463463374607431768211455', '-1'),
        (3, NULL, NULL, '-9007199254740993', NULL, '12', NULL, NULL)
      ) v(n, t, i, b, ub, h, uh, bn) ORDER BY n`);
    expect(out.table).toBe(
      lines(
        'tinyint      integer               bigint               ubigint                                   hugeint                                 uhugeint                          bignum',
        '-------  -----------  -------------------  --------------------  ----------------------------------------  ---------------------------------------  ------------------------------',
        '   -128           42     9007199254740991                     0  -170141183460469231731687303715884105728                                        0  123456789012345678901234567890',
        '    127  -2147483648  9223372036854775807  18446744073709551615   170141183460469231731687303715884105727  340282366920938463463374607431768211455                              -1',
        '                        -9007199254740993                                                              12',
        '(3 rows)',
      ),
    );
    expect(out.csv).toBe(
      lines(
        'tinyint,integer,bigint,ubigint,hugeint,uhugeint,bignum',
        '-128,42,9007199254740991,0,-170141183460469231731687303715884105728,0,123456789012345678901234567890',
        '127,-2147483648,9223372036854775807,18446744073709551615,170141183460469231731687303715884105727,340282366920938463463374607431768211455,-1',
        ',,-9007199254740993,,12,,',
      ),
    );
    expect(out.json).toBe(
      lines(
        '[',
        '  {',
        '    "tinyint": -128,',
        '    "integer": 42,',
        '    "bigint": 9007199254740991,',
        '    "ubigint": 0,',
        '    "hugeint": "-170141183460469231731687303715884105728",',
        '    "uhugeint": 0,',
        '    "bignum": "123456789012345678901234567890"',
        '  },',
        '  {',
        '    "tinyint": 127,',
        '    "integer": -2147483648,',
        '    "bigint": "9223372036854775807",',
        '    "ubigint": "18446744073709551615",',
        '    "hugeint": "170141183460469231731687303715884105727",',
        '    "uhugeint": "340282366920938463463374607431768211455",',
        '    "bignum": -1',
        '  },',
        '  {',
        '    "tinyint": null,',
        '    "integer": null,',
        '    "bigint": "-9007199254740993",',
        '    "ubigint": null,',
        '    "hugeint": 12,',
        '    "uhugeint": null,',
        '    "bignum": null',
        '  }',
        ']',
      ),
    );
  });

  it('floating point and decimals: NaN and the infinities said as such, a decimal exact', async () => {
    const out = await printed(`
      SELECT CAST(d AS DOUBLE) AS "double", CAST(f AS FLOAT) AS "float", CAST(d2 AS DECIMAL(4,2)) AS "decimal(4,2)", CAST(d38 AS DECIMAL(38,9)) AS "decimal(38,9)"
      FROM (VALUES
        (1, '1.25', '0.1', '1.50', '0.5'),
        (2, 'NaN', 'inf', '-0.05', '12345678901234567890.123456789'),
        (3, '-inf', '-inf', NULL, '-0.000000001'),
        (4, '0.3333333333', 'NaN', '99.99', NULL)
      ) v(n, d, f, d2, d38) ORDER BY n`);
    expect(out.table).toBe(
      lines(
        '   double      float  decimal(4,2)                   decimal(38,9)',
        '---------  ---------  ------------  ------------------------------',
        '     1.25        0.1           1.5                             0.5',
        '      NaN   Infinity         -0.05  12345678901234567890.123456789',
        '-Infinity  -Infinity                                  -0.000000001',
        '    0.333        NaN         99.99',
        '(4 rows)',
      ),
    );
    expect(out.csv).toBe(
      lines(
        'double,float,"decimal(4,2)","decimal(38,9)"',
        '1.25,0.1,1.5,0.5',
        'NaN,Infinity,-0.05,12345678901234567890.123456789',
        '-Infinity,-Infinity,,-0.000000001',
        '0.3333333333,NaN,99.99,',
      ),
    );
    expect(JSON.parse(out.json)).toEqual([
      { double: 1.25, float: 0.1, 'decimal(4,2)': 1.5, 'decimal(38,9)': 0.5 },
      { double: 'NaN', float: 'Infinity', 'decimal(4,2)': -0.05, 'decimal(38,9)': '12345678901234567890.123456789' },
      { double: '-Infinity', float: '-Infinity', 'decimal(4,2)': null, 'decimal(38,9)': '-0.000000001' },
      { double: 0.3333333333, float: 'NaN', 'decimal(4,2)': 99.99, 'decimal(38,9)': null },
    ]);
  });

  it("timestamps and dates: ISO 8601 in UTC, past a JS Date's range and infinite too", async () => {
    const out = await printed(`
      SELECT CAST(ts AS TIMESTAMP) AS "timestamp", CAST(tz AS TIMESTAMPTZ) AS timestamptz, CAST(d AS DATE) AS "date"
      FROM (VALUES
        (1, '2024-07-08 09:05:00', '2024-07-08 11:05:00+02', '2024-03-31'),
        (2, '2024-07-08 09:05:00.123456', '1969-12-31 23:59:59.999+00', '0001-01-01'),
        (3, '294000-01-01 00:00:00', '-0001-12-31 23:00:00+00', '5881580-07-10'),
        (4, 'infinity', '-infinity', '-infinity'),
        (5, NULL, 'infinity', 'infinity')
      ) v(n, ts, tz, d) ORDER BY n`);
    expect(out.table).toBe(
      lines(
        'timestamp                    timestamptz                  date',
        '---------------------------  ---------------------------  --------------',
        '2024-07-08T09:05:00.000Z     2024-07-08T09:05:00.000Z     2024-03-31',
        '2024-07-08T09:05:00.123456Z  1969-12-31T23:59:59.999Z     0001-01-01',
        '+294000-01-01T00:00:00.000Z  -000001-12-31T23:00:00.000Z  +5881580-07-10',
        'infinity                     -infinity                    -infinity',
        '                             infinity                     infinity',
        '(5 rows)',
      ),
    );
    expect(out.csv).toBe(
      lines(
        'timestamp,timestamptz,date',
        '2024-07-08T09:05:00.000Z,2024-07-08T09:05:00.000Z,2024-03-31',
        '2024-07-08T09:05:00.123456Z,1969-12-31T23:59:59.999Z,0001-01-01',
        '+294000-01-01T00:00:00.000Z,-000001-12-31T23:00:00.000Z,+5881580-07-10',
        'infinity,-infinity,-infinity',
        ',infinity,infinity',
      ),
    );
    expect(JSON.parse(out.json)).toEqual([
      { timestamp: '2024-07-08T09:05:00.000Z', timestamptz: '2024-07-08T09:05:00.000Z', date: '2024-03-31' },
      { timestamp: '2024-07-08T09:05:00.123456Z', timestamptz: '1969-12-31T23:59:59.999Z', date: '0001-01-01' },
      { timestamp: '+294000-01-01T00:00:00.000Z', timestamptz: '-000001-12-31T23:00:00.000Z', date: '+5881580-07-10' },
      { timestamp: 'infinity', timestamptz: '-infinity', date: '-infinity' },
      { timestamp: null, timestamptz: 'infinity', date: 'infinity' },
    ]);
  });

  it('timestamps in seconds, milliseconds and nanoseconds: every digit they have', async () => {
    const out = await printed(`
      SELECT CAST(ns AS TIMESTAMP_NS) AS timestamp_ns, CAST(ms AS TIMESTAMP_MS) AS timestamp_ms, CAST(s AS TIMESTAMP_S) AS timestamp_s
      FROM (VALUES
        (1, '2024-07-08 09:05:00.123456789', '2024-07-08 09:05:00.5', '2024-07-08 09:05:00'),
        (2, '1677-09-22 00:00:00', '-100000-01-01 00:00:00', '290000-01-01 00:00:00'),
        (3, 'infinity', '-infinity', 'infinity')
      ) v(n, ns, ms, s) ORDER BY n`);
    expect(out.table).toBe(
      lines(
        'timestamp_ns                    timestamp_ms                 timestamp_s',
        '------------------------------  ---------------------------  ---------------------------',
        '2024-07-08T09:05:00.123456789Z  2024-07-08T09:05:00.500Z     2024-07-08T09:05:00.000Z',
        '1677-09-22T00:00:00.000Z        -100000-01-01T00:00:00.000Z  +290000-01-01T00:00:00.000Z',
        'infinity                        -infinity                    infinity',
        '(3 rows)',
      ),
    );
    expect(out.csv).toBe(
      lines(
        'timestamp_ns,timestamp_ms,timestamp_s',
        '2024-07-08T09:05:00.123456789Z,2024-07-08T09:05:00.500Z,2024-07-08T09:05:00.000Z',
        '1677-09-22T00:00:00.000Z,-100000-01-01T00:00:00.000Z,+290000-01-01T00:00:00.000Z',
        'infinity,-infinity,infinity',
      ),
    );
    expect(JSON.parse(out.json)).toEqual([
      {
        timestamp_ns: '2024-07-08T09:05:00.123456789Z',
        timestamp_ms: '2024-07-08T09:05:00.500Z',
        timestamp_s: '2024-07-08T09:05:00.000Z',
      },
      {
        timestamp_ns: '1677-09-22T00:00:00.000Z',
        timestamp_ms: '-100000-01-01T00:00:00.000Z',
        timestamp_s: '+290000-01-01T00:00:00.000Z',
      },
      { timestamp_ns: 'infinity', timestamp_ms: '-infinity', timestamp_s: 'infinity' },
    ]);
  });

  it("times of day and intervals: DuckDB's own text", async () => {
    const out = await printed(`
      SELECT CAST(t AS TIME) AS "time", CAST(tn AS TIME_NS) AS time_ns, CAST(tt AS TIMETZ) AS timetz, CAST(i AS INTERVAL) AS "interval"
      FROM (VALUES
        (1, '13:14:15', '01:02:03.123456789', '13:14:15+02:30', '1 year 2 days 3 hours'),
        (2, '23:59:59.999999', '00:00:00', '00:00:00-15:59:59', '-1 month 3.5 seconds'),
        (3, '24:00:00', NULL, NULL, '100000 hours'),
        (4, NULL, NULL, NULL, '0 seconds')
      ) v(n, t, tn, tt, i) ORDER BY n`);
    expect(out.table).toBe(
      lines(
        'time             time_ns             timetz             interval',
        '---------------  ------------------  -----------------  ----------------------',
        '13:14:15         01:02:03.123456789  13:14:15+02:30     1 year 2 days 03:00:00',
        '23:59:59.999999  00:00:00            00:00:00-15:59:59  -1 month 00:00:03.5',
        '24:00:00                                                100000:00:00',
        '                                                        00:00:00',
        '(4 rows)',
      ),
    );
    expect(out.csv).toBe(
      lines(
        'time,time_ns,timetz,interval',
        '13:14:15,01:02:03.123456789,13:14:15+02:30,1 year 2 days 03:00:00',
        '23:59:59.999999,00:00:00,00:00:00-15:59:59,-1 month 00:00:03.5',
        '24:00:00,,,100000:00:00',
        ',,,00:00:00',
      ),
    );
    expect(JSON.parse(out.json)).toEqual([
      { time: '13:14:15', time_ns: '01:02:03.123456789', timetz: '13:14:15+02:30', interval: '1 year 2 days 03:00:00' },
      { time: '23:59:59.999999', time_ns: '00:00:00', timetz: '00:00:00-15:59:59', interval: '-1 month 00:00:03.5' },
      { time: '24:00:00', time_ns: null, timetz: null, interval: '100000:00:00' },
      { time: null, time_ns: null, timetz: null, interval: '00:00:00' },
    ]);
  });

  it('text, enums, UUIDs, blobs, bits and booleans: CSV quotes what needs it, a table row stays one line', async () => {
    const out = await printed(`
      SELECT CAST(s AS VARCHAR) AS "varchar", CAST(e AS ENUM('wet', 'dry, very')) AS "enum", CAST(u AS UUID) AS "uuid", CAST(b AS BLOB) AS "blob",
        CAST(bits AS BIT) AS "bit", CAST(bo AS BOOLEAN) AS "boolean"
      FROM (VALUES
        (1, 'plain', 'wet', '550e8400-e29b-41d4-a716-446655440000', '\\xAA\\x00ab', '10101', 'true'),
        (2, 'say "hi", then' || chr(10) || 'go', 'dry, very', '00000000-0000-0000-0000-000000000000', '', '0', 'false'),
        (3, '', NULL, NULL, NULL, NULL, NULL)
      ) v(n, s, e, u, b, bits, bo) ORDER BY n`);
    expect(out.table).toBe(
      lines(
        'varchar             enum       uuid                                  blob        bit    boolean',
        '------------------  ---------  ------------------------------------  ----------  -----  -------',
        'plain               wet        550e8400-e29b-41d4-a716-446655440000  \\xAA\\x00ab  10101  true',
        'say "hi", then\\ngo  dry, very  00000000-0000-0000-0000-000000000000              0      false',
        '',
        '(3 rows)',
      ),
    );
    expect(out.csv).toBe(
      lines(
        'varchar,enum,uuid,blob,bit,boolean',
        'plain,wet,550e8400-e29b-41d4-a716-446655440000,\\xAA\\x00ab,10101,true',
        '"say ""hi"", then',
        'go","dry, very",00000000-0000-0000-0000-000000000000,,0,false',
        ',,,,,',
      ),
    );
    expect(JSON.parse(out.json)).toEqual([
      {
        varchar: 'plain',
        enum: 'wet',
        uuid: '550e8400-e29b-41d4-a716-446655440000',
        blob: '\\xAA\\x00ab',
        bit: '10101',
        boolean: true,
      },
      {
        varchar: 'say "hi", then\ngo',
        enum: 'dry, very',
        uuid: '00000000-0000-0000-0000-000000000000',
        blob: '',
        bit: '0',
        boolean: false,
      },
      { varchar: '', enum: null, uuid: null, blob: null, bit: null, boolean: null },
    ]);
  });

  it('lists, arrays, structs, maps, unions and variants: JSON, by the same rules inside', async () => {
    const out = await printed(`
      SELECT [1, NULL, 3] AS list, ['NaN'::DOUBLE, 1.5]::DOUBLE[2] AS "array",
        {'big': 18446744073709551615::UBIGINT, 'day': 'infinity'::DATE, 'at': TIMESTAMP '294000-01-01'} AS struct,
        MAP {'rain': INTERVAL 90 MINUTE, 'dry': INTERVAL 2 DAY} AS map,
        union_value(n := 2)::UNION(n INTEGER, s VARCHAR) AS "union",
        CAST(123456789012345678901234567890 AS HUGEINT)::VARIANT AS variant`);
    expect(out.table).toBe(
      lines(
        'list        array        struct                                                                              map                                                                 union                  variant',
        '----------  -----------  ----------------------------------------------------------------------------------  ------------------------------------------------------------------  ---------------------  ------------------------------',
        '[1,null,3]  ["NaN",1.5]  {"big":"18446744073709551615","day":"infinity","at":"+294000-01-01T00:00:00.000Z"}  [{"key":"rain","value":"01:30:00"},{"key":"dry","value":"2 days"}]  {"tag":"n","value":2}  123456789012345678901234567890',
        '(1 row)',
      ),
    );
    expect(out.csv).toBe(
      lines(
        'list,array,struct,map,union,variant',
        '"[1,null,3]","[""NaN"",1.5]","{""big"":""18446744073709551615"",""day"":""infinity"",""at"":""+294000-01-01T00:00:00.000Z""}",' +
          '"[{""key"":""rain"",""value"":""01:30:00""},{""key"":""dry"",""value"":""2 days""}]","{""tag"":""n"",""value"":2}",123456789012345678901234567890',
      ),
    );
    expect(JSON.parse(out.json)).toEqual([
      {
        list: [1, null, 3],
        array: ['NaN', 1.5],
        struct: { big: '18446744073709551615', day: 'infinity', at: '+294000-01-01T00:00:00.000Z' },
        map: [
          { key: 'rain', value: '01:30:00' },
          { key: 'dry', value: '2 days' },
        ],
        union: { tag: 'n', value: 2 },
        variant: '123456789012345678901234567890',
      },
    ]);
  });

  it('geometry: WKT', async () => {
    const out = await printed(`
      SELECT CAST(g AS GEOMETRY) AS geometry FROM (VALUES (1, 'POINT (1 2)'), (2, 'POINT Z EMPTY'),
        (3, 'POLYGON ((0 0, 1 0, 1 1, 0 0), (0.1 0.1, 0.2 0.1, 0.1 0.2, 0.1 0.1))'), (4, 'MULTIPOINT (1 2, EMPTY)')) v(n, g) ORDER BY n`);
    expect(out.table).toBe(
      lines(
        'geometry',
        '--------------------------------------------------------------------',
        'POINT (1 2)',
        'POINT Z EMPTY',
        'POLYGON ((0 0, 1 0, 1 1, 0 0), (0.1 0.1, 0.2 0.1, 0.1 0.2, 0.1 0.1))',
        'MULTIPOINT (1 2, EMPTY)',
        '(4 rows)',
      ),
    );
    expect(out.csv).toBe(
      lines(
        'geometry',
        'POINT (1 2)',
        'POINT Z EMPTY',
        '"POLYGON ((0 0, 1 0, 1 1, 0 0), (0.1 0.1, 0.2 0.1, 0.1 0.2, 0.1 0.1))"',
        '"MULTIPOINT (1 2, EMPTY)"',
      ),
    );
    expect(JSON.parse(out.json)).toEqual([
      { geometry: 'POINT (1 2)' },
      { geometry: 'POINT Z EMPTY' },
      { geometry: 'POLYGON ((0 0, 1 0, 1 1, 0 0), (0.1 0.1, 0.2 0.1, 0.1 0.2, 0.1 0.1))' },
      { geometry: 'MULTIPOINT (1 2, EMPTY)' },
    ]);
  });
});

describe('the text forms', () => {
  it("are DuckDB's own for intervals, times of day, blobs, bits, UUIDs and geometry", async () => {
    const { rows } = await ask(`
      SELECT v, CAST(v AS VARCHAR) AS duckdb FROM (
        SELECT CAST(i AS INTERVAL)::VARIANT AS v FROM (VALUES ('1 year 2 days 3 hours'), ('-3 days -4 hours -0.000001 seconds'), ('14 months'), ('0.5 seconds')) t(i)
        UNION ALL SELECT CAST(t AS TIMETZ)::VARIANT FROM (VALUES ('13:14:15.5-02:30'), ('00:00:00+15:59:59')) t(t)
        UNION ALL SELECT CAST(t AS TIME)::VARIANT FROM (VALUES ('00:00:00.000001'), ('24:00:00')) t(t)
        UNION ALL SELECT CAST(b AS BLOB)::VARIANT FROM (VALUES ('\\x00\\xFFa\\x5Cb'), ('line' || chr(10))) t(b)
        UNION ALL SELECT CAST(b AS BIT)::VARIANT FROM (VALUES ('0'), ('1000000001')) t(b)
        UNION ALL SELECT CAST(u AS UUID)::VARIANT FROM (VALUES ('FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF')) t(u)
      )`);
    expect(rows.length).toBe(13);
    for (const row of rows) expect(row.v).toBe(row.duckdb);
    const geometry = await ask(`
      SELECT g, CAST(g AS VARCHAR) AS duckdb FROM (SELECT CAST(w AS GEOMETRY) AS g FROM (VALUES ('POINT ZM (1 2 3 4)'), ('LINESTRING M (0 0 1, 1 1 2)'),
        ('MULTILINESTRING ((0 0, 1 1), (2 2, 3 3))'), ('MULTIPOLYGON (EMPTY, ((0 0, 1 0, 1 1, 0 0)))'), ('GEOMETRYCOLLECTION Z (POINT Z (1 2 3))'),
        ('GEOMETRYCOLLECTION (POINT EMPTY, GEOMETRYCOLLECTION (POINT (1e-7 1e16)))'), ('POINT (0.0001 -12345678900000000)'), ('LINESTRING EMPTY')) t(w))`);
    expect(geometry.rows.length).toBe(8);
    for (const row of geometry.rows) expect(row.g).toBe(row.duckdb);
  });

  it('of a timestamp are its UTC calendar date and time, in the range of a JS Date exactly as a Date writes it', async () => {
    // 9999 instants spread over TIMESTAMP's whole range (290309 BC to 294247), every other one in whole milliseconds
    const { rows } = await ask(`
      SELECT ts, year(ts) AS y, month(ts) AS m, day(ts) AS d, strftime(ts, '%H:%M:%S.%f') AS hms, epoch_ms(ts) AS ms,
        microsecond(ts) % 1000 = 0 AS whole_ms
      FROM (SELECT make_timestamp((i - 4999) * 1844674400000000 + CASE WHEN i % 2 = 0 THEN i * 7919000 ELSE i * 7919 END) AS ts FROM range(9999) r(i))`);
    expect(rows.length).toBe(9999);
    let asDate = 0;
    for (const row of rows) {
      const [, year, month, day, time, fraction] =
        /^([+-]?\d{4,}\d*)-(\d\d)-(\d\d)T(\d\d:\d\d:\d\d)\.(\d{3}|\d{6})Z$/.exec(String(row.ts)) ?? [];
      expect([Number(year), Number(month), Number(day), `${time}.${fraction!.padEnd(6, '0')}`]).toEqual([
        row.y,
        row.m,
        row.d,
        row.hms,
      ]);
      if (row.whole_ms && Math.abs(Number(row.ms)) <= 8.64e15) {
        expect(row.ts).toBe(new Date(Number(row.ms)).toISOString());
        asDate++;
      }
    }
    expect(asDate).toBeGreaterThan(4000);
  });
});

describe('through the command line', () => {
  const HARD = `SELECT INTERVAL '1 year 2 days 3 hours' AS iv, 'NaN'::DOUBLE AS nan, '-inf'::FLOAT AS ninf, TIMESTAMP '294000-01-01' AS far,
    'infinity'::TIMESTAMP AS ts_inf, 'infinity'::DATE AS day_inf, 170141183460469231731687303715884105727::HUGEINT AS huge,
    12345678901234567890.123456789::DECIMAL(38,9) AS dec, '\\xAA'::BLOB AS bytes,
    [INTERVAL 1 DAY, NULL] AS intervals, {'t': TIMESTAMPTZ '2024-07-08 09:05:00+00', 'n': 'inf'::DOUBLE} AS nested`;
  const EXPECTED = [
    {
      iv: '1 year 2 days 03:00:00',
      nan: 'NaN',
      ninf: '-Infinity',
      far: '+294000-01-01T00:00:00.000Z',
      ts_inf: 'infinity',
      day_inf: 'infinity',
      huge: '170141183460469231731687303715884105727',
      dec: '12345678901234567890.123456789',
      bytes: '\\xAA',
      intervals: ['1 day', null],
      nested: { t: '2024-07-08T09:05:00.000Z', n: 'Infinity' },
    },
  ];

  it('the hard types survive the trip from the worker through Redis', async () => {
    let stack: Stack | undefined;
    try {
      stack = await startStack();
      const json = await runCli(['query', HARD, '--format', 'json'], stack.place.env);
      expect(json.stderr).toBe('');
      expect(json.code).toBe(0);
      expect(JSON.parse(json.stdout)).toEqual(EXPECTED);
      const csv = await runCli(['query', HARD, '--format', 'csv'], stack.place.env);
      expect(csv.stdout).toBe(
        lines(
          'iv,nan,ninf,far,ts_inf,day_inf,huge,dec,bytes,intervals,nested',
          '1 year 2 days 03:00:00,NaN,-Infinity,+294000-01-01T00:00:00.000Z,infinity,infinity,170141183460469231731687303715884105727,' +
            '12345678901234567890.123456789,\\xAA,"[""1 day"",null]","{""t"":""2024-07-08T09:05:00.000Z"",""n"":""Infinity""}"',
          '',
        ),
      );
    } finally {
      await stack?.stop();
    }
  });

  it('and when no worker runs, the command answers the same', async () => {
    const own = testPlace(); // a warehouse of its own: this file's is held open above
    await createWarehouse(own.config.warehousePath, own.config);
    try {
      const json = await runCli(['query', HARD, '--format', 'json'], own.env);
      expect(json.stderr).toBe('');
      expect(JSON.parse(json.stdout)).toEqual(EXPECTED);
    } finally {
      own.cleanup();
    }
  });
});
