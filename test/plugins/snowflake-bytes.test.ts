/**
 * The Snowflake plugin's byte path (writeEncoded: ClickHouse writes the gzip JSON Lines, the plugin PUTs them) against
 * the fake Snowflake and the suite's ClickHouse: the values the row path lands (value rules included), parts by key
 * slice for a large run, and no part file, stage file or staging table left behind, whatever fails.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EVENTS_SCHEMA, findSourceError, isDestinationError, SourceError, type DestinationError, type EncodedRun, type Row } from '../../src/sdk';
import { eventRows } from '../../src/sdk/conformance';
import { hourInterval, runContext, stream, toBatches } from '../../src/sdk/conformance/run';
import plugin, { createSnowflakeDestination, SNOWFLAKE_WIRE_FORMAT } from '../../plugins/snowflake';
import type { SnowflakeConfig } from '../../plugins/snowflake/config';
import type { FakeSnowflake } from '../fakes/snowflake/server';
import { freshConfig, readRows, startFake } from '../conformance/fixtures/snowflake';
import { encodeRowsWithClickHouse } from '../support/encode-rows';

let fake: FakeSnowflake;
// The plugin's part files go under os.tmpdir(): a private one shows what is left behind.
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'outport-snowflake-bytes-test-'));
const savedTmpdir = process.env.TMPDIR;
beforeAll(async () => {
  process.env.TMPDIR = tmp;
  fake = await startFake();
}, 60_000);
afterEach(() => fake.clearInjections());
afterAll(async () => {
  if (savedTmpdir === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmpdir;
  await fake?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

jest.setTimeout(120_000);
const interval = hourInterval(0);
const byUuid = (rows: Row[]) => [...rows].sort((a, b) => String(a.uuid).localeCompare(String(b.uuid)));
const partFilesLeft = () => fs.readdirSync(tmp).filter((f) => f.startsWith('outport-snowflake-'));

async function writeBoth(rows: Row[], p = plugin, encodedRun?: (run: EncodedRun) => EncodedRun) {
  const viaRows = await freshConfig(fake);
  const viaBytes = await freshConfig(fake);
  const rowResult = await p.write(viaRows, runContext({ model: 'events', interval, runId: 'rows' }), stream(toBatches(rows)));
  const encoded = await encodeRowsWithClickHouse(rows, EVENTS_SCHEMA, SNOWFLAKE_WIRE_FORMAT);
  try {
    const run = encodedRun ? encodedRun(encoded.run) : encoded.run;
    const byteResult = await p.writeEncoded!(viaBytes, runContext({ model: 'events', interval, runId: 'bytes', expectedRows: rows.length }), run);
    return { rowResult, byteResult, encoded: encoded.run, viaRows, viaBytes };
  } finally {
    await encoded.done();
  }
}

async function failure(fn: () => Promise<unknown>): Promise<DestinationError> {
  try {
    await fn();
  } catch (err) {
    if (!isDestinationError(err)) throw new Error(`expected a DestinationError, got ${String(err)}`);
    return err;
  }
  throw new Error('expected a failure, but it succeeded');
}

describe('Snowflake byte path', () => {
  it('json values that are not JSON, holding every character JSON.stringify escapes, land as the row path lands them and are counted alike', async () => {
    const every = Array.from({ length: 0x20 }, (_, i) => String.fromCharCode(i)).join('');
    const texts = [`{not json ${every}`, `" \\ / \\u0041 \\\\u2028 \u2028\u2029 \u007f\u0085 é 🎉`, 'plain', '', '{"a": 1} trailing', '[1, 2'];
    const rows = eventRows(interval, 0, texts.length * 2).map((row, i) => ({
      ...row,
      properties: texts[i % texts.length],
      person_properties: i % 3 === 0 ? texts[(i + 1) % texts.length] : row.person_properties,
    }));
    const { rowResult, byteResult, encoded, viaRows, viaBytes } = await writeBoth(rows);
    expect(byteResult.rowsLanded).toBe(rows.length);
    const a = byUuid(await readRows(fake, viaRows, 'events'));
    const b = byUuid(await readRows(fake, viaBytes, 'events'));
    expect(a).toHaveLength(rows.length);
    for (let i = 0; i < a.length; i++) expect(b[i]).toEqual(a[i]);
    // The host adds the byte path's counts (taken in SQL) to the run; the row path's plugin reports its own.
    const counts = (list: { column: string; rule: string; count: number }[] = []) => list.map((r) => `${r.rule}:${r.column}=${r.count}`).sort();
    expect(counts(await encoded.replacements())).toEqual(counts(rowResult.replacements));
    expect(counts(rowResult.replacements)).toEqual(['invalid_json_as_string:person_properties=4', 'invalid_json_as_string:properties=12']);
    expect(byteResult.replacements).toBeUndefined();
  });

  it('a run larger than one part is read in key slices, one staged file and COPY each: every row once, no part file left', async () => {
    const rowsPerPart = 40;
    const small = createSnowflakeDestination({ maxPartRows: rowsPerPart });
    const rows = eventRows(interval, 0, 300);
    const before = fake.statements.length;
    let opened = 0;
    const { byteResult, viaRows, viaBytes } = await writeBoth(rows, small, (run) => ({ ...run, open: (slice) => (opened++, run.open(slice)) }));
    const statements = fake.statements.slice(before);
    const puts = statements.filter((s) => s.startsWith('PUT '));
    expect(opened).toBeGreaterThanOrEqual(300 / rowsPerPart);
    expect(byteResult).toMatchObject({ rowsLanded: 300, details: { stagedFiles: opened, rowsStaged: 300 } });
    expect(puts.length).toBeGreaterThanOrEqual(opened);
    // The byte path COPYs each part as it is staged (under its own stage path), the row path once at the end.
    expect(statements.filter((s) => /^COPY INTO .* FROM @\S+\/part-\d{5}\//.test(s))).toHaveLength(opened);
    expect(byUuid(await readRows(fake, viaBytes, 'events'))).toEqual(byUuid(await readRows(fake, viaRows, 'events')));
    expect(partFilesLeft()).toEqual([]);
    expect(fake.stageFiles()).toEqual([]);
  });

  it('a failed attempt leaves no part file, stage file or staging table; the retry lands every row once', async () => {
    const config = await freshConfig(fake);
    const rows = eventRows(interval, 0, 50);
    const attempt = async (n: number, p = plugin) => {
      const encoded = await encodeRowsWithClickHouse(rows, EVENTS_SCHEMA, SNOWFLAKE_WIRE_FORMAT);
      try {
        return await p.writeEncoded!(config, runContext({ model: 'events', interval, runId: 'retried', attempt: n, expectedRows: rows.length }), encoded.run);
      } finally {
        await encoded.done();
      }
    };
    fake.inject({ when: /^MERGE/, then: { fault: { code: '000630', message: 'Statement reached its statement or warehouse timeout of 600 second(s) and was canceled.', sqlState: '57014' } } });
    const err = await failure(() => attempt(1));
    expect({ kind: err.kind, code: err.code }).toEqual({ kind: 'retryable', code: 'SNOWFLAKE_000630' });
    expect({ parts: partFilesLeft(), stage: fake.stageFiles(), tables: await fake.listTables('ANALYTICS', config.schema) }).toEqual({ parts: [], stage: [], tables: ['EVENTS'] });
    // A COPY of an early part fails while ClickHouse writes the next one.
    fake.inject({ when: /^COPY INTO/, then: { fault: { code: '000603', message: 'Processing aborted due to error 300002:123; incident 42.', sqlState: 'XX000' } } });
    const copyFailed = await failure(() => attempt(2, createSnowflakeDestination({ maxPartRows: 10 })));
    expect({ kind: copyFailed.kind, code: copyFailed.code }).toEqual({ kind: 'retryable', code: 'SNOWFLAKE_000603' });
    expect({ parts: partFilesLeft(), stage: fake.stageFiles(), tables: await fake.listTables('ANALYTICS', config.schema) }).toEqual({ parts: [], stage: [], tables: ['EVENTS'] });
    expect(await readRows(fake, config, 'events')).toEqual([]);
    expect((await attempt(2)).rowsLanded).toBe(50);
    expect((await attempt(3)).rowsLanded).toBe(50);
    expect((await readRows(fake, config, 'events')).map((r) => r.uuid).sort()).toEqual(rows.map((r) => r.uuid).sort());
  });

  it('a ClickHouse failure mid-stream fails the run as a reading failure (the SourceError kept as cause) and cleans up', async () => {
    const config: SnowflakeConfig = await freshConfig(fake);
    const rows = eventRows(interval, 0, 30);
    const encoded = await encodeRowsWithClickHouse(rows, EVENTS_SCHEMA, SNOWFLAKE_WIRE_FORMAT);
    const broken: EncodedRun = {
      ...encoded.run,
      async open(slice) {
        const part = await encoded.run.open(slice);
        return {
          chunks: (async function* () {
            for await (const chunk of part.chunks) {
              yield chunk;
              throw new SourceError('Reading from ClickHouse failed: connection reset', { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) });
            }
          })(),
          finished: part.finished,
        };
      },
    };
    try {
      const err = await failure(() => plugin.writeEncoded!(config, runContext({ model: 'events', interval, runId: 'cut', expectedRows: 30 }), broken));
      expect(err.kind).toBe('retryable');
      expect(findSourceError(err)?.message).toMatch(/connection reset/);
    } finally {
      await encoded.done();
    }
    expect({ parts: partFilesLeft(), stage: fake.stageFiles(), tables: await fake.listTables('ANALYTICS', config.schema) }).toEqual({ parts: [], stage: [], tables: ['EVENTS'] });
  });
});
