import 'reflect-metadata';
import type { DataSource } from 'typeorm';
import { schedulerTick } from '../../src/scheduler/tick';
import { createDataSource } from '../../src/store/data-source';
import { SecretBox } from '../../src/store/secrets';
import { createTestDatabase } from '../support/pg';
import { seedDestination, seedExport, seedTeam } from '../support/seed';

const at = (iso: string) => ({ now: () => new Date(iso) });
const opts = { settleMs: 30_000, catchUpLimit: 1000 };

describe('schedulerTick', () => {
  let ds: DataSource;
  let teamId: number;
  let destinationId: string;

  beforeAll(async () => {
    ds = createDataSource((await createTestDatabase('tick')).url, { poolSize: 8 });
    await ds.initialize();
    ({ teamId } = await seedTeam(ds));
    destinationId = await seedDestination(ds, new SecretBox(Buffer.alloc(32, 1)), teamId, 'local-files', { path: '/tmp/x' });
  });
  afterAll(() => ds.destroy());

  const runsOf = (id: string): Promise<{ s: string; e: string }[]> =>
    ds
      .query(`SELECT interval_start AS s, interval_end AS e FROM runs WHERE batch_export_id = $1 ORDER BY interval_start`, [id])
      .then((rows) => rows.map((r: { s: Date; e: Date }) => ({ s: r.s.toISOString(), e: r.e.toISOString() })));
  const jobsOf = async (id: string): Promise<number> =>
    (await ds.query(`SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE queue_name = $1 OR queue_name LIKE $1 || ':%'`, [`export:${id}`]))[0].n;

  it('creates the first run when the interval in progress at creation closes, after the settle delay', async () => {
    const id = await seedExport(ds, { teamId, destinationId, createdAt: new Date('2026-03-01T10:20:00Z') });
    await schedulerTick(ds, at('2026-03-01T11:00:10Z'), opts);
    expect(await runsOf(id)).toEqual([]); // closed 10 s ago, settle is 30 s
    await schedulerTick(ds, at('2026-03-01T11:00:31Z'), opts);
    expect(await runsOf(id)).toEqual([{ s: '2026-03-01T10:00:00.000Z', e: '2026-03-01T11:00:00.000Z' }]);
    expect(await jobsOf(id)).toBe(1);
  });

  it('catches up on every interval missed during downtime, in order, and only once', async () => {
    const id = await seedExport(ds, { teamId, destinationId, scheduledUntil: new Date('2026-03-02T00:00:00Z') });
    await schedulerTick(ds, at('2026-03-02T05:10:00Z'), opts);
    await schedulerTick(ds, at('2026-03-02T05:20:00Z'), opts);
    const runs = await runsOf(id);
    expect(runs.map((r) => r.s.slice(11, 13))).toEqual(['00', '01', '02', '03', '04']);
    expect(await jobsOf(id)).toBe(5);
  });

  it('two schedulers ticking at once create each run exactly once', async () => {
    const id = await seedExport(ds, { teamId, destinationId, interval: 'every_5_minutes', scheduledUntil: new Date('2026-03-03T00:00:00Z') });
    const clock = at('2026-03-03T02:00:00Z');
    const results = await Promise.all([schedulerTick(ds, clock, opts), schedulerTick(ds, clock, opts), schedulerTick(ds, clock, opts)]);
    expect(await runsOf(id)).toHaveLength(23); // 00:00..01:55 closed; 01:55-02:00 still settling
    expect(results.reduce((n, r) => n + r.runsCreated, 0)).toBeGreaterThanOrEqual(23);
    expect(await jobsOf(id)).toBe(23);
  });

  it('follows DST: a daily Europe/Paris export gets a 23-hour day in spring and a 25-hour day in autumn', async () => {
    const spring = await seedExport(ds, { teamId, destinationId, interval: 'day', timezone: 'Europe/Paris', scheduledUntil: new Date('2026-03-28T23:00:00Z') });
    await schedulerTick(ds, at('2026-03-31T00:00:00Z'), opts);
    const hours = (r: { s: string; e: string }) => (Date.parse(r.e) - Date.parse(r.s)) / 3_600_000;
    expect((await runsOf(spring)).map(hours)).toEqual([23, 24]); // Mar 29 (clocks forward), Mar 30
    const autumn = await seedExport(ds, { teamId, destinationId, interval: 'day', timezone: 'Europe/Paris', scheduledUntil: new Date('2026-10-24T22:00:00Z') });
    await schedulerTick(ds, at('2026-10-27T00:00:00Z'), opts);
    expect((await runsOf(autumn)).map(hours)).toEqual([25, 24]); // Oct 25 (clocks back), Oct 26
  });

  it('starts the first run after a schedule change exactly where the last one ended, bridging to the new grid', async () => {
    const id = await seedExport(ds, { teamId, destinationId, interval: 'every_5_minutes', scheduledUntil: new Date('2026-03-06T04:00:00Z') });
    await schedulerTick(ds, at('2026-03-06T04:25:40Z'), opts);
    await ds.query(`UPDATE batch_exports SET interval = 'every_15_minutes' WHERE id = $1`, [id]);
    await schedulerTick(ds, at('2026-03-06T05:00:40Z'), opts);
    expect((await runsOf(id)).slice(-4)).toEqual([
      { s: '2026-03-06T04:20:00.000Z', e: '2026-03-06T04:25:00.000Z' },
      { s: '2026-03-06T04:25:00.000Z', e: '2026-03-06T04:30:00.000Z' },
      { s: '2026-03-06T04:30:00.000Z', e: '2026-03-06T04:45:00.000Z' },
      { s: '2026-03-06T04:45:00.000Z', e: '2026-03-06T05:00:00.000Z' },
    ]);
  });

  it('a tick computed from a schedule that changed under it creates nothing; coverage stays continuous', async () => {
    const id = await seedExport(ds, { teamId, destinationId, interval: 'every_5_minutes', scheduledUntil: new Date('2026-03-07T04:25:00Z') });
    const clock = at('2026-03-07T05:00:40Z');
    const lockWaiters = async () =>
      (await ds.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO runs%'`,
      ))[0].n as number;
    const until = async (n: number) => {
      for (let i = 0; (await lockWaiters()) < n; i++) {
        if (i > 200) throw new Error(`expected ${n} ticks waiting on the runs table`);
        await new Promise((r) => setTimeout(r, 25));
      }
    };
    // Hold both ticks between reading the exports and writing runs, with the schedule changed in between.
    const blocker = ds.createQueryRunner();
    await blocker.connect();
    await blocker.startTransaction();
    await blocker.query('LOCK TABLE runs IN SHARE MODE');
    let stale: Promise<unknown>, fresh: Promise<unknown>;
    try {
      stale = schedulerTick(ds, clock, opts);
      await until(1);
      await ds.query(`UPDATE batch_exports SET interval = 'every_15_minutes' WHERE id = $1`, [id]);
      fresh = schedulerTick(ds, clock, opts);
      await until(2);
    } finally {
      await blocker.commitTransaction();
      await blocker.release();
    }
    await Promise.all([stale!, fresh!]);
    await schedulerTick(ds, clock, opts);
    expect(await runsOf(id)).toEqual([
      { s: '2026-03-07T04:25:00.000Z', e: '2026-03-07T04:30:00.000Z' },
      { s: '2026-03-07T04:30:00.000Z', e: '2026-03-07T04:45:00.000Z' },
      { s: '2026-03-07T04:45:00.000Z', e: '2026-03-07T05:00:00.000Z' },
    ]);
    expect(await jobsOf(id)).toBe(3);
  });

  it('creates nothing for paused, deleted or ended exports', async () => {
    const paused = await seedExport(ds, { teamId, destinationId, paused: true, scheduledUntil: new Date('2026-03-04T00:00:00Z') });
    const deleted = await seedExport(ds, { teamId, destinationId, scheduledUntil: new Date('2026-03-04T00:00:00Z') });
    await ds.query(`UPDATE batch_exports SET deleted_at = now() WHERE id = $1`, [deleted]);
    const ended = await seedExport(ds, {
      teamId, destinationId, scheduledUntil: new Date('2026-03-04T00:00:00Z'), endAt: new Date('2026-03-04T02:00:00Z'),
    });
    await schedulerTick(ds, at('2026-03-04T06:00:00Z'), opts);
    expect(await runsOf(paused)).toEqual([]);
    expect(await runsOf(deleted)).toEqual([]);
    expect((await runsOf(ended)).map((r) => r.e)).toEqual(['2026-03-04T01:00:00.000Z', '2026-03-04T02:00:00.000Z']);
  });
});

describe('schedulerTick with a broken export', () => {
  it('skips an export whose stored schedule is invalid and schedules the others', async () => {
    const ds = createDataSource((await createTestDatabase('tick2')).url, { poolSize: 4 });
    await ds.initialize();
    try {
      const { teamId } = await seedTeam(ds);
      const destinationId = await seedDestination(ds, new SecretBox(Buffer.alloc(32, 1)), teamId, 'local-files', {});
      const bad = await seedExport(ds, { teamId, destinationId, timezone: 'Mars/Olympus_Mons', scheduledUntil: new Date('2026-03-01T00:00:00Z') });
      const good = await seedExport(ds, { teamId, destinationId, scheduledUntil: new Date('2026-03-01T00:00:00Z') });
      const r = await schedulerTick(ds, at('2026-03-01T02:01:00Z'), opts);
      expect(r.skipped.map((s) => s.id)).toEqual([bad]);
      expect(r.skipped[0].error).toMatch(/Mars\/Olympus_Mons/);
      const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM runs WHERE batch_export_id = $1`, [good]);
      expect(n).toBe(2);
    } finally {
      await ds.destroy();
    }
  });
});
