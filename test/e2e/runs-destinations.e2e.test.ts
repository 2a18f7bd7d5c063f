/**
 * The dashboard in headless Chromium against the real server: a Postgres destination tested step by step before
 * it is saved (and on an edit, with its stored password), a run's attempt history after it failed on a wrong
 * password and was retried once the password was fixed, and a backfill entered in the export's own time zone
 * (Europe/Paris) reaching the API as the right UTC range.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { assertChromiumInstalled, launchBrowser, type TestBrowser } from '../support/browser';
import { createTestDatabase } from '../support/pg';
import { EVENTS_PER_HOUR, startE2eServer, type E2eServer } from './e2e-server';

const SHOTS = path.join(__dirname, 'screenshots');
const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

jest.setTimeout(180_000);

let server: E2eServer;
let browser: TestBrowser;
let page: Page;
/** The suite's Postgres as a destination server: an empty database on it. */
let pg: { host: string; port: number; database: string; user: string; password: string };

beforeAll(async () => {
  assertChromiumInstalled();
  fs.mkdirSync(SHOTS, { recursive: true });
  const dest = await createTestDatabase('e2e_dest', false);
  const u = new URL(dest.url);
  pg = { host: u.hostname, port: Number(u.port || 5432), database: dest.name, user: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
  server = await startE2eServer();
  browser = await launchBrowser(server.origin);
  page = browser.page;
  page.setDefaultTimeout(45_000); // generous: CI runs the browser beside the rest of the suite on 2 cores
  page.on('pageerror', (e) => console.error('page error:', e));
  await page.goto(`${server.origin}/signin`);
  await page.getByLabel('API token').fill(server.token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/exports$/);
});

afterEach(async () => {
  // On a failure, what the page said: its error notices.
  const errors = await page.locator('.notice-error:not([hidden]), .field-error:not(:empty), .test-result.bad').allTextContents().catch(() => []);
  if (errors.length) console.error('errors shown on the page:', errors);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

const api = <T = any>(query: string, variables: Record<string, unknown> = {}) => server.api<T>(query, variables);

/** A field by its label's text, required marker ("Host *") or not. */
const fieldOf = (label: string) => page.locator('.field').filter({ has: page.locator('label', { hasText: new RegExp(`^${label}( \\*)?$`) }) });

/** The steps a test result shows: [name, ok, message]. */
const stepsShown = () => page.locator('.test-step').evaluateAll((els) => els.map((e) => [
  e.getAttribute('data-step'), e.getAttribute('data-ok') === 'true', e.querySelector('.step-message')!.textContent,
  e.querySelector('.mark')!.textContent,
]));

async function fillPostgresForm(name: string, password: string): Promise<void> {
  await page.goto(`${server.origin}/destinations/new`);
  await page.getByLabel('Type').selectOption('postgres');
  await page.locator('input[name="name"]').fill(name);
  await page.getByLabel('Host').fill(pg.host);
  await page.getByLabel('Port', { exact: true }).fill(String(pg.port));
  await page.getByLabel('Database').fill(pg.database);
  await page.getByLabel('User').fill(pg.user);
  await page.getByLabel('Password (secret)').fill(password);
  await page.getByLabel('SSL mode').selectOption('disable');
}

it('tests a Postgres destination before saving: every step ✓ when right, AUTHENTICATE ✗ with its message on a wrong password; an edit tests with the stored password', async () => {
  await fillPostgresForm('Warehouse', 'wrong-password');
  await page.getByRole('button', { name: 'Test connection before saving' }).click();
  await page.locator('.test-step[data-ok="false"]').waitFor();
  const bad = await stepsShown();
  // The failing step is the last one shown, after a successful connect; nothing after it ran.
  expect(bad[0].slice(0, 2)).toEqual(['CONNECT', true]);
  expect(bad[bad.length - 1][0]).toBe('AUTHENTICATE');
  expect(bad[bad.length - 1][1]).toBe(false);
  expect(bad[bad.length - 1][3]).toBe('✗');
  expect(bad[bad.length - 1][2]).toMatch(/password/i);
  expect(bad[bad.length - 1][2]).not.toContain('wrong-password');
  // Nothing was saved by the test.
  expect((await api<{ destinations: { edges: unknown[] } }>('query { destinations { edges { node { id } } } }')).destinations.edges).toHaveLength(0);

  await page.getByLabel('Password (secret)').fill(pg.password);
  await page.getByRole('button', { name: 'Test connection before saving' }).click();
  await page.locator('.test-summary', { hasText: 'Connection OK' }).waitFor();
  const good = await stepsShown();
  expect(good.map((s) => s[0])).toEqual(['CONNECT', 'AUTHENTICATE', 'PERMISSIONS', 'WRITE_PROBE']);
  for (const s of good) {
    expect(s[1]).toBe(true);
    expect(s[3]).toBe('✓');
    expect(s[2]).not.toBe('');
  }
  await shot(page, 'destination-test-steps');

  // Saved, then edited: the password field is empty (kept), and the test uses the stored one.
  await page.getByRole('button', { name: 'Create destination' }).click();
  await page.getByText('Destination created').waitFor();
  expect(await page.getByLabel('Password (secret)').inputValue()).toBe('');
  await page.getByRole('button', { name: 'Test connection of Warehouse' }).click();
  await page.locator('.test-summary', { hasText: 'Connection OK' }).waitFor();
  // An unsaved change is what gets tested: a wrong user fails AUTHENTICATE, and nothing is stored.
  await page.getByLabel('User').fill('nobody_here');
  await page.getByRole('button', { name: 'Test connection of Warehouse' }).click();
  await page.locator('.test-step[data-step="AUTHENTICATE"][data-ok="false"]').waitFor();
  const { destinations } = await api<{ destinations: { edges: { node: { config: { user: string } } }[] } }>('query { destinations { edges { node { config } } } }');
  expect(destinations.edges[0].node.config.user).toBe(pg.user);

  // The list's test shows the steps too.
  await page.goto(`${server.origin}/destinations`);
  await page.getByRole('button', { name: 'Test connection of Warehouse' }).click();
  await page.locator('[data-destination="Warehouse"] .test-step[data-step="WRITE_PROBE"][data-ok="true"]').waitFor();
  expect(await page.locator('[data-destination="Warehouse"] .test-step').count()).toBe(4);
});

it('an empty required setting is shown under its field instead of testing', async () => {
  await page.goto(`${server.origin}/destinations/new`);
  await page.getByLabel('Type').selectOption('postgres');
  await page.getByRole('button', { name: 'Test connection before saving' }).click();
  await fieldOf('Host').locator('.field-error', { hasText: 'Host is required' }).waitFor();
  expect(await page.locator('.test-step').count()).toBe(0);
});

async function createPostgresExport(name: string, destinationId: string, timezone: string): Promise<string> {
  const { createBatchExport } = await api<{ createBatchExport: { id: string } }>(
    'mutation ($input: CreateBatchExportInput!) { createBatchExport(input: $input) { id } }',
    { input: { name, model: 'EVENTS', interval: 'HOUR', timezone, destinationId } },
  );
  return createBatchExport.id;
}

it('a run that failed on a wrong password and was retried after the fix shows its attempt history, its duration the last attempt\'s', async () => {
  const { createDestination } = await api<{ createDestination: { id: string } }>(
    'mutation ($config: JSONObject!) { createDestination(input: { name: "Broken warehouse", type: "postgres", config: $config }) { id } }',
    { config: { ...pg, password: 'wrong-password', ssl_mode: 'disable', table_name: 'retried_events' } },
  );
  const exportId = await createPostgresExport('Retried export', createDestination.id, 'UTC');
  await api('mutation ($id: ID!) { createBackfill(input: { batchExportId: $id, startAt: "2024-01-10T00:00:00Z", endAt: "2024-01-10T01:00:00Z" }) { id } }', { id: exportId });
  await page.goto(`${server.origin}/exports/${exportId}`);
  await page.locator('tr[data-run][data-status="FAILED"]').waitFor({ timeout: 60_000 });

  await api('mutation ($id: ID!, $config: JSONObject!) { updateDestination(input: { id: $id, config: $config }) { id } }', { id: createDestination.id, config: { password: pg.password } });
  await page.getByRole('button', { name: /^Retry run/ }).click();
  const done = page.locator('tr[data-run][data-status="COMPLETED"]');
  await done.locator('td[data-label="Rows"]', { hasText: String(EVENTS_PER_HOUR[0]) }).waitFor({ timeout: 60_000 });

  const { runs } = await api<{ runs: { edges: { node: { startedAt: string; attemptStartedAt: string; finishedAt: string; durationSeconds: number; attempts: { number: number; status: string; startedAt: string }[] } }[] } }>(
    'query ($id: ID!) { runs(batchExportId: $id) { edges { node { startedAt attemptStartedAt finishedAt durationSeconds attempts { number status startedAt } } } } }', { id: exportId },
  );
  const run = runs.edges[0].node;
  expect(run.attempts.length).toBeGreaterThanOrEqual(2);
  expect(run.attemptStartedAt).not.toBe(run.startedAt);

  await page.getByRole('button', { name: /^Attempts of run/ }).click();
  const history = page.getByRole('table', { name: /^Attempts of run/ });
  await history.waitFor();
  const rows = await history.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => Object.fromEntries(
    [...tr.querySelectorAll('td')].map((td) => [td.getAttribute('data-label'), td.textContent!.trim()]),
  )));
  expect(rows).toHaveLength(run.attempts.length);
  // Oldest first: failed attempts with the authentication error, then the retry that completed.
  for (const failed of rows.slice(0, -1)) {
    expect(failed.Outcome).toMatch(/^(Failed|Failed, retried)$/);
    expect(failed.Error).toMatch(/password/i);
    expect(failed.Worker).not.toBe('—');
    expect(failed.Ended).not.toBe('still running');
    expect(failed.Duration).not.toBe('—');
  }
  const last = rows[rows.length - 1];
  expect(last.Outcome).toBe('Completed');
  expect(last.Attempt).toBe('#1'); // a user's retry counts from 1 again
  expect(last.Rows).toBe(`${EVENTS_PER_HOUR[0]} read · ${EVENTS_PER_HOUR[0]} landed`);
  expect(last.Bytes).not.toBe('0 B');
  expect(last.Error).toBe('—');
  // The run's duration is its current attempt's, not the time since its first attempt started.
  const shownDuration = await done.locator('td[data-label="Duration"]').textContent();
  const expected = (Date.parse(run.finishedAt) - Date.parse(run.attemptStartedAt)) / 1000;
  expect(run.durationSeconds).toBeCloseTo(expected, 2);
  expect(run.durationSeconds).toBeLessThan((Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 1000);
  expect(shownDuration).toContain(expected < 1 ? `${Math.round(expected * 1000)} ms` : `${expected.toFixed(1)} s`);
  // The history stays open while the page re-renders on live updates, and closes on a second click.
  await page.getByRole('button', { name: /^Attempts of run/ }).click();
  await history.waitFor({ state: 'detached' });
  await page.getByRole('button', { name: /^Attempts of run/ }).click();
  await history.waitFor();
  await shot(page, 'run-attempts');
});

it('the backfill dialog takes dates in the export\'s time zone (Europe/Paris), shows the UTC range, labels the estimate and sends the right UTC range', async () => {
  const { createDestination } = await api<{ createDestination: { id: string } }>(
    'mutation ($config: JSONObject!) { createDestination(input: { name: "Paris warehouse", type: "postgres", config: $config }) { id } }',
    { config: { ...pg, ssl_mode: 'disable', table_name: 'paris_events' } },
  );
  const exportId = await createPostgresExport('Paris export', createDestination.id, 'Europe/Paris');
  await page.goto(`${server.origin}/exports/${exportId}`);
  await page.getByRole('button', { name: 'Backfill…' }).click();
  const dialog = page.getByRole('dialog');
  // 01:00-04:00 in Paris (CET, UTC+1) is 00:00-03:00 UTC: the three seeded hours.
  await dialog.getByLabel('Start (Europe/Paris)').fill('2024-01-10T01:00');
  await dialog.getByLabel('End (Europe/Paris)').fill('2024-01-10T04:00');
  await dialog.locator('[data-utc-range]', { hasText: 'In UTC: 2024-01-10 00:00:00 UTC – 2024-01-10 03:00:00 UTC' }).waitFor();
  await dialog.locator('[data-estimate="runs"]', { hasText: '3 runs' }).waitFor();
  const total = EVENTS_PER_HOUR.reduce((a, b) => a + b);
  expect(await dialog.locator('[data-estimate="rows"]').textContent()).toBe(`≈ ${total}`);
  const labels = await dialog.locator('.estimate-grid dt').allTextContents();
  expect(labels).toEqual(['Runs', 'Source rows', 'Approx. source bytes (uncompressed)', 'Expected time']);
  expect(await dialog.locator('[data-estimate="bytes"]').textContent()).toMatch(/^≈ \d/);
  // No completed runs yet: the default rates, said so.
  expect(await dialog.locator('[data-estimate="calibration"]').textContent()).toMatch(/default rates/);
  await shot(page, 'backfill-dialog-zone');

  // One hour gives one run: "1 run", not "1 runs".
  await dialog.getByLabel('End (Europe/Paris)').fill('2024-01-10T02:00');
  await dialog.locator('[data-estimate="runs"]', { hasText: /^1 run$/ }).waitFor();
  await dialog.getByLabel('End (Europe/Paris)').fill('2024-01-10T04:00');
  await dialog.locator('[data-estimate="runs"]', { hasText: '3 runs' }).waitFor();
  await dialog.getByRole('button', { name: 'Start backfill' }).click();
  await dialog.waitFor({ state: 'detached' });
  await page.getByText('Backfill started: 3 runs queued.').waitFor();

  const { backfills } = await api<{ backfills: { edges: { node: { startAt: string; endAt: string } }[] } }>('query ($id: ID!) { backfills(batchExportId: $id) { edges { node { startAt endAt } } } }', { id: exportId });
  expect(backfills.edges.map((e) => e.node)).toEqual([{ startAt: '2024-01-10T00:00:00.000Z', endAt: '2024-01-10T03:00:00.000Z' }]);
  await page.waitForFunction(() => document.querySelectorAll('tr[data-run][data-status="COMPLETED"]').length === 3, null, { timeout: 60_000 });

  // With completed runs, the next estimate is calibrated on them and says on how many.
  await page.getByRole('button', { name: 'Backfill…' }).click();
  await dialog.getByLabel('Start (Europe/Paris)').fill('2024-01-10T01:00');
  await dialog.getByLabel('End (Europe/Paris)').fill('2024-01-10T04:00');
  await dialog.locator('[data-estimate="calibration"]', { hasText: /calibrated on \d+ recent runs? of this export/ }).waitFor();
  // Summer time: 2024-07-10 02:00 in Paris (CEST, UTC+2) is 00:00 UTC.
  await dialog.getByLabel('Start (Europe/Paris)').fill('2024-07-10T02:00');
  await dialog.getByLabel('End (Europe/Paris)').fill('2024-07-10T03:00');
  await dialog.locator('[data-utc-range]', { hasText: 'In UTC: 2024-07-10 00:00:00 UTC – 2024-07-10 01:00:00 UTC' }).waitFor();
  // The autumn change: 02:30 happens twice in Paris, the first (summer time, 00:30 UTC) is meant; 02:30 on the
  // spring change does not exist and reads as 03:30 summer time (01:30 UTC).
  await dialog.getByLabel('Start (Europe/Paris)').fill('2024-10-27T02:30');
  await dialog.getByLabel('End (Europe/Paris)').fill('2024-10-27T03:30');
  await dialog.locator('[data-utc-range]', { hasText: 'In UTC: 2024-10-27 00:30:00 UTC – 2024-10-27 02:30:00 UTC' }).waitFor();
  await dialog.getByLabel('Start (Europe/Paris)').fill('2024-03-31T02:30');
  await dialog.getByLabel('End (Europe/Paris)').fill('2024-03-31T04:00');
  await dialog.locator('[data-utc-range]', { hasText: 'In UTC: 2024-03-31 01:30:00 UTC – 2024-03-31 02:00:00 UTC' }).waitFor();
  await dialog.getByRole('button', { name: 'Cancel' }).click();
});

it('a run that changed while the page\'s live connection was still opening is shown once it opens (no reload)', async () => {
  const { createDestination } = await api<{ createDestination: { id: string } }>(
    'mutation ($config: JSONObject!) { createDestination(input: { name: "Late socket", type: "postgres", config: $config }) { id } }',
    { config: { ...pg, password: 'wrong-password', ssl_mode: 'disable', table_name: 'late_events' } },
  );
  const exportId = await createPostgresExport('Late socket export', createDestination.id, 'UTC');
  // A page whose WebSocket reaches the server only when released: its data is read, its subscription not yet live.
  const late = await page.context().newPage();
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  await late.routeWebSocket(/\/graphql/, (ws) => {
    const upstream = ws.connectToServer();
    ws.onMessage((m) => void released.then(() => upstream.send(m)));
    upstream.onMessage((m) => ws.send(m));
  });
  try {
    await late.goto(`${server.origin}/exports/${exportId}`);
    await late.getByText('No runs yet.', { exact: false }).waitFor();
    await api('mutation ($id: ID!) { createBackfill(input: { batchExportId: $id, startAt: "2024-01-10T00:00:00Z", endAt: "2024-01-10T01:00:00Z" }) { id } }', { id: exportId });
    for (let i = 0; ; i++) {
      const { runs } = await api<{ runs: { edges: { node: { status: string } }[] } }>('query ($id: ID!) { runs(batchExportId: $id) { edges { node { status } } } }', { id: exportId });
      if (runs.edges[0]?.node.status === 'FAILED') break;
      if (i > 300) throw new Error('the run did not fail within 30 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await late.locator('tr[data-run]').count()).toBe(0);
    release();
    await late.locator('tr[data-run][data-status="FAILED"]').waitFor({ timeout: 10_000 });
  } finally {
    await late.close();
  }
});
