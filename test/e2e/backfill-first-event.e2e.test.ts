/**
 * Issue 16.4 in the dashboard: the backfill dialog's "From the first event" disables the start field, estimates
 * and starts a backfill whose start is the hour holding the team's first event (2024-01-10 00:01, seeded by the
 * e2e server).
 */
import path from 'node:path';
import type { Page } from 'playwright-core';
import { assertChromiumInstalled, launchBrowser, type TestBrowser } from '../support/browser';
import { EVENTS_DAY, EVENTS_PER_HOUR, startE2eServer, type E2eServer } from './e2e-server';

jest.setTimeout(180_000);

let server: E2eServer;
let browser: TestBrowser;
let page: Page;

beforeAll(async () => {
  assertChromiumInstalled();
  server = await startE2eServer();
  browser = await launchBrowser(server.origin);
  page = browser.page;
  page.setDefaultTimeout(20_000);
  await page.goto(`${server.origin}/signin`);
  await page.getByLabel('API token').fill(server.token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/exports$/);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

async function api<T = any>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await fetch(`${server.origin}/graphql`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${server.token}` }, body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: { message: string }[] };
  if (body.errors?.length) throw new Error(body.errors[0].message);
  return body.data as T;
}

it('"From the first event" disables the start, estimates from the first event and starts the backfill there', async () => {
  const { createDestination } = await api<{ createDestination: { id: string } }>(
    'mutation ($c: JSONObject!) { createDestination(name: "Files", type: "local-files", config: $c) { id } }',
    { c: { path: path.join(server.teamFiles, 'first-event'), file_format: 'JSONLines' } },
  );
  const { createBatchExport } = await api<{ createBatchExport: { id: string } }>(
    'mutation ($input: CreateBatchExportInput!) { createBatchExport(input: $input) { id } }',
    { input: { name: 'From the start', model: 'EVENTS', interval: 'HOUR', timezone: 'UTC', destinationId: createDestination.id } },
  );
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
  const { backfills } = await api<{ backfills: { startAt: string; endAt: string }[] }>('query ($id: ID!) { backfills(batchExportId: $id) { startAt endAt } }', { id: createBatchExport.id });
  expect(backfills).toEqual([{ startAt: `${EVENTS_DAY}T00:00:00.000Z`, endAt: `${EVENTS_DAY}T03:00:00.000Z` }]);
});
