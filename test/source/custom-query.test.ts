/**
 * The custom query model against the real engine: what a team's query may read (only its own rows of the allowed
 * tables), every adversarial attempt in its own test, validation messages, and the append/merge row rules.
 */
import type { Row } from '../../src/sdk/models';
import { CustomQueryError, type CustomQuery } from '../../src/source/custom-query';
import { generateEvents, insertEvents, isoMicros, microsOf } from '../../src/source/generator';
import type { SourceQuery } from '../../src/source/source';
import { collect, createTestClickHouse } from './support/clickhouse';

const S = new Date('2024-05-01T00:00:00Z');
const interval = { start: S.toISOString(), end: new Date(S.getTime() + 3_600_000).toISOString() };
const BOUND = 'inserted_at >= {data_interval_start} AND inserted_at < {data_interval_end}';

describe('ClickHouseSource: custom query model', () => {
  let ctx: Awaited<ReturnType<typeof createTestClickHouse>>;
  let db: string;
  const team1 = generateEvents({ seed: 41, count: 20, teamId: 1, start: S });
  const team2 = generateEvents({ seed: 42, count: 15, teamId: 2, start: S });

  beforeAll(async () => {
    ctx = await createTestClickHouse('src_custom');
    db = ctx.database;
    await insertEvents(ctx.client, { database: db }, [...team1, ...team2]);
    await ctx.client.command({ query: `CREATE TABLE ${db}.secrets (team_id Int64, secret String) ENGINE = MergeTree ORDER BY team_id` });
    await ctx.client.command({ query: `INSERT INTO ${db}.secrets VALUES (2, 'team 2 secret')` });
  });
  afterAll(() => ctx.drop());

  const q = (query: string, more: Partial<CustomQuery> = {}, teamId = 1): SourceQuery => ({
    teamId,
    model: more.mode === 'merge' ? 'persons' : 'events',
    interval,
    custom: { query, primaryKey: ['id'], mode: 'append', ...more },
  });
  async function run(query: string, more: Partial<CustomQuery> = {}, teamId = 1): Promise<Row[]> {
    const sq = q(query, more, teamId);
    const schema = await ctx.source.exportSchema(sq);
    const rows = await collect(ctx.source.stream({ ...sq, schema }));
    expect(await ctx.source.count({ ...sq, schema })).toBe(rows.length);
    return rows;
  }
  async function refused(query: string, pattern: RegExp, more: Partial<CustomQuery> = {}, field = 'query'): Promise<void> {
    const err = await ctx.source.exportSchema(q(query, more)).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(CustomQueryError);
    expect({ field: (err as CustomQueryError).field, message: (err as Error).message }).toEqual({ field, message: expect.stringMatching(pattern) });
  }
  const team1Ids = () => team1.map((e) => e.uuid).sort();
  const ids = (rows: Row[]) => rows.map((r) => r.id as string).sort();
  const events = () => `${db}.events`;

  it('returns the team\'s rows in the interval, with columns and types from ClickHouse', async () => {
    const sq = q(`SELECT toString(uuid) AS id, event, team_id, timestamp AS ts, JSONExtractString(properties, '$browser') AS browser,
      [1, 2] AS list, 1.5 AS ratio FROM ${events()} WHERE ${BOUND}`);
    const schema = await ctx.source.exportSchema(sq);
    expect(schema.columns).toEqual([
      { name: 'id', type: 'string', nullable: false },
      { name: 'event', type: 'string', nullable: false },
      { name: 'team_id', type: 'int', nullable: false },
      { name: 'ts', type: 'timestamp', nullable: false },
      { name: 'browser', type: 'string', nullable: false },
      { name: 'list', type: 'json', nullable: false },
      { name: 'ratio', type: 'float', nullable: false },
    ]);
    expect(schema.key).toEqual(['id']);
    const rows = await collect(ctx.source.stream({ ...sq, schema }));
    expect(ids(rows)).toEqual(team1Ids());
    const first = team1.find((e) => e.uuid === rows[0].id)!;
    expect(rows[0]).toEqual({
      id: first.uuid, event: first.event, team_id: 1, ts: isoMicros(microsOf(first.timestamp)),
      browser: JSON.parse(first.properties).$browser, list: '[1,2]', ratio: 1.5,
    });
  });

  it('binds the placeholders to the run\'s interval', async () => {
    const half = { start: interval.start, end: isoMicros(microsOf(team1[10].inserted_at!)) };
    const sq = { ...q(`SELECT toString(uuid) AS id FROM ${events()} WHERE ${BOUND}`), interval: half };
    const rows = await collect(ctx.source.stream({ ...sq, schema: await ctx.source.exportSchema(sq) }));
    expect(ids(rows)).toEqual(team1.filter((e) => microsOf(e.inserted_at!) < microsOf(half.end)).map((e) => e.uuid).sort());
  });

  describe('scoping: every read of an allowed table sees only the team\'s rows', () => {
    it('another team\'s id in the WHERE', async () => {
      expect(await run(`SELECT toString(uuid) AS id FROM ${events()} WHERE ${BOUND} AND team_id = 2`)).toEqual([]);
    });
    it('an OR widening the WHERE to another team', async () => {
      expect(ids(await run(`SELECT toString(uuid) AS id FROM ${events()} WHERE (${BOUND}) OR team_id = 2`))).toEqual(team1Ids());
    });
    it('a subquery over the raw table', async () => {
      expect(ids(await run(`SELECT toString(uuid) AS id FROM (SELECT * FROM ${events()} WHERE team_id != 1) WHERE ${BOUND}`))).toEqual([]);
      expect(await run(`SELECT toString(uuid) AS id FROM ${events()} WHERE ${BOUND} AND uuid IN (SELECT uuid FROM ${events()} WHERE team_id = 2)`)).toEqual([]);
    });
    it('a JOIN of the same table', async () => {
      const rows = await run(`SELECT toString(b.uuid) AS id FROM ${events()} AS a JOIN ${events()} AS b ON a.event = b.event
        WHERE a.inserted_at >= {data_interval_start} AND a.inserted_at < {data_interval_end} AND b.team_id = 2`);
      expect(rows).toEqual([]);
    });
    it('a JOIN of another allowed table', async () => {
      await ctx.client.command({ query: `INSERT INTO ${db}.person (id, team_id, properties, version, _timestamp) VALUES (generateUUIDv4(), 2, '{"email":"two@example.com"}', 1, now())` });
      const rows = await run(`SELECT toString(e.uuid) AS id, p.properties AS person FROM ${events()} AS e CROSS JOIN ${db}.person AS p
        WHERE e.inserted_at >= {data_interval_start} AND e.inserted_at < {data_interval_end}`);
      expect(rows).toEqual([]);
    });
    it('an alias of the table', async () => {
      expect(await run(`SELECT toString(e.uuid) AS id FROM ${events()} AS e WHERE e.team_id = 2 AND e.inserted_at >= {data_interval_start} AND e.inserted_at < {data_interval_end}`)).toEqual([]);
    });
    it('a WITH query over the table', async () => {
      expect(ids(await run(`WITH mine AS (SELECT * FROM ${events()}) SELECT toString(uuid) AS id FROM mine WHERE ${BOUND}`))).toEqual(team1Ids());
    });
    it('PREWHERE on another team', async () => {
      expect(await run(`SELECT toString(uuid) AS id FROM ${events()} PREWHERE team_id = 2 WHERE ${BOUND}`)).toEqual([]);
    });
  });

  describe('refused, with a message naming the problem', () => {
    const base = (extra: string) => `SELECT toString(uuid) AS id FROM ${events()} WHERE ${BOUND} ${extra}`;
    it('system.tables', () => refused(`SELECT name AS id FROM system.tables WHERE {data_interval_start} < {data_interval_end}`, /table system\.tables is not allowed/));
    it('system tables in a subquery', () => refused(base(`AND event IN (SELECT name FROM system.tables)`), /table system\.tables is not allowed/));
    it('url()', () => refused(`SELECT * FROM url('http://169.254.169.254/latest', CSV, 'id String') WHERE {data_interval_start} < {data_interval_end}`, /table function url\(\) is not allowed/));
    it('file()', () => refused(`SELECT * FROM file('/etc/passwd', LineAsString, 'id String') WHERE {data_interval_start} < {data_interval_end}`, /table function file\(\) is not allowed/));
    it('file() as a scalar function', () => refused(base(`AND event != file('/etc/passwd')`), /function file\(\) is not allowed/));
    it('remote()', () => refused(`SELECT toString(uuid) AS id FROM remote('127.0.0.1', ${events()}) WHERE ${BOUND}`, /table function remote\(\) is not allowed/));
    it('s3()', () => refused(`SELECT * FROM s3('http://127.0.0.1:9/b/k.csv', CSV, 'id String') WHERE {data_interval_start} < {data_interval_end}`, /table function s3\(\) is not allowed/));
    it('view()', () => refused(`SELECT toString(uuid) AS id FROM view(SELECT * FROM ${events()}) WHERE ${BOUND}`, /table function view\(\) is not allowed/));
    it('merge()', () => refused(`SELECT toString(uuid) AS id FROM merge('${db}', '.*') WHERE ${BOUND}`, /table function merge\(\) is not allowed/));
    it('cluster()', () => refused(`SELECT toString(uuid) AS id FROM cluster('default', ${events()}) WHERE ${BOUND}`, /table function cluster\(\) is not allowed/));
    it('numbers() and other table functions', () => refused(`SELECT toString(number) AS id FROM numbers(10) WHERE {data_interval_start} < {data_interval_end}`, /table function numbers\(\) is not allowed/));
    it('a dictionary (dictGet)', () => refused(base(`AND dictGet('team_secrets', 'secret', toUInt64(2)) != ''`), /dictionary function dictGet\(\) is not allowed/));
    it('joinGet', () => refused(base(`AND joinGet('${db}.secrets', 'secret', 2) != ''`), /function joinGet\(\) is not allowed/));
    it('SETTINGS overriding the scope', () => refused(base(`SETTINGS additional_table_filters = {'${db}.events': '1'}`), /SETTINGS are not allowed/));
    it('SETTINGS in a subquery', () => refused(`SELECT id FROM (SELECT toString(uuid) AS id FROM ${events()} WHERE ${BOUND} SETTINGS max_threads = 1)`, /SETTINGS are not allowed/));
    it('a multi-statement, of which nothing runs', async () => {
      await refused(base(`; DROP TABLE ${db}.secrets`), /does not parse as one ClickHouse SELECT/);
      await refused(`SELECT 1 AS id WHERE {data_interval_start} < {data_interval_end}\n); DROP TABLE ${db}.secrets; SELECT (1`, /does not parse as one ClickHouse SELECT/);
      const rs = await ctx.client.query({ query: `SELECT count() AS n FROM ${db}.secrets`, format: 'JSONEachRow' });
      expect((await rs.json<{ n: number | string }>()).map((r) => Number(r.n))).toEqual([1]);
    });
    it('a -- comment hiding the closing parenthesis', () =>
      refused(`SELECT toString(uuid) AS id FROM ${events()} WHERE ${BOUND}) UNION ALL SELECT secret FROM ${db}.secrets --`, /does not parse|balanced parentheses|not allowed/));
    it('a /* */ comment swallowing the rest', () =>
      refused(`SELECT toString(uuid) AS id FROM ${events()} WHERE ${BOUND}) UNION ALL SELECT secret FROM ${db}.secrets /*`, /does not parse|balanced parentheses|not allowed/));
    it('closing the parenthesis early to add a table beside it', () =>
      refused(`SELECT toString(uuid) AS id FROM ${events()} WHERE ${BOUND}) AS x, (SELECT secret FROM ${db}.secrets`, /balanced parentheses|not allowed/));
    it('placeholders only inside comments', () =>
      refused(`SELECT toString(uuid) AS id FROM ${events()} /* {data_interval_start} {data_interval_end} */`, /must use \{data_interval_start\} in its SQL/));
    it('a FORMAT clause', () => refused(base('FORMAT JSON'), /does not parse/));
    it('INTO OUTFILE', () => refused(base(`INTO OUTFILE '/tmp/outport-stolen.csv'`), /does not parse/));
    it('an INSERT', () => refused(`INSERT INTO ${db}.secrets SELECT 1, toString({data_interval_start}) WHERE {data_interval_end} > now()`, /does not parse/));
    it('a table not in the allow-list', () => refused(`SELECT secret AS id FROM ${db}.secrets WHERE {data_interval_start} < {data_interval_end}`, new RegExp(`table ${db}\\.secrets is not allowed`)));
    it('a table of the allow-list in another database (unqualified name)', () => refused(`SELECT toString(uuid) AS id FROM events WHERE ${BOUND}`, /table events is not allowed.*write the database name/));
    it('IN <table>', () => refused(base(`AND uuid IN ${db}.events`), /IN .*is not allowed: write IN \(SELECT/));
    it('information functions (currentUser, getSetting)', async () => {
      await refused(base(`AND currentUser() != ''`), /function currentUser\(\) is not allowed/);
      await refused(base(`AND getSetting('additional_table_filters') != ''`), /function getSetting\(\) is not allowed/);
    });
    it('a query parameter other than the placeholders', () => refused(base(`AND event = {p0:String}`), /query parameter \{p0\} is not allowed/));
    it('a query without the placeholders', () => refused(`SELECT toString(uuid) AS id FROM ${events()}`, /must use \{data_interval_start\}/));
    it('a primary key that is not in the output', () =>
      refused(`SELECT toString(uuid) AS uid FROM ${events()} WHERE ${BOUND}`, /primaryKey column id is not in the query's output \(its columns: uid\)/, {}, 'primaryKey'));
    it('a version key that is not in the output, and merge mode without one', async () => {
      await refused(base(''), /versionKey column v is not in the query's output/, { mode: 'merge', versionKey: ['v'] }, 'versionKey');
      await refused(base(''), /merge mode needs a versionKey/, { mode: 'merge' }, 'versionKey');
    });
    it('an output column without a plain name', () => refused(`SELECT toString(uuid) AS id, count() FROM ${events()} WHERE ${BOUND} GROUP BY id`, /needs a plain name: add AS/));
    it('a syntax error', () => refused(`SELEC toString(uuid) AS id FROM ${events()} WHERE ${BOUND}`, /does not parse/));
  });

  it('append mode: one row per primary key, the first', async () => {
    const rows = await run(`SELECT event AS id, toString(uuid) AS any_uuid FROM ${events()} WHERE ${BOUND}`);
    expect(rows.map((r) => r.id)).toEqual([...new Set(team1.map((e) => e.event))].sort());
  });

  it('merge mode: one row per primary key, its highest version', async () => {
    const rows = await run(
      `SELECT event AS id, toInt64(toUnixTimestamp64Micro(timestamp)) AS v FROM ${events()} WHERE ${BOUND}`,
      { mode: 'merge', versionKey: ['v'] },
    );
    const latest = new Map<string, number>();
    for (const e of team1) latest.set(e.event, Math.max(latest.get(e.event) ?? 0, microsOf(e.timestamp)));
    expect(rows).toEqual([...latest].sort(([a], [b]) => (a < b ? -1 : 1)).map(([id, v]) => ({ id, v })));
  });

  it('refuses to run a custom query whose schema did not come from exportSchema()', async () => {
    const sq = q(`SELECT toString(uuid) AS id FROM ${events()} WHERE ${BOUND}`);
    expect(() => ctx.source.build({ ...sq, schema: { model: 'events', columns: [{ name: 'id', type: 'string', nullable: false }], key: ['id'], versionColumns: [], mutable: false } }, 'rows')).toThrow(
      /exportSchema\(\)/,
    );
  });
});
