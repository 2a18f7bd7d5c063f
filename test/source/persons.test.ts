import { NO_PERSON_VERSION, type Row } from '../../src/sdk/models';
import { generatePersons, insertPersons, isoMicros, microsOf, type PersonDistinctIdRow, type PersonRow } from '../../src/source/generator';
import { collect, createTestClickHouse } from './support/clickhouse';

const S = new Date('2024-03-01T00:00:00Z');
const SEC = 1_000_000;
const at = (us: number) => isoMicros(microsOf(S) + us);

/** The documented persons rule (changed in the interval, at the latest stored versions), computed in JS. */
function expectedPersons(data: { persons: PersonRow[]; distinctIds: PersonDistinctIdRow[] }, teamId: number, start: number, end: number, full = false): Row[] {
  const s = microsOf(S) + start;
  const e = microsOf(S) + end;
  const latest = <T extends { version: number }>(rows: T[]): T => rows.reduce((a, b) => (b.version >= a.version ? b : a));
  const inInterval = (r: { _timestamp: string }) => microsOf(r._timestamp) >= s && microsOf(r._timestamp) < e;
  const pdiRows = data.distinctIds.filter((r) => r.team_id === teamId);
  const personRows = data.persons.filter((r) => r.team_id === teamId);
  const changedPdi = new Set(pdiRows.filter(inInterval).map((r) => r.distinct_id));
  const changedPersons = new Set(personRows.filter(inInterval).map((r) => r.id));
  const out: Row[] = [];
  for (const distinctId of new Set(pdiRows.filter((r) => microsOf(r._timestamp) < e).map((r) => r.distinct_id))) {
    const d = latest(pdiRows.filter((r) => r.distinct_id === distinctId));
    const before = pdiRows.filter((r) => r.distinct_id === distinctId && microsOf(r._timestamp) < e);
    const candidate = before.some((r) => changedPdi.has(r.distinct_id) || changedPersons.has(r.person_id));
    if (!full && !(candidate && (changedPdi.has(distinctId) || changedPersons.has(d.person_id)))) continue;
    const versions = personRows.filter((r) => r.id === d.person_id);
    const p = versions.length ? latest(versions) : undefined;
    out.push({
      team_id: teamId,
      distinct_id: distinctId,
      person_id: d.person_id,
      properties: p ? p.properties : null,
      person_version: p ? p.version : NO_PERSON_VERSION,
      person_distinct_id_version: d.version,
      is_deleted: d.is_deleted === 1 || p?.is_deleted === 1,
      created_at: p ? p.created_at : null,
      _inserted_at: isoMicros(Math.max(microsOf(d._timestamp), p ? microsOf(p._timestamp) : 0)),
    });
  }
  return out.sort((a, b) => ((a.distinct_id as string) < (b.distinct_id as string) ? -1 : 1));
}

describe('ClickHouseSource: persons model', () => {
  let ctx: Awaited<ReturnType<typeof createTestClickHouse>>;
  const data = generatePersons({ seed: 5, teamId: 1, persons: 30, start: S });
  const other = generatePersons({ seed: 6, teamId: 2, persons: 5, start: S });

  beforeAll(async () => {
    ctx = await createTestClickHouse('src_persons');
    // Runs normally happen before later versions arrive; keep the history unmerged so the test sees what they saw.
    await ctx.client.command({ query: `SYSTEM STOP MERGES ${ctx.database}.person` });
    await ctx.client.command({ query: `SYSTEM STOP MERGES ${ctx.database}.person_distinct_id2` });
    await insertPersons(ctx.client, { database: ctx.database }, data);
    await insertPersons(ctx.client, { database: ctx.database }, other);
  });
  afterAll(() => ctx.drop());

  const read = async (start: number, end: number, fullSnapshot = false) => {
    const q = { teamId: 1, model: 'persons' as const, interval: { start: at(start), end: at(end) }, fullSnapshot };
    const rows = await collect(ctx.source.stream(q, { batchSize: 7 }));
    expect(await ctx.source.count(q)).toBe(rows.length);
    return rows;
  };

  it('reads changed distinct ids at their latest versions, interval by interval', async () => {
    // 30 creations (0-29 s), 30 identifications (30-59 s), 30 churn/merge/delete steps (60-89 s).
    for (const [start, end] of [[0, 30 * SEC], [30 * SEC, 60 * SEC], [60 * SEC, 90 * SEC], [0, 90 * SEC], [45 * SEC, 75 * SEC]]) {
      const rows = await read(start, end);
      expect({ start, end, rows }).toEqual({ start, end, rows: expectedPersons(data, 1, start, end) });
    }
  });

  it('includes deletions and merges', async () => {
    const rows = await read(60 * SEC, 90 * SEC);
    const deleted = data.distinctIds.filter((d) => d.is_deleted === 1).map((d) => d.distinct_id);
    expect(deleted.length).toBeGreaterThan(0);
    for (const id of deleted) expect(rows.find((r) => r.distinct_id === id)?.is_deleted).toBe(true);
    const merged = data.distinctIds.filter((d) => d.version === 2);
    expect(merged.length).toBeGreaterThan(0);
    for (const m of merged) expect(rows.find((r) => r.distinct_id === m.distinct_id)?.person_id).toBe(m.person_id);
  });

  it('gives a full snapshot of the team up to end', async () => {
    const rows = await read(80 * SEC, 90 * SEC, true);
    expect(rows).toHaveLength(60);
    expect(rows).toEqual(expectedPersons(data, 1, 80 * SEC, 90 * SEC, true));
    // Only distinct ids first seen before end: the identified ones appear from 30 s on.
    expect(await read(0, 10 * SEC, true)).toHaveLength(10);
    expect(rows.every((r) => r.team_id === 1)).toBe(true);
  });

  it('loses no distinct id once merges have discarded old versions', async () => {
    const merged = await createTestClickHouse('src_persons_merged');
    try {
      await insertPersons(merged.client, { database: merged.database }, data);
      await merged.client.command({ query: `OPTIMIZE TABLE ${merged.database}.person FINAL` });
      await merged.client.command({ query: `OPTIMIZE TABLE ${merged.database}.person_distinct_id2 FINAL` });
      const byId = new Map<string, Row>();
      for (const [start, end] of [[0, 30 * SEC], [30 * SEC, 60 * SEC], [60 * SEC, 90 * SEC]]) {
        const q = { teamId: 1, model: 'persons' as const, interval: { start: at(start), end: at(end) } };
        for (const row of await collect(merged.source.stream(q))) byId.set(row.distinct_id as string, row);
      }
      expect([...byId.values()].sort((a, b) => ((a.distinct_id as string) < (b.distinct_id as string) ? -1 : 1))).toEqual(
        expectedPersons(data, 1, 0, 90 * SEC, true),
      );
    } finally {
      await merged.drop();
    }
  });

  it('estimates rows', async () => {
    const est = await ctx.source.estimate({ teamId: 1, model: 'persons', interval: { start: at(0), end: at(90 * SEC) } });
    expect(est.rows).toBe(60);
  });
});
