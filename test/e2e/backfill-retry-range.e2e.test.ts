/**
 * Issue 16 in the dashboard: the backfill dialog's "From the first event" disables the start field, estimates and
 * starts a backfill whose start is the hour holding the team's first event (2024-01-10 00:01, seeded by the e2e
 * server); then "Retry failed runs in this range" in the runs view retries the failed runs the interval filter
 * selects, and only those.
 */
import path from 'node:path';
import type { Page } from 'playwright-core';
import { assertChromiumInstalled, launchBrowser, type TestBrowser } from '../support/browser';
import { EVENTS_DAY, EVENTS_PER_HOUR, startE2eServer, type E2eServer } from './e2e-server';

jest.setTimeout(180_000);

let server: E2eServer;
let browser: TestBrowser;
let page: Page;
let exportId: string;

beforeAll(async () => {
  assertChromiumInstalled();
  server = await startE2eServer();
  browser = await launchBrowser(server.origin);
  page = browser.page;
  page.setDefaultTimeout(45_000); // generous: CI runs the browser beside the rest of the suite on 2 cores
  await page.goto(`${server.origin}/signin`);
  await page.getByLabel('API token').fill(server.token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/exports$/);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

const api = <T = any>(query: string, variables: Record<string, unknown> = {}) => server.api<T>(query, variables);

it('"From the first event" disables the start, estimates from the first event and starts the backfill there', async () => {
  const { createDestination } = await api<{ createDestination: { id: string } }>(
    'mutation ($c: JSONObject!) { createDestination(input: { name: "Files", type: "local-files", config: $c }) { id } }',
    { c: { path: path.join(server.teamFiles, 'first-event'), file_format: 'JSONLines' } },
  );
  const { createBatchExport } = await api<{ createBatchExport: { id: string } }>(
    'mutation ($input: CreateBatchExportInput!) { createBatchExport(input: $input) { id } }',
    { input: { name: 'From the start', model: 'EVENTS', interval: 'HOUR', timezone: 'UTC', destinationId: createDestination.id } },
  );
  exportId = createBatchExport.id;
  await page.goto(`${server.origin}/exports/${createBatchExport.id}`);
  await page.getByRole('button', { name: 'Backfill…' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('From the first event').check();
  expect(await dialog.getByLabel('Start (UTC)').isDisabled()).toBe(true);
  await dialog.getByLabel('End (UTC)').fill(`${EVENTS_DAY}T03:00`);
  await dialog.locator('[data-estimate="runs"]', { hasText: '3 runs' }).waitFor();
  expect(await dialog.locator('[data-estimate="rows"]').textContent()).toBe(`≈ ${EVENTS_PER_HOUR.reduce((a, b) => a + b)}`);
  await dialog.getByRole('button', { name: 'Start backfill' }).click();
  await dialog.waitFor({ state: 'detached' });
  const { backfills } = await api<{ backfills: { edges: { node: { startAt: string; endAt: string } }[] } }>('query ($id: ID!) { backfills(batchExportId: $id) { edges { node { startAt endAt } } } }', { id: createBatchExport.id });
  expect(backfills.edges.map((e) => e.node)).toEqual([{ startAt: `${EVENTS_DAY}T00:00:00.000Z`, endAt: `${EVENTS_DAY}T03:00:00.000Z` }]);
});

type RunRow = { intervalStart: string; status: string; trigger: string };
const runsOf = async () => (await api<{ runs: { edges: { node: RunRow }[] } }>(
  'query ($id: ID!) { runs(batchExportId: $id, first: 50) { edges { node { intervalStart status trigger } } } }', { id: exportId },
)).runs.edges.map((e) => e.node).sort((a, b) => a.intervalStart.localeCompare(b.intervalStart));

async function waitForRuns(what: string, ok: (runs: RunRow[]) => boolean): Promise<RunRow[]> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const runs = await runsOf();
    if (ok(runs)) return runs;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(runs)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

it('"Retry failed runs in this range" retries the failed runs inside the interval filter, and only those', async () => {
  await waitForRuns('the backfill to complete', (runs) => runs.length === 3 && runs.every((r) => r.status === 'COMPLETED'));
  // All three hours failed (as a broken destination leaves them); the filter then selects the first two.
  await server.app.dataSource.query(`UPDATE runs SET status = 'Failed', latest_error = 'boom', finished_at = now() WHERE batch_export_id = $1`, [exportId]);
  await page.goto(`${server.origin}/exports/${exportId}`);
  await page.getByLabel('Intervals from (UTC)').fill(`${EVENTS_DAY}T00:00`);
  await page.getByLabel('Intervals until (UTC)').fill(`${EVENTS_DAY}T02:00`);
  await page.waitForFunction(() => document.querySelectorAll('tr[data-run]').length === 2);
  await page.getByRole('button', { name: 'Retry failed runs in this range' }).click();
  await page.getByText('2 failed runs queued again.').waitFor();
  const runs = await waitForRuns('the retried runs to complete', (rs) => rs.filter((r) => r.status === 'COMPLETED').length === 2);
  expect(runs.map((r) => [r.status, r.trigger])).toEqual([['COMPLETED', 'RETRY'], ['COMPLETED', 'RETRY'], ['FAILED', 'BACKFILL']]);
});
