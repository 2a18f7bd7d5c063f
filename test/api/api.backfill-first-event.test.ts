/**
 * Issue 16.4: a backfill "from the first event": createBackfill / estimateBackfill with fromFirstEvent start at the
 * team's earliest data of the export's model in ClickHouse (by insertion time, the rule runs use), aligned down to
 * the export's interval boundary in its time zone.
 */
import { generateEvents, generatePersons, insertEvents, insertPersons } from '../../src/source';
import { startApiHarness, type ApiHarness } from '../support/api';
import { createTestClickHouse } from '../source/support/clickhouse';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
let h: ApiHarness;
let ch: Awaited<ReturnType<typeof createTestClickHouse>>;
let destinationId: string;
const end = Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR;
// Team A's first event is 30 s after 37:25 past an hour, 3 days back; inserted 30 s later (the generator's delay).
const firstEventAt = end - 3 * DAY + 37 * 60_000 + 25_000;
let firstInsertedAt: number;
const firstPersonAt = end - 5 * DAY + 11 * 60_000;

beforeAll(async () => {
  ch = await createTestClickHouse('api_first_event');
  h = await startApiHarness({ source: ch.source });
  const events = generateEvents({ seed: 3, count: 200, teamId: h.a.id, start: new Date(firstEventAt), stepMicros: 600_000_000 });
  firstInsertedAt = Math.min(...events.map((e) => Date.parse(e.inserted_at ?? e._timestamp)));
  await insertEvents(ch.client, { database: ch.database }, events);
  // Team B's data is older: it must not move team A's start.
  await insertEvents(ch.client, { database: ch.database }, generateEvents({ seed: 4, count: 10, teamId: h.b.id, start: new Date(end - 9 * DAY) }));
  await insertPersons(ch.client, { database: ch.database }, generatePersons({ seed: 5, teamId: h.a.id, persons: 20, start: new Date(firstPersonAt) }));
  destinationId = (await h.ok(h.a.token, `mutation { createDestination(input: { name: "f", type: "example-ndjson", config: { directory: "/tmp" } }) { id } }`)).createDestination.id;
}, 180_000);
afterAll(async () => {
  await h?.stop();
  await ch?.drop();
});

async function exportOf(token: string, input: Record<string, unknown>, destination = destinationId): Promise<string> {
  return (await h.ok(token, `mutation($input: CreateBatchExportInput!) { createBatchExport(input: $input) { id } }`, {
    input: { name: 'e', destinationId: destination, ...input },
  })).createBatchExport.id;
}

const CREATE = `mutation($id: ID!, $e: DateTimeISO!, $s: DateTimeISO, $f: Boolean) {
  createBackfill(input: { batchExportId: $id, startAt: $s, endAt: $e, fromFirstEvent: $f }) { id startAt endAt progress { totalRuns } }
}`;
const ESTIMATE = `query($id: ID!, $e: DateTimeISO!, $s: DateTimeISO, $f: Boolean) {
  estimateBackfill(batchExportId: $id, startAt: $s, endAt: $e, fromFirstEvent: $f) { runs rows }
}`;

/** A backfill from the first event, cancelled once read (the team may run only 2 at once). */
async function backfillFromFirstEvent(id: string) {
  const b = (await h.ok(h.a.token, CREATE, { id, e: new Date(end).toISOString(), f: true })).createBackfill;
  await h.ok(h.a.token, `mutation($id: ID!) { cancelBackfill(id: $id) { id } }`, { id: b.id });
  return b;
}

describe('fromFirstEvent', () => {
  it("starts an hourly events backfill at the hour holding the team's first inserted event", async () => {
    expect(firstInsertedAt).toBeGreaterThan(firstEventAt); // the rule is insertion time, not the event's timestamp
    const id = await exportOf(h.a.token, { interval: 'HOUR' });
    const hour = Math.floor(firstInsertedAt / HOUR) * HOUR;
    const estimate = (await h.ok(h.a.readToken, ESTIMATE, { id, e: new Date(end).toISOString(), f: true })).estimateBackfill;
    expect(estimate).toEqual({ runs: (end - hour) / HOUR, rows: 200 });
    const b = await backfillFromFirstEvent(id);
    expect(b.startAt).toBe(new Date(hour).toISOString());
    expect(b.progress.totalRuns).toBe((end - hour) / HOUR);
  });

  it("aligns down to the export's own interval boundary: midnight in the export's time zone for a daily export", async () => {
    const id = await exportOf(h.a.token, { interval: 'DAY', timezone: 'Asia/Kolkata' });
    const b = await backfillFromFirstEvent(id);
    // Kolkata is UTC+05:30 all year: its midnight is 18:30 UTC.
    const offset = 5.5 * HOUR;
    const expected = Math.floor((firstInsertedAt + offset) / DAY) * DAY - offset;
    expect(b.startAt).toBe(new Date(expected).toISOString());
  });

  it("takes a persons export's start from the team's first distinct-id change", async () => {
    const id = await exportOf(h.a.token, { interval: 'HOUR', model: 'PERSONS' });
    const b = await backfillFromFirstEvent(id);
    expect(b.startAt).toBe(new Date(Math.floor(firstPersonAt / HOUR) * HOUR).toISOString());
  });

  it('refuses, naming fromFirstEvent, when the team has no data of the model', async () => {
    const dest = (await h.ok(h.b.token, `mutation { createDestination(input: { name: "f", type: "example-ndjson", config: { directory: "/tmp" } }) { id } }`)).createDestination.id;
    const id = await exportOf(h.b.token, { interval: 'HOUR', model: 'PERSONS' }, dest);
    // createBackfill takes its arguments in input; estimateBackfill (a query) directly.
    for (const [token, q, field] of [[h.b.token, CREATE, 'input.fromFirstEvent'], [h.b.readToken, ESTIMATE, 'fromFirstEvent']]) {
      const r = await h.gql(token, q, { id, e: new Date(end).toISOString(), f: true });
      expect(r.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect(r.errors?.[0].extensions?.field).toBe(field);
      expect(r.errors?.[0].message).toMatch(/no persons data/);
    }
  });

  it('refuses a start given together with fromFirstEvent, and no start without it', async () => {
    const id = await exportOf(h.a.token, { interval: 'HOUR' });
    const both = await h.gql(h.a.token, CREATE, { id, s: new Date(end - HOUR).toISOString(), e: new Date(end).toISOString(), f: true });
    expect(both.errors?.[0].extensions?.field).toBe('input.fromFirstEvent');
    const neither = await h.gql(h.a.token, CREATE, { id, e: new Date(end).toISOString() });
    expect(neither.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(neither.errors?.[0].extensions?.field).toBe('input.startAt');
  });
});
