/**
 * A long run watched in headless Chromium against the real server: while a 200,000-event run lands in Postgres,
 * the export page shows its rows growing without a reload, with a rate and an ETA, then the run completes.
 */
import { createClient } from '@clickhouse/client';
import type { Page } from 'playwright-core';
import { insertBulkEvents } from '../../src/source';
import { assertChromiumInstalled, launchBrowser, type TestBrowser } from '../support/browser';
import { createTestDatabase } from '../support/pg';
import { startE2eServer, type E2eServer } from './e2e-server';

jest.setTimeout(240_000);

let server: E2eServer;
let browser: TestBrowser;
let page: Page;

beforeAll(async () => {
  assertChromiumInstalled();
  server = await startE2eServer();
  browser = await launchBrowser(server.origin);
  page = browser.page;
  page.setDefaultTimeout(30_000);
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

const count = (text: string | null) => Number((text ?? '').replace(/[^\d]/g, '') || 0);

it('shows a long run landing: rows growing live, a rate and an ETA, then Completed', async () => {
  expect(server.teamId).toBe(1); // the bulk generator writes team 1, the first team of a fresh store
  const start = new Date('2024-02-01T00:00:00Z');
  const ch = createClient({ url: server.app.clickhouseUrl });
  try {
    await insertBulkEvents(ch, { database: server.chDatabase }, { seed: 11, count: 200_000, teams: 1, start, stepMicros: 17_000 });
  } finally {
    await ch.close();
  }
  const dest = await createTestDatabase('e2e_long', false);
  const u = new URL(dest.url);
  const { createDestination } = await api(`mutation($c: JSONObject!) { createDestination(input: { name: "warehouse", type: "postgres", config: $c }) { id } }`, {
    c: { host: u.hostname, port: Number(u.port), database: dest.name, user: decodeURIComponent(u.username), password: decodeURIComponent(u.password), ssl_mode: 'disable', table_name: 'long_run' },
  });
  const { createBatchExport } = await api(
    `mutation($d: ID!) { createBatchExport(input: { name: "Long run", destinationId: $d, model: EVENTS, interval: HOUR }) { id } }`,
    { d: createDestination.id },
  );
  await page.goto(`${server.origin}/exports/${createBatchExport.id}`);
  await page.getByRole('heading', { level: 1, name: /Long run/ }).waitFor();
  await api(`mutation($e: ID!, $s: DateTimeISO!, $t: DateTimeISO!) { createBackfill(input: { batchExportId: $e, startAt: $s, endAt: $t }) { id } }`, {
    e: createBatchExport.id,
    s: start.toISOString(),
    t: new Date(start.getTime() + 3_600_000).toISOString(),
  });

  // The table is redrawn on every update: read through locators, which find the current row each time.
  const running = page.locator('tr[data-status="RUNNING"]').first();
  const rowsRead = async () => count(((await running.locator('td[data-label="Rows"]').textContent({ timeout: 2_000 }).catch(() => '')) ?? '').split(' of ')[0]);
  const until = async (what: string, ok: () => Promise<boolean>, ms = 60_000) => {
    const deadline = Date.now() + ms;
    while (!(await ok())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 150));
    }
  };
  await running.waitFor();
  let first = 0;
  await until('rows read to show on the running run', async () => (first = await rowsRead()) > 0);
  await until('rows read to grow without a reload', async () => (await rowsRead()) > first);
  await until('a rate and an ETA', async () => /rows\/s/.test((await running.locator('[data-rate]').textContent({ timeout: 2_000 }).catch(() => '')) ?? '') &&
    /ETA/.test((await running.locator('[data-rate]').textContent({ timeout: 2_000 }).catch(() => '')) ?? ''));

  const done = page.locator('tr[data-status="COMPLETED"]').first();
  await done.waitFor({ timeout: 180_000 });
  const { runs } = await api(`query($e: ID!) { runs(batchExportId: $e, first: 5) { edges { node { status recordsCompleted } } } }`, { e: createBatchExport.id });
  expect(runs.edges[0].node).toMatchObject({ status: 'COMPLETED' });
  expect(runs.edges[0].node.recordsCompleted).toBeGreaterThan(150_000);
  expect(count(await done.locator('td[data-label="Rows"]').textContent())).toBe(runs.edges[0].node.recordsCompleted);
});
