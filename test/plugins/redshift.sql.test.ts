/**
 * Redshift SQL generation, value rules and error classification, without a server. SUPER and COPY cannot run on
 * the Postgres stand-in, so these string assertions are what verifies super and copy modes.
 */
import zlib from 'node:zlib';
import { EVENTS_SCHEMA, PERSONS_SCHEMA, type Row } from '../../src/sdk';
import redshift from '../../plugins/redshift';
import { toDestinationError, loadError } from '../../plugins/redshift/errors';
import { InsertStatementBuilder, MAX_STATEMENT_BYTES, MAX_STATEMENT_PARAMS } from '../../plugins/redshift/insert-statements';
import { jsonLine, runPrefix } from '../../plugins/redshift/s3-staging';
import { copySql, createStageSql, createTableSql, mergeStatements } from '../../plugins/redshift/sql';
import { MAX_VARCHAR_BYTES, redshiftTimestamp, truncateUtf8, ValueRules } from '../../plugins/redshift/values';

const row = (i: number, properties: string | null): Row => ({
  team_id: 1, uuid: `u-${i}`, event: 'e', distinct_id: 'd', person_id: null,
  timestamp: '2024-01-31T23:59:59.123456Z', created_at: '2024-01-31T23:59:59.123456Z', _inserted_at: '2024-01-31T23:59:59.123456Z',
  properties, person_properties: null, set: null, set_once: null, elements_chain: null,
});

function encode(rules: ValueRules, r: Row) {
  return EVENTS_SCHEMA.columns.map((c) => rules.apply(c, r[c.name]));
}

describe('Redshift DDL', () => {
  it('varchar mode: JSON and text columns are VARCHAR(65535), key is the primary key', () => {
    const sql = createTableSql('s', 'events', EVENTS_SCHEMA, 'varchar');
    expect(sql).toContain('"properties" VARCHAR(65535)');
    expect(sql).toContain('"uuid" VARCHAR(65535) NOT NULL');
    expect(sql).toContain('"timestamp" TIMESTAMPTZ NOT NULL');
    expect(sql).toContain('PRIMARY KEY ("team_id", "uuid")');
    expect(sql).not.toMatch(/\bTEXT\b|JSONB|SUPER/);
  });

  it('super mode: JSON columns are SUPER, other columns unchanged, in the table and the stage', () => {
    const table = createTableSql('s', 'events', EVENTS_SCHEMA, 'super');
    for (const c of ['properties', 'person_properties', 'set', 'set_once']) expect(table).toContain(`"${c}" SUPER`);
    expect(table).toContain('"elements_chain" VARCHAR(65535)');
    const stage = createStageSql('s', '_outport_stage_x', EVENTS_SCHEMA, 'super');
    expect(stage).toBe(
      'CREATE TABLE "s"."_outport_stage_x" ("team_id" BIGINT, "uuid" VARCHAR(65535), "event" VARCHAR(65535), "distinct_id" VARCHAR(65535), ' +
        '"person_id" VARCHAR(65535), "timestamp" TIMESTAMPTZ, "created_at" TIMESTAMPTZ, "_inserted_at" TIMESTAMPTZ, "properties" SUPER, ' +
        '"person_properties" SUPER, "set" SUPER, "set_once" SUPER, "elements_chain" VARCHAR(65535))',
    );
  });

  it('quotes identifiers with quotes in them', () => {
    expect(createTableSql('we"ird', 'ta ble', EVENTS_SCHEMA, 'varchar')).toContain('"we""ird"."ta ble"');
  });
});

describe('Redshift merge statements', () => {
  it('events: delete stage rows already stored, insert one row per key; no ON CONFLICT or MERGE', () => {
    const [del, ins, ...rest] = mergeStatements('s', 'events', 'stg', EVENTS_SCHEMA);
    expect(rest).toEqual([]);
    expect(del).toBe('DELETE FROM "s"."stg" USING "s"."events" WHERE "stg"."team_id" = "events"."team_id" AND "stg"."uuid" = "events"."uuid"');
    expect(ins).toContain('ROW_NUMBER() OVER (PARTITION BY "team_id", "uuid" ORDER BY "team_id", "uuid")');
    expect(ins).toMatch(/WHERE _outport_rn = 1$/);
    expect(ins.startsWith('INSERT INTO "s"."events" ("team_id", "distinct_id"') || ins.startsWith('INSERT INTO "s"."events" ("team_id", "uuid"')).toBe(true);
    expect([del, ins].join(' ')).not.toMatch(/ON CONFLICT|MERGE/);
  });

  it('persons: stale stage rows removed by the version condition, replaced rows deleted, latest version inserted', () => {
    const [stale, replaced, ins] = mergeStatements('s', 'persons', 'stg', PERSONS_SCHEMA);
    expect(stale).toBe(
      'DELETE FROM "s"."stg" USING "s"."persons" WHERE "stg"."team_id" = "persons"."team_id" AND "stg"."distinct_id" = "persons"."distinct_id" ' +
        'AND NOT ("stg"."person_distinct_id_version" > "persons"."person_distinct_id_version" OR ("stg"."person_distinct_id_version" = "persons"."person_distinct_id_version" ' +
        'AND ("stg"."person_version" > "persons"."person_version" OR ("stg"."person_version" = "persons"."person_version" ' +
        'AND ("stg"."_inserted_at" > "persons"."_inserted_at")))))',
    );
    expect(replaced).toBe('DELETE FROM "s"."persons" USING "s"."stg" WHERE "persons"."team_id" = "stg"."team_id" AND "persons"."distinct_id" = "stg"."distinct_id"');
    expect(ins).toContain('PARTITION BY "team_id", "distinct_id" ORDER BY "person_distinct_id_version" DESC, "person_version" DESC, "_inserted_at" DESC');
  });
});

describe('Redshift COPY statement', () => {
  const base = { bucket: 'my-bucket', prefix: 'exports/outport-redshift/_outport_stage_ab/' };

  it('with an IAM role, JSON auto, gzip, TIMEFORMAT auto and the region', () => {
    const sql = copySql('"s"."stg"', PERSONS_SCHEMA, { ...base, region: 'eu-west-1', auth: { iamRole: 'arn:aws:iam::123456789012:role/Copy' } });
    expect(sql).toBe(
      'COPY "s"."stg" ("team_id", "distinct_id", "person_id", "properties", "person_version", "person_distinct_id_version", "is_deleted", "created_at", "_inserted_at")\n' +
        "FROM 's3://my-bucket/exports/outport-redshift/_outport_stage_ab/'\n" +
        "IAM_ROLE 'arn:aws:iam::123456789012:role/Copy'\n" +
        "FORMAT JSON 'auto' GZIP TIMEFORMAT 'auto'\n" +
        "REGION 'eu-west-1'\n" +
        'COMPUPDATE OFF STATUPDATE OFF',
    );
  });

  it('with access keys as CREDENTIALS, and no REGION when none is set', () => {
    const sql = copySql('"s"."stg"', EVENTS_SCHEMA, { ...base, auth: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' } });
    expect(sql).toContain("CREDENTIALS 'aws_access_key_id=AKIAIOSFODNN7EXAMPLE;aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'");
    expect(sql).not.toContain('REGION');
  });

  it('refuses to splice a quote or backslash into a literal (validation keeps them out; this is the backstop)', () => {
    expect(() => copySql('"s"."stg"', EVENTS_SCHEMA, { ...base, auth: { iamRole: "x' --" } })).toThrow(/SQL literal/);
    expect(() => copySql('"s"."stg"', EVENTS_SCHEMA, { ...base, prefix: 'a\\b/' , auth: { iamRole: 'r' } })).toThrow(/SQL literal/);
  });

  it('run prefixes are one folder per run, whatever the configured prefix looks like', () => {
    expect(runPrefix('', 'stg')).toBe('outport-redshift/stg/');
    expect(runPrefix('/a/b/', 'stg')).toBe('a/b/outport-redshift/stg/');
  });

  it('copy mode config needs a bucket and a way for COPY to read it', () => {
    const c = { host: 'h', database: 'd', user: 'u', password: 'p', mode: 'copy' };
    expect(redshift.configSchema.safeParse({ ...c, s3_bucket: 'b-1', iam_role: 'arn:aws:iam::123456789012:role/R' }).success).toBe(true);
    const r = redshift.configSchema.safeParse({ ...c, s3_bucket: 'b-1' });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path)).toContainEqual(['iam_role']);
  });
});

describe('Redshift JSON Lines for COPY', () => {
  const rules = new ValueRules();
  const values = encode(rules, row(1, '{"a":\n[1, "x"]}'));

  it('varchar mode: JSON columns are strings holding the document text; timestamps in TIMESTAMPTZ form', () => {
    const obj = JSON.parse(jsonLine(EVENTS_SCHEMA, values, 'varchar'));
    expect(obj.properties).toBe('{"a":\n[1, "x"]}');
    expect(obj.timestamp).toBe('2024-01-31 23:59:59.123456+00');
    expect(obj.team_id).toBe(1);
    expect(obj.person_id).toBeNull();
  });

  it('super mode: JSON columns are embedded documents on one line', () => {
    const line = jsonLine(EVENTS_SCHEMA, values, 'super');
    expect(line.indexOf('\n')).toBe(line.length - 1);
    expect(JSON.parse(line).properties).toEqual({ a: [1, 'x'] });
  });

  it('gzip of the lines round-trips', () => {
    const text = jsonLine(EVENTS_SCHEMA, values, 'varchar');
    expect(zlib.gunzipSync(zlib.gzipSync(text)).toString()).toBe(text);
  });
});

describe('Redshift INSERT statements', () => {
  it('super mode wraps JSON parameters in JSON_PARSE; varchar mode binds them plainly', () => {
    const rules = new ValueRules();
    const sup = new InsertStatementBuilder('"s"."stg"', EVENTS_SCHEMA.columns, 'super');
    sup.add(encode(rules, row(1, '{}')));
    const st = sup.flush()!;
    expect(st.text).toBe(
      'INSERT INTO "s"."stg" ("team_id", "uuid", "event", "distinct_id", "person_id", "timestamp", "created_at", "_inserted_at", "properties", ' +
        '"person_properties", "set", "set_once", "elements_chain") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, JSON_PARSE($9), JSON_PARSE($10), ' +
        'JSON_PARSE($11), JSON_PARSE($12), $13)',
    );
    const plain = new InsertStatementBuilder('"s"."stg"', EVENTS_SCHEMA.columns, 'varchar');
    plain.add(encode(rules, row(1, '{}')));
    expect(plain.flush()!.text).not.toContain('JSON_PARSE');
  });

  it('splits rows of ~1 MB properties (super mode, builder only) into statements under 16 MB, losing none', () => {
    // Past the value rules a JSON value is at most 65,535 bytes; the builder itself must still cope with big rows.
    const big = JSON.stringify({ blob: 'é'.repeat(500_000) }); // ~1 MB in UTF-8
    const builder = new InsertStatementBuilder('"s"."stg"', EVENTS_SCHEMA.columns, 'super');
    const statements = [];
    for (let i = 0; i < 40; i++) {
      const r = EVENTS_SCHEMA.columns.map((c) => (c.name === 'properties' ? big : c.name === 'uuid' ? `u-${i}` : '1'));
      const full = builder.add(r);
      if (full) statements.push(full);
    }
    statements.push(builder.flush()!);
    expect(statements.length).toBeGreaterThanOrEqual(3);
    statements.forEach((st, n) => {
      const measured = Buffer.byteLength(st.text) + st.values.reduce((n, v) => n + 4 + (v === null ? 0 : Buffer.byteLength(v)), 0);
      expect(measured).toBe(st.bytes);
      expect(measured).toBeLessThanOrEqual(MAX_STATEMENT_BYTES);
      // The next row would not have fitted: statements are filled, not cut early.
      if (n < statements.length - 1) expect(measured + 1_000_000).toBeGreaterThan(MAX_STATEMENT_BYTES);
    });
    expect(statements.reduce((n, st) => n + st.rows, 0)).toBe(40);
    const uuids = statements.flatMap((st) => st.values.filter((_, i) => i % 13 === 1));
    expect(uuids).toEqual(Array.from({ length: 40 }, (_, i) => `u-${i}`));
  });

  it('never binds more than 32,767 parameters in one statement', () => {
    const rules = new ValueRules();
    const builder = new InsertStatementBuilder('"s"."stg"', EVENTS_SCHEMA.columns, 'varchar');
    const out = [];
    for (let i = 0; i < 6000; i++) {
      const full = builder.add(encode(rules, row(i, null)));
      if (full) out.push(full);
    }
    out.push(builder.flush()!);
    expect(out.length).toBe(3);
    for (const st of out) expect(st.values.length).toBeLessThanOrEqual(MAX_STATEMENT_PARAMS);
    expect(out[0].rows).toBe(Math.floor(MAX_STATEMENT_PARAMS / 13));
  });

  it('refuses a single row over the limit instead of sending it', () => {
    const builder = new InsertStatementBuilder('"t"', EVENTS_SCHEMA.columns, 'varchar', { maxBytes: 1000 });
    expect(() => builder.add(EVENTS_SCHEMA.columns.map(() => 'x'.repeat(100)))).toThrow(/over the 1000-byte statement limit/);
  });
});

describe('Redshift value rules', () => {
  it('cuts text at a UTF-8 character boundary, never inside a character', () => {
    const s = 'a' + '𝄞'.repeat(20_000); // 1 + 80,000 bytes
    const cut = truncateUtf8(s, MAX_VARCHAR_BYTES);
    expect(Buffer.byteLength(cut)).toBe(65_533); // 1 + 16,383 * 4: the next 4-byte character would cross the limit
    expect(cut).toBe('a' + '𝄞'.repeat(16_383));
    expect(truncateUtf8('é'.repeat(40_000), MAX_VARCHAR_BYTES)).toBe('é'.repeat(32_767));
  });

  it('counts every change: NUL, surrogates, invalid JSON, cut text, JSON markers', () => {
    const rules = new ValueRules();
    const str = { name: 'elements_chain', type: 'string' as const, nullable: true };
    const json = { name: 'properties', type: 'json' as const, nullable: true };
    expect(rules.apply(str, 'a\u0000b\u0000')).toBe('a\uFFFDb\uFFFD');
    expect(rules.apply(str, 'lone \uD800')).toBe('lone \uFFFD');
    expect(rules.apply(json, 'not json')).toBe('"not json"');
    expect(Buffer.byteLength(rules.apply(str, 'x'.repeat(70_000))!)).toBe(MAX_VARCHAR_BYTES);
    const big = JSON.stringify({ v: 'é'.repeat(40_000) });
    expect(JSON.parse(rules.apply(json, big)!)).toEqual({ $outport_truncated: true, original_bytes: Buffer.byteLength(big) });
    expect(rules.apply(json, '{"ok":"\\u0000 escaped stays"}')).toBe('{"ok":"\\u0000 escaped stays"}');
    expect(rules.apply(str, 'x'.repeat(MAX_VARCHAR_BYTES))).toHaveLength(MAX_VARCHAR_BYTES);
    // Counted in values per column and rule: the NUL value holding two NULs counts once.
    expect(rules.replacements.list().map(({ column, rule, count }) => ({ column, rule, count }))).toEqual([
      { column: 'properties', rule: 'invalid_json_as_string', count: 1 },
      { column: 'properties', rule: 'json_truncated_marker', count: 1 },
      { column: 'elements_chain', rule: 'lone_surrogate', count: 1 },
      { column: 'elements_chain', rule: 'nul', count: 1 },
      { column: 'elements_chain', rule: 'text_truncated', count: 1 },
    ]);
    expect(rules.replacements.list().find((r) => r.rule === 'text_truncated')!.description).toContain('65535-byte');
  });

  it('writes timestamps in the TIMESTAMPTZ form both servers read', () => {
    expect(redshiftTimestamp('2024-01-31T23:59:59.123456Z')).toBe('2024-01-31 23:59:59.123456+00');
  });
});

describe('Redshift error classification', () => {
  const pgError = (code: string, message: string) => Object.assign(new Error(message), { code });

  it.each([
    ['1023 serialization -> retryable', pgError('XX000', '1023: Serializable isolation violation on table - 123, transactions forming the cycle are: 1, 2'), 'retryable'],
    ['SQLSTATE 40001 -> retryable', pgError('40001', 'could not serialize access'), 'retryable'],
    ['Disk Full -> retryable', pgError('XX000', 'Disk Full Detail: error: Disk Full code: 1016'), 'retryable'],
    ['permission denied -> permanent', pgError('42501', 'permission denied for relation events'), 'permanent'],
    ['wrong password -> config', pgError('28P01', 'password authentication failed for user "u"'), 'config'],
    ['missing database -> config', pgError('3D000', 'database "x" does not exist'), 'config'],
    ['COPY data rejected -> permanent', pgError('XX000', "Load into table '_outport_stage_ab' failed.  Check 'stl_load_errors' system table for details."), 'permanent'],
    ['COPY cannot read S3 -> config', pgError('XX000', 'S3ServiceException:Access Denied,Status 403,Error AccessDenied'), 'config'],
    ['refused -> retryable', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5439'), { code: 'ECONNREFUSED' }), 'retryable'],
    ['S3 upload bucket missing -> config', Object.assign(new Error('The specified bucket does not exist'), { name: 'NoSuchBucket' }), 'config'],
  ])('%s', (_label, err, kind) => {
    expect(toDestinationError(err).kind).toBe(kind);
  });

  it('a COPY load error carries the first stl_load_errors row in its message', () => {
    const e = loadError(new Error('x'), { reason: 'Invalid timestamp format', column_name: 'timestamp', line_number: 7, filename: 's3://b/p/part-00000.jsonl.gz' });
    expect(e.kind).toBe('permanent');
    expect(e.message).toBe('Redshift COPY rejected the staged data: first load error: Invalid timestamp format (column timestamp, line 7 of s3://b/p/part-00000.jsonl.gz)');
  });
});
