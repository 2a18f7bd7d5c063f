/**
 * Layout POSTHOG for file destinations (issue 14 item 4), through a real run: PostHog's S3 events columns, the prefix
 * template filled from the interval end, PostHog's file names (ISO 8601 with +00:00) inside the export's own folder,
 * and a second run of the interval replacing, not adding, its file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateEvents, insertEvents } from '../../src/source';
import { startAppHarness, type AppHarness } from '../support/app-harness';

const START = new Date('2026-03-31T23:00:00Z');
const END = new Date('2026-04-01T00:00:00Z');
const filesRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'outport-posthog-files-'));
let h: AppHarness;
let events: ReturnType<typeof generateEvents>;

beforeAll(async () => {
  h = await startAppHarness({ env: { OUTPORT_LOCAL_FILES_ROOT: filesRoot } });
  events = generateEvents({ seed: 44, teamId: h.teamId, count: 50, start: START, stepMicros: 60_000_000 });
  await insertEvents(h.ch, { database: h.chDatabase }, events);
}, 120_000);
afterAll(async () => {
  await h?.stop();
  fs.rmSync(filesRoot, { recursive: true, force: true });
});

async function runInterval(exportId: string): Promise<void> {
  const { createBackfill } = await h.gql<{ createBackfill: { id: string } }>(
    `mutation($e: ID!, $s: DateTimeISO!, $t: DateTimeISO!) { createBackfill(input: { batchExportId: $e, startAt: $s, endAt: $t }) { id } }`,
    { e: exportId, s: START.toISOString(), t: END.toISOString() },
  );
  await h.waitFor('the run', async () => {
    const [r] = await h.app.dataSource.query(`SELECT status, latest_error FROM runs WHERE backfill_id = $1`, [createBackfill.id]);
    if (r?.status === 'Failed') throw new Error(r.latest_error);
    return r?.status === 'Completed';
  }, 90_000);
}

const walk = (dir: string): string[] =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)).map((k) => `${e.name}/${k}`) : [e.name]));

it('writes PostHog\'s S3 events columns under PostHog\'s key names, once per interval across a second run', async () => {
  const { createDestination } = await h.gql<{ createDestination: { id: string } }>(
    `mutation($c: JSONObject!) { createDestination(input: { name: "files", type: "local-files", config: $c }) { id } }`,
    { c: { path: 'bucket', prefix: 'posthog-events/{year}/{month}/{day}', compression: 'none' } },
  );
  const { createBatchExport } = await h.gql<{ createBatchExport: { id: string } }>(
    `mutation($d: ID!) { createBatchExport(input: { name: "files", destinationId: $d, model: EVENTS, interval: HOUR, layout: POSTHOG }) { id layout } }`,
    { d: createDestination.id },
  );
  const exportId = createBatchExport.id;
  await runInterval(exportId);
  await runInterval(exportId);

  const root = path.join(filesRoot, `team-${h.teamId}`, 'bucket');
  const stem = '2026-03-31T23:00:00+00:00-2026-04-01T00:00:00+00:00';
  // {day} is the interval end's day, as PostHog fills it.
  // Next to PostHog's file: Outport's manifest and attempt marker (src/sdk/files/run-writer.ts).
  expect(walk(root).sort()).toEqual(['.jsonl', '_attempt.json', '_manifest.json'].map((end) => `posthog-events/2026/04/01/export_id=${exportId}/${stem}${end}`));
  const lines = fs.readFileSync(path.join(root, `posthog-events/2026/04/01/export_id=${exportId}/${stem}.jsonl`), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  expect(lines.map((l) => l.uuid).sort()).toEqual([...new Set(events.map((e) => e.uuid))].sort());
  expect(Object.keys(lines[0])).toEqual(['uuid', 'timestamp', '_inserted_at', 'created_at', 'event', 'properties', 'distinct_id', 'elements_chain', 'person_properties', 'person_id', 'team_id']);
}, 240_000);
