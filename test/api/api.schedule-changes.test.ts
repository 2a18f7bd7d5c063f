/**
 * Issue 11.2: a schedule change (interval, timezone, offset, start/end, pause/unpause) must leave no gap and no
 * overlap between the last run of the old schedule and the first of the new one. Driven through the GraphQL API
 * with a controllable clock, the scheduler ticked by hand; the export's runs (scheduled and backfill) are read
 * back and must tile time without a hole or a double.
 */
import { schedulerTick } from '../../src/scheduler/tick';
import { startAppHarness, type AppHarness } from '../support/app-harness';

const clock = { t: new Date('2026-03-02T00:00:00Z'), now(): Date { return this.t; } };
let h: AppHarness;
let destinationId: string;

beforeAll(async () => {
  h = await startAppHarness({ roles: 'api', overrides: { clock } });
  const { createDestination } = await h.gql<{ createDestination: { id: string } }>(
    `mutation($c: JSONObject!) { createDestination(input: { name: "d", type: "postgres", config: $c }) { id } }`,
    { c: { ...h.destination, table_name: 'unused', ssl_mode: 'disable' } },
  );
  destinationId = createDestination.id;
}, 120_000);
afterAll(async () => {
  await h?.stop();
});

const FIELDS = 'id interval timezone offsetHour paused scheduledUntil';

async function tickAt(iso: string): Promise<void> {
  clock.t = new Date(iso);
  await schedulerTick(h.app.dataSource, clock, { settleMs: 0, catchUpLimit: 1000 });
}

async function createAt(iso: string, input: string): Promise<string> {
  clock.t = new Date(iso);
  const { createBatchExport } = await h.gql<{ createBatchExport: { id: string } }>(
    `mutation($d: ID!) { createBatchExport(input: { name: "e", destinationId: $d, model: EVENTS, ${input} }) { id } }`,
    { d: destinationId },
  );
  return createBatchExport.id;
}

async function updateAt(iso: string, id: string, input: Record<string, unknown>): Promise<void> {
  clock.t = new Date(iso);
  await h.gql(`mutation($i: UpdateBatchExportInput!) { updateBatchExport(input: $i) { ${FIELDS} } }`, { i: { id, ...input } });
}

async function pauseAt(iso: string, id: string): Promise<void> {
  clock.t = new Date(iso);
  await h.gql(`mutation($id: ID!) { pauseBatchExport(id: $id) { id } }`, { id });
}

async function unpauseAt(iso: string, id: string, backfillPausedGap: boolean): Promise<void> {
  clock.t = new Date(iso);
  await h.gql(`mutation($id: ID!, $b: Boolean!) { unpauseBatchExport(id: $id, backfillPausedGap: $b) { id } }`, { id, b: backfillPausedGap });
}

type Span = [string, string];
const hhmm = (d: Date) => d.toISOString().slice(5, 16).replace('T', ' ');

/** Every run of the export (scheduled and backfill), oldest interval first, as ['MM-DD HH:MM', 'MM-DD HH:MM']. */
async function runsOf(id: string): Promise<Span[]> {
  const rows: { s: Date; e: Date }[] = await h.app.dataSource.query(
    `SELECT interval_start AS s, interval_end AS e FROM runs WHERE batch_export_id = $1 AND status <> 'Cancelled' ORDER BY interval_start, interval_end`,
    [id],
  );
  return rows.map((r) => [hhmm(r.s), hhmm(r.e)]);
}

/** The places where consecutive runs do not meet: a gap (end < next start) or an overlap (end > next start). */
function seams(spans: Span[]): string[] {
  const bad: string[] = [];
  for (let i = 1; i < spans.length; i++) {
    if (spans[i - 1][1] !== spans[i][0]) bad.push(`${spans[i - 1].join('–')} then ${spans[i].join('–')}`);
  }
  return bad;
}

describe('schedule changes keep an export\'s coverage continuous', () => {
  it('5 minutes -> 15 minutes mid-grid: [04:25, 04:30) is exported, then the 15-minute grid (the reported case)', async () => {
    const id = await createAt('2026-03-02T04:00:10Z', 'interval: EVERY_5_MINUTES');
    await tickAt('2026-03-02T04:25:30Z');
    await updateAt('2026-03-02T04:26:00Z', id, { interval: 'EVERY_15_MINUTES' });
    await tickAt('2026-03-02T05:00:01Z');
    const runs = await runsOf(id);
    expect(runs.slice(-4)).toEqual([
      ['03-02 04:20', '03-02 04:25'],
      ['03-02 04:25', '03-02 04:30'],
      ['03-02 04:30', '03-02 04:45'],
      ['03-02 04:45', '03-02 05:00'],
    ]);
    expect(runs[0][0]).toBe('03-02 04:00');
    expect(seams(runs)).toEqual([]);
  });

  it('15 minutes -> hour, hour -> day (Paris, 03:00), day -> 5 minutes', async () => {
    const id = await createAt('2026-03-03T00:00:10Z', 'interval: EVERY_15_MINUTES');
    await tickAt('2026-03-03T10:45:00Z');
    await updateAt('2026-03-03T10:50:00Z', id, { interval: 'HOUR' });
    await tickAt('2026-03-03T14:00:00Z');
    await updateAt('2026-03-03T14:10:00Z', id, { interval: 'DAY', timezone: 'Europe/Paris', offsetHour: 3 });
    await tickAt('2026-03-05T02:00:00Z');
    await updateAt('2026-03-05T02:07:00Z', id, { interval: 'EVERY_5_MINUTES' });
    await tickAt('2026-03-05T02:20:00Z');
    const runs = await runsOf(id);
    expect(seams(runs)).toEqual([]);
    expect(runs).toContainEqual(['03-03 10:45', '03-03 11:00']); // bridge to the first hour boundary
    expect(runs).toContainEqual(['03-03 14:00', '03-04 02:00']); // bridge to the first Paris 03:00 (02:00 UTC)
    expect(runs).toContainEqual(['03-04 02:00', '03-05 02:00']);
    expect(runs.slice(-1)).toEqual([['03-05 02:15', '03-05 02:20']]);
    expect(runs[0][0]).toBe('03-03 00:00');
  });

  it('timezone and offset changes bridge to the new boundaries', async () => {
    const id = await createAt('2026-03-06T00:00:10Z', 'interval: HOUR');
    await tickAt('2026-03-06T10:00:00Z');
    await updateAt('2026-03-06T10:05:00Z', id, { timezone: 'Asia/Kolkata' }); // local hours start at UTC :30
    await tickAt('2026-03-06T12:40:00Z');
    await updateAt('2026-03-06T12:41:00Z', id, { interval: 'DAY', timezone: 'UTC', offsetHour: 0 });
    await tickAt('2026-03-08T00:00:00Z');
    await updateAt('2026-03-08T01:00:00Z', id, { offsetHour: 6 });
    await tickAt('2026-03-09T06:00:00Z');
    const runs = await runsOf(id);
    expect(seams(runs)).toEqual([]);
    expect(runs).toContainEqual(['03-06 10:00', '03-06 10:30']);
    expect(runs).toContainEqual(['03-06 11:30', '03-06 12:30']);
    expect(runs).toContainEqual(['03-06 12:30', '03-07 00:00']);
    expect(runs.slice(-2)).toEqual([['03-08 00:00', '03-08 06:00'], ['03-08 06:00', '03-09 06:00']]);
  });

  it('startAt and endAt changes: a later start continues without overlap, an extended end resumes where the export stopped', async () => {
    const id = await createAt('2026-03-10T00:00:10Z', 'interval: EVERY_5_MINUTES');
    await tickAt('2026-03-10T00:25:00Z');
    await updateAt('2026-03-10T00:26:00Z', id, { interval: 'EVERY_15_MINUTES', startAt: '2026-03-10T00:27:00Z' });
    await tickAt('2026-03-10T01:00:00Z');
    expect(seams(await runsOf(id))).toEqual([]);
    await updateAt('2026-03-10T01:01:00Z', id, { endAt: '2026-03-10T01:30:00Z' });
    await tickAt('2026-03-10T03:00:00Z');
    expect((await runsOf(id)).slice(-1)).toEqual([['03-10 01:15', '03-10 01:30']]);
    await updateAt('2026-03-10T03:01:00Z', id, { endAt: null });
    await tickAt('2026-03-10T03:30:00Z');
    const runs = await runsOf(id);
    expect(seams(runs)).toEqual([]);
    expect(runs.slice(-1)).toEqual([['03-10 03:15', '03-10 03:30']]);
  });

  it('pause then unpause within the same interval loses nothing', async () => {
    const id = await createAt('2026-03-11T00:00:10Z', 'interval: HOUR');
    await tickAt('2026-03-11T03:00:00Z');
    await pauseAt('2026-03-11T03:10:00Z', id);
    await unpauseAt('2026-03-11T03:20:00Z', id, false);
    await tickAt('2026-03-11T05:00:00Z');
    const runs = await runsOf(id);
    expect(seams(runs)).toEqual([]);
    expect(runs.slice(-1)).toEqual([['03-11 04:00', '03-11 05:00']]);
  });

  it('pause, change the interval while paused, unpause with backfillPausedGap: the gap is backfilled without overlap', async () => {
    const id = await createAt('2026-03-12T00:00:10Z', 'interval: EVERY_5_MINUTES');
    await tickAt('2026-03-12T01:25:00Z');
    await pauseAt('2026-03-12T01:26:00Z', id);
    await updateAt('2026-03-12T01:30:00Z', id, { interval: 'HOUR' });
    await unpauseAt('2026-03-12T04:20:00Z', id, true);
    await tickAt('2026-03-12T06:00:00Z');
    const runs = await runsOf(id);
    expect(seams(runs)).toEqual([]);
    expect(runs).toContainEqual(['03-12 01:25', '03-12 02:00']);
    expect(runs.slice(-2)).toEqual([['03-12 04:00', '03-12 05:00'], ['03-12 05:00', '03-12 06:00']]);
  });

  it('pause, change hour -> day while paused, unpause in the same day: the day resumes where the hours stopped, nothing twice', async () => {
    const id = await createAt('2026-03-13T00:00:10Z', 'interval: HOUR');
    await tickAt('2026-03-13T14:00:00Z');
    await pauseAt('2026-03-13T14:05:00Z', id);
    await updateAt('2026-03-13T14:06:00Z', id, { interval: 'DAY' });
    await unpauseAt('2026-03-13T14:07:00Z', id, true);
    await tickAt('2026-03-14T00:00:00Z');
    const runs = await runsOf(id);
    expect(seams(runs)).toEqual([]);
    expect(runs.slice(-1)).toEqual([['03-13 14:00', '03-14 00:00']]);
  });

  it('unpause without backfillPausedGap skips the paused gap as asked, and says so in the export\'s logs', async () => {
    const id = await createAt('2026-03-14T00:00:10Z', 'interval: HOUR');
    await tickAt('2026-03-14T02:00:00Z');
    await pauseAt('2026-03-14T02:30:00Z', id);
    await unpauseAt('2026-03-14T05:30:00Z', id, false);
    await tickAt('2026-03-14T07:00:00Z');
    const runs = await runsOf(id);
    expect(seams(runs)).toEqual(['03-14 01:00–03-14 02:00 then 03-14 05:00–03-14 06:00']);
    const { logs } = await h.gql(`query($id: ID!) { logs(batchExportId: $id, first: 20) { edges { node { level message } } } }`, { id });
    const messages = logs.edges.map((e: { node: { level: string; message: string } }) => `${e.node.level} ${e.node.message}`);
    expect(messages).toContainEqual(expect.stringMatching(/^WARN .*2026-03-14T02:00:00.000Z.*2026-03-14T05:00:00.000Z.*not exported.*backfill/i));
  });

  it('unpause with backfillPausedGap: scheduled and backfill runs together tile the paused time', async () => {
    const id = await createAt('2026-03-15T00:00:10Z', 'interval: EVERY_15_MINUTES');
    await tickAt('2026-03-15T01:00:00Z');
    await pauseAt('2026-03-15T01:05:00Z', id);
    await unpauseAt('2026-03-15T02:20:00Z', id, true);
    await tickAt('2026-03-15T03:00:00Z');
    const runs = await runsOf(id);
    expect(seams(runs)).toEqual([]);
    expect(runs[0][0]).toBe('03-15 00:00');
    expect(runs.slice(-1)).toEqual([['03-15 02:45', '03-15 03:00']]);
  });
});
