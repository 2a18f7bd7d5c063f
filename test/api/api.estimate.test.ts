/** estimateBackfill against the real (embedded) ClickHouse source. */
import { generateEvents, insertEvents } from '../../src/source';
import { startApiHarness, type ApiHarness } from '../support/api';
import { createTestClickHouse } from '../source/support/clickhouse';

const HOUR = 3_600_000;
let h: ApiHarness;
let ch: Awaited<ReturnType<typeof createTestClickHouse>>;
let exportId: string;
const end = Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR;
const start = end - 6 * HOUR;

beforeAll(async () => {
  ch = await createTestClickHouse('api_estimate');
  h = await startApiHarness({ source: ch.source });
  // 600 events of team A inside the range, one every 30 s, inserted 30 s after their timestamp.
  await insertEvents(ch.client, { database: ch.database }, generateEvents({ seed: 7, count: 600, teamId: h.a.id, start: new Date(start + 60_000), stepMicros: 30_000_000 }));
  await insertEvents(ch.client, { database: ch.database }, generateEvents({ seed: 8, count: 50, teamId: h.b.id, start: new Date(start + 60_000) }));
  const d = (await h.ok(h.a.token, `mutation { createDestination(input: { name: "f", type: "example-ndjson", config: { directory: "/tmp" } }) { id } }`)).createDestination.id;
  exportId = (await h.ok(h.a.token, `mutation($input: CreateBatchExportInput!) { createBatchExport(input: $input) { id } }`, {
    input: { name: 'e', destinationId: d, interval: 'HOUR' },
  })).createBatchExport.id;
}, 180_000);
afterAll(async () => {
  await h?.stop();
  await ch?.drop();
});

const ESTIMATE = `query($id: ID!, $s: DateTimeISO!, $e: DateTimeISO!) { estimateBackfill(batchExportId: $id, startAt: $s, endAt: $e) { runs rows bytes seconds } }`;

describe('estimateBackfill with a source', () => {
  it("counts the team's rows in the range and derives the ESTIMATE of seconds from them", async () => {
    const r = (await h.ok(h.a.readToken, ESTIMATE, { id: exportId, s: new Date(start).toISOString(), e: new Date(end).toISOString() })).estimateBackfill;
    expect(r.runs).toBe(6);
    expect(r.rows).toBe(600); // team B's 50 events are not counted
    expect(r.bytes).toBeGreaterThan(0);
    expect(r.seconds).toBeCloseTo(6 * 2 + 600 / 50_000, 6);
  });

  it("applies the export's include/exclude events and property filters, as its runs do", async () => {
    const d = (await h.ok(h.a.token, `mutation { createDestination(input: { name: "g", type: "example-ndjson", config: { directory: "/tmp" } }) { id } }`)).createDestination.id;
    const selections = [
      { includeEvents: ['$pageview', 'purchase', '$autocapture'], excludeEvents: ['purchase'], filters: [{ key: '$browser', operator: 'EXACT', value: 'Chrome' }] },
      { excludeEvents: ['$pageview'] },
      { filters: [{ key: 'amount', operator: 'GT', value: 900 }, { key: 'email', operator: 'ICONTAINS', value: 'USER-', type: 'PERSON' }] },
      { filters: [{ key: '$browser', operator: 'IS_NOT', value: ['Chrome', 'Safari'] }] },
    ];
    for (const selection of selections) {
      const id = (await h.ok(h.a.token, `mutation($input: CreateBatchExportInput!) { createBatchExport(input: $input) { id } }`, {
        input: { name: 'selective', destinationId: d, interval: 'HOUR', ...selection },
      })).createBatchExport.id;
      const r = (await h.ok(h.a.readToken, ESTIMATE, { id, s: new Date(start).toISOString(), e: new Date(end).toISOString() })).estimateBackfill;
      // What the export's runs read: the source with the export's stored selection, interval by interval.
      const stored = (await h.ok(h.a.readToken, `query($id: ID!) { batchExport(id: $id) { includeEvents excludeEvents filters { key operator value type } } }`, { id })).batchExport;
      let exported = 0;
      for (let t = start; t < end; t += HOUR) {
        exported += await ch.source.count({
          teamId: h.a.id,
          model: 'events',
          interval: { start: new Date(t), end: new Date(t + HOUR) },
          includeEvents: stored.includeEvents,
          excludeEvents: stored.excludeEvents,
          // The API's enum names; the source takes the stored values.
          filters: stored.filters.map((f: { type: string; operator: string }) => ({ ...f, type: f.type.toLowerCase(), operator: f.operator.toLowerCase() })),
        });
      }
      expect({ selection, rows: r.rows }).toEqual({ selection, rows: exported });
      expect(exported).toBeGreaterThan(0);
      expect(exported).toBeLessThan(600);
    }
  });

  it("calibrates the expected time on the export's own completed runs once it has 3", async () => {
    const id = (await h.ok(h.a.token, `mutation($input: CreateBatchExportInput!) { createBatchExport(input: $input) { id } }`, {
      input: { name: 'measured', destinationId: (await h.ok(h.a.token, `query { destinations(first: 1) { edges { node { id } } } }`)).destinations.edges[0].node.id, interval: 'HOUR' },
    })).createBatchExport.id;
    const q = `query($id: ID!, $s: DateTimeISO!, $e: DateTimeISO!) { estimateBackfill(batchExportId: $id, startAt: $s, endAt: $e) { runs rows seconds secondsPerRun rowsPerSecond calibrationRuns } }`;
    const vars = { id, s: new Date(start).toISOString(), e: new Date(end).toISOString() };
    const measured = [[1000, 2], [11_000, 7], [21_000, 12]];
    for (const [i, [rows, seconds]] of measured.entries()) {
      const [run] = await h.ds.query(
        `INSERT INTO runs (team_id, batch_export_id, interval_start, interval_end, status, attempt) VALUES ($1, $2, $3, $4, 'Completed', 1) RETURNING id`,
        [h.a.id, id, new Date(start - (i + 10) * HOUR), new Date(start - (i + 9) * HOUR)],
      );
      await h.ds.query(
        `INSERT INTO run_attempts (run_id, team_id, attempt, started_at, finished_at, status, records_read, records_completed)
         VALUES ($1, $2, 1, now() - make_interval(secs => $3), now(), 'Completed', $4, $4)`,
        [run.id, h.a.id, seconds, rows],
      );
      const r = (await h.ok(h.a.readToken, q, vars)).estimateBackfill;
      if (i < 2) expect(r).toMatchObject({ calibrationRuns: 0, secondsPerRun: 2, rowsPerSecond: 50_000 }); // too few runs: the defaults
      else {
        // Overhead: the shortest run (2 s); rate: 33,000 rows over the 15 s the runs spent beyond it.
        expect(r.calibrationRuns).toBe(3);
        expect(r.secondsPerRun).toBeCloseTo(2, 1);
        expect(r.rowsPerSecond).toBeCloseTo(2200, -1);
        expect(r.seconds).toBeCloseTo(6 * r.secondsPerRun + 600 / r.rowsPerSecond, 6);
      }
    }
  });

  it('stores the estimate with the backfill it creates', async () => {
    const b = (await h.ok(h.a.token, `mutation($id: ID!, $s: DateTimeISO!, $e: DateTimeISO!) { createBackfill(input: { batchExportId: $id, startAt: $s, endAt: $e }) { estimate { runs rows } } }`,
      { id: exportId, s: new Date(start).toISOString(), e: new Date(start + 2 * HOUR).toISOString() })).createBackfill;
    expect(b.estimate.runs).toBe(2);
    expect(b.estimate.rows).toBeGreaterThan(0);
    expect(b.estimate.rows).toBeLessThan(600);
  });
});
