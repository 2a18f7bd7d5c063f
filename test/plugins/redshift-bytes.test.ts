/**
 * Redshift's byte path against the row path, on the conformance kit's hostile rows that ClickHouse can hold:
 * - copy mode: the staged gzip JSON Lines files, read back from the local S3 server, hold the row path's lines byte
 *   for byte (varchar and super), split under the same file size limit; COPY's SQL is the same function's;
 * - insert mode: ClickHouse's row literals grouped into statements under the limit, never a row split, and the
 *   rows landed in the Postgres stand-in equal the row path's (also checked by the conformance kit);
 * - both: the value rules' per-column counts equal the row path's ValueRules counts.
 */
import { randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import redshift from '../../plugins/redshift';
import type { RedshiftConfig } from '../../plugins/redshift/config';
import { ValuesStatements, type ValuesStatement } from '../../plugins/redshift/insert-statements';
import { S3Staging } from '../../plugins/redshift/s3-staging';
import { ValueRules } from '../../plugins/redshift/values';
import { MODEL_SCHEMAS, type Model, type Replacement, type Row, type WireFormat } from '../../src/sdk';
import { replacementRows } from '../../src/sdk/conformance/checks';
import { hourInterval, runContext, stream, toBatches } from '../../src/sdk/conformance/run';
import { redshiftStandIn } from '../conformance/fixtures/redshift';
import { encodeRowsWithClickHouse } from '../support/encode-rows';
import { readTable } from '../support/pg-destination';

jest.setTimeout(180_000);

const MODELS: Model[] = ['events', 'persons', 'sessions'];

/** The hostile rows ClickHouse can hold (no lone surrogates as characters, no JSON deeper than its parser goes). */
function hostileRows(model: Model): Row[] {
  const wellFormed = (v: unknown) => typeof v !== 'string' || (!/[\uD800-\uDFFF]/.test(v.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, '')) && !v.startsWith('{"deep": [[[['));
  const rows = replacementRows(model, hourInterval(0)).filter((row) => Object.values(row).every(wellFormed));
  // Characters toJSONString spells otherwise than JSON.stringify, in text, in JSON text and in text that is not JSON.
  const odd = 'sep\u2028para\u2029 ctl \u000b\u001a\u001f\u007f bs \\ slash / quote \' "';
  const schema = MODEL_SCHEMAS[model];
  const text = schema.columns.find((c) => c.type === 'string' && !schema.key.includes(c.name))!.name;
  const json = schema.columns.find((c) => c.type === 'json')?.name;
  rows[1] = { ...rows[1], [text]: odd, ...(json ? { [json]: JSON.stringify({ odd }) } : {}) };
  if (json) rows[2] = { ...rows[2], [json]: `not json ${odd}` };
  // A cut that falls inside a 4-byte character, and one inside a 2-byte one.
  rows[3] = { ...rows[3], [text]: 'x'.repeat(65_533) + '𝄞tail' };
  rows[4] = { ...rows[4], [text]: 'y'.repeat(65_534) + 'étail' };
  // The three spellings of a SQL literal: dollar-quoted, and the CHR() fallback (line feed, tag, tag prefix at the end).
  rows[5] = { ...rows[5], [text]: "back \\ slash $ 'q' ends in $" };
  rows[6] = { ...rows[6], [text]: 'back \\ slash\nand line \\n feed' };
  rows[7] = { ...rows[7], [text]: 'tag $_$ inside \\', ...(json ? { [json]: '{"k": "\\" , "t": "$_"}' } : {}) };
  rows[8] = { ...rows[8], [text]: 'ends in the tag prefix \\ $_' };
  return rows;
}

const counts = (list: readonly Replacement[]) =>
  list.filter((r) => r.count > 0 && r.rule !== 'invalid_utf8').map((r) => `${r.rule}:${r.column}=${r.count}`).sort();

const s3Endpoint = process.env.OUTPORT_TEST_S3_ENDPOINT;
(s3Endpoint ? describe : describe.skip)('Redshift copy mode, byte path: staged files', () => {
  const client = new S3Client({
    region: 'us-east-1',
    endpoint: s3Endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: process.env.OUTPORT_TEST_S3_ACCESS_KEY!, secretAccessKey: process.env.OUTPORT_TEST_S3_SECRET_KEY! },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const bucket = `rs-bytes-${randomBytes(4).toString('hex')}`;
  beforeAll(async () => {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  afterAll(() => client.destroy());

  async function readFiles(keys: string[]): Promise<{ lines: string[]; sizes: number[] }> {
    const lines: string[] = [];
    const sizes: number[] = [];
    for (const key of keys) {
      const obj = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const text = zlib.gunzipSync(Buffer.from(await obj.Body!.transformToByteArray()));
      sizes.push(text.length);
      lines.push(...text.toString('utf8').split('\n').slice(0, -1));
    }
    return { lines, sizes };
  }

  const FILE_MAX = 100_000;
  for (const model of MODELS) {
    for (const properties of ['varchar', 'super'] as const) {
      it(`${model}, ${properties}: the same lines as the row path, cut under the same file size, the same rule counts`, async () => {
        const schema = MODEL_SCHEMAS[model];
        const rows = hostileRows(model);
        const staging = (name: string) => new S3Staging(client, bucket, `${model}-${properties}-${name}/`, new AbortController().signal, FILE_MAX);

        const rules = new ValueRules();
        const viaRows = await staging('rows').upload(schema, stream(toBatches(rows)), rules, properties, () => undefined);

        const format: WireFormat = { format: 'redshift-jsonl', compression: 'none', properties };
        const encoded = await encodeRowsWithClickHouse(rows, schema, format);
        try {
          const part = await encoded.run.open();
          const viaBytes = await staging('bytes').uploadLines(part.chunks, () => undefined);
          expect((await part.finished()).rows).toBe(rows.length);
          expect(viaBytes.rows).toBe(rows.length);

          const a = await readFiles(viaRows.keys);
          const b = await readFiles(viaBytes.keys);
          expect(b.lines).toHaveLength(rows.length);
          for (let i = 0; i < rows.length; i++) expect([i, b.lines[i]]).toEqual([i, a.lines[i]]);
          expect(viaBytes.keys.length).toBeGreaterThan(1);
          // A file passes the limit only by the one line it was in the middle of.
          const longest = Math.max(...b.lines.map((l) => Buffer.byteLength(l) + 1));
          for (const size of b.sizes) expect(size).toBeLessThanOrEqual(FILE_MAX + longest);

          expect(counts(await encoded.run.replacements())).toEqual(counts(rules.replacements.list()));
          expect(counts(rules.replacements.list()).length).toBeGreaterThan(1);
        } finally {
          await encoded.done();
        }
      });
    }
  }
});

describe('Redshift insert mode, byte path', () => {
  let dest: Awaited<ReturnType<typeof redshiftStandIn>>;
  beforeAll(async () => {
    dest = await redshiftStandIn('rsbytes');
  });
  afterAll(async () => {
    await dest?.drop();
  });

  for (const model of MODELS) {
    it(`${model}: lands the row path's values with the same rule counts`, async () => {
      const schema = MODEL_SCHEMAS[model];
      const rows = hostileRows(model);
      const viaRows: RedshiftConfig = await dest.freshSchema();
      const viaBytes: RedshiftConfig = await dest.freshSchema();
      const rowResult = await redshift.write(viaRows, runContext({ model, interval: hourInterval(0) }), stream(toBatches(rows)));
      const format = redshift.wireFormat!(viaBytes, { model, schema })!;
      expect(format).toEqual({ format: 'redshift-values', compression: 'none', properties: 'varchar' });
      const encoded = await encodeRowsWithClickHouse(rows, schema, format);
      try {
        const byteResult = await redshift.writeEncoded!(viaBytes, runContext({ model, interval: hourInterval(0) }), encoded.run);
        expect(byteResult.rowsLanded).toBe(rows.length);
        expect(byteResult.replacements).toEqual([]);
        expect(counts(await encoded.run.replacements())).toEqual(counts(rowResult.replacements ?? []));
      } finally {
        await encoded.done();
      }
      const key = (r: Row) => schema.key.map((k) => String(r[k])).join('\u0000');
      const sorted = (list: Row[]) => [...list].sort((x, y) => (key(x) < key(y) ? -1 : 1));
      const a = sorted(await readTable(dest.db.url, viaRows.schema, model, model));
      const b = sorted(await readTable(dest.db.url, viaBytes.schema, model, model));
      expect(b).toHaveLength(rows.length);
      expect(b).toEqual(a);
    });
  }

  it('super: json literals in JSON_PARSE(...), as the row path binds them (SUPER exists on Redshift only: text checked)', async () => {
    const schema = MODEL_SCHEMAS.events;
    const rows = hostileRows('events').slice(0, 12);
    const encoded = await encodeRowsWithClickHouse(rows, schema, { format: 'redshift-values', compression: 'none', properties: 'super' });
    try {
      const part = await encoded.run.open();
      const chunks: Buffer[] = [];
      for await (const chunk of part.chunks) chunks.push(Buffer.from(chunk));
      const lines = Buffer.concat(chunks).toString('utf8').split('\n').slice(0, -1);
      expect(lines).toHaveLength(rows.length);
      const json = schema.columns.filter((c) => c.type === 'json').length;
      for (const [i, line] of lines.entries()) {
        const wrapped = line.match(/JSON_PARSE\((?:'|\$_\$)/g) ?? [];
        const nulls = schema.columns.filter((c) => c.type === 'json' && rows[i][c.name] === null).length;
        expect([i, wrapped.length]).toEqual([i, json - nulls]);
      }
    } finally {
      await encoded.done();
    }
  });

  it('groups row literals into statements under the limit without splitting a row, whatever the chunking', async () => {
    const schema = MODEL_SCHEMAS.events;
    const lines = Array.from({ length: 300 }, (_, i) => `('${i}', '${'é'.repeat(i % 97)}${i % 13 === 0 ? 'abc é € 𝄞 '.repeat(90) : ''}')`);
    const stream = Buffer.from(lines.map((l) => l + '\n').join(''), 'utf8');
    for (const chunkSize of [1, 7, 1000, stream.length]) {
      const statements = new ValuesStatements('"s"."t"', schema.columns, { maxBytes: 4_000 });
      const chunks = Array.from({ length: Math.ceil(stream.length / chunkSize) }, (_, i) => Buffer.from(stream.subarray(i * chunkSize, (i + 1) * chunkSize)));
      const head = `INSERT INTO "s"."t" (${schema.columns.map((c) => `"${c.name}"`).join(', ')}) VALUES `;
      const tuples: string[] = [];
      let count = 0;
      for await (const st of statements.statements(toAsync(chunks))) {
        const text = st.sql();
        expect(st.bytes).toBe(Buffer.byteLength(text));
        expect(st.bytes).toBeLessThanOrEqual(4_000);
        expect(text.startsWith(head)).toBe(true);
        // The simple-protocol Query message: 'Q', its length, the text, NUL.
        expect([st.message[0], st.message.readInt32BE(1), st.message[st.message.length - 1]]).toEqual([0x51, st.bytes + 5, 0]);
        const body = text.slice(head.length).split(',(').map((t, i) => (i ? '(' + t : t));
        expect(body).toHaveLength(st.rows);
        tuples.push(...body);
        count++;
        st.release();
      }
      expect(tuples).toEqual(lines);
      expect(count).toBeGreaterThan(10);
    }
  });

  it('keeps at most statementsAtOnce statements (the one out and the one gathered): the next waits for a release, buffers are reused', async () => {
    const schema = MODEL_SCHEMAS.events;
    const line = `('x', '${'v'.repeat(200)}')\n`;
    const chunks = Array.from({ length: 400 }, () => Buffer.from(line.repeat(5)));
    const statements = new ValuesStatements('"s"."t"', schema.columns, { maxRows: 50, statementsAtOnce: 2 });
    const it = statements.statements(toAsync(chunks));
    const first = (await it.next()).value as ValuesStatement;
    const firstText = first.sql();
    let second: ValuesStatement | undefined;
    const pending = it.next().then((r) => (second = r.value as ValuesStatement));
    // However long the stream waits, the second statement is not handed out while the first is held.
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(second).toBeUndefined();
    expect(statements.buffersAllocated).toBe(2);
    first.release();
    await pending;
    expect([second!.rows, second!.sql()]).toEqual([50, firstText]);
    second!.release();
    let rows = 100;
    for await (const st of { [Symbol.asyncIterator]: () => it }) {
      rows += st.rows;
      st.release();
    }
    expect(rows).toBe(2_000);
    expect(statements.buffersAllocated).toBe(2);
  }, 20_000);
});

async function* toAsync(chunks: readonly Buffer[]): AsyncGenerator<Buffer> {
  for (const chunk of chunks) yield chunk;
}
