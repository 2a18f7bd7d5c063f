/**
 * The dashboard end to end, in a real headless Chromium against the real server (api + scheduler + worker):
 * sign in, create destinations and exports through the forms, backfill after reading the estimate, watch runs go
 * from Starting to Completed without a reload, retry a failed run after fixing its destination, read its logs.
 * Screenshots of the main pages land in test/e2e/screenshots/.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { assertChromiumInstalled, launchBrowser, type TestBrowser } from '../support/browser';
import { EVENTS_PER_HOUR, manifestsUnder, startE2eServer, type E2eServer } from './e2e-server';

const SHOTS = path.join(__dirname, 'screenshots');
const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

jest.setTimeout(180_000);

let server: E2eServer;
let browser: TestBrowser;
let page: Page;

beforeAll(async () => {
  assertChromiumInstalled(); // fail fast, before starting the server
  fs.mkdirSync(SHOTS, { recursive: true });
  server = await startE2eServer();
  browser = await launchBrowser(server.origin);
  page = browser.page;
  page.setDefaultTimeout(20_000);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

/** Records every status each run row showed, so "went from Starting to Completed" is observed, not assumed. */
async function recordRunStatuses(p: Page): Promise<void> {
  await p.evaluate(() => {
    const seen: Record<string, string[]> = ((window as any).__runStatuses = {});
    const note = (el: Element) => {
      const id = el.getAttribute('data-run');
      const status = el.getAttribute('data-status');
      if (!id || !status) return;
      const list = (seen[id] ??= []);
      if (list[list.length - 1] !== status) list.push(status);
    };
    document.querySelectorAll('tr[data-run]').forEach(note);
    new MutationObserver((records) => {
      for (const r of records) r.addedNodes.forEach((n) => n instanceof Element && (n.matches('tr[data-run]') ? note(n) : n.querySelectorAll('tr[data-run]').forEach(note)));
    }).observe(document.body, { childList: true, subtree: true });
  });
}

const nav = (name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name });

const runStatuses = (p: Page) => p.evaluate(() => (window as any).__runStatuses as Record<string, string[]>);

async function createLocalFilesDestination(name: string, dir: string): Promise<void> {
  await nav('Destinations').click();
  await page.getByRole('link', { name: 'New destination' }).click();
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Type').selectOption('local-files');
  await page.getByLabel('Path').fill(dir);
  await page.getByLabel('Compression').selectOption('none');
  await page.getByRole('button', { name: 'Create destination' }).click();
  await page.getByText('Destination created').waitFor();
}

async function createExport(name: string, destination: string): Promise<void> {
  await nav('Exports').click();
  await page.getByRole('link', { name: 'New export' }).click();
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Model').selectOption('EVENTS');
  await page.getByLabel('Interval').selectOption('HOUR');
  await page.getByLabel('Time zone').fill('UTC');
  await page.getByLabel('Destination').selectOption({ label: `${destination} (local-files)` });
  await page.getByRole('button', { name: 'Create export' }).click();
  await page.getByRole('heading', { level: 1, name: new RegExp(name) }).waitFor();
}

async function backfill(start: string, end: string, expectedRuns: number, screenshot?: string, expectedRows?: number): Promise<void> {
  await page.getByRole('button', { name: 'Backfill…' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Start (UTC)').fill(start);
  await dialog.getByLabel('End (UTC)').fill(end);
  // The estimate for exactly these values is shown before the backfill can start.
  await dialog.locator('[data-estimate="runs"]', { hasText: String(expectedRuns) }).waitFor();
  if (expectedRows !== undefined) expect(await dialog.locator('[data-estimate="rows"]').textContent()).toBe(`≈ ${expectedRows}`);
  expect(await dialog.getByRole('button', { name: 'Start backfill' }).isEnabled()).toBe(true);
  if (screenshot) await shot(page, screenshot);
  await dialog.getByRole('button', { name: 'Start backfill' }).click();
  await dialog.waitFor({ state: 'detached' });
}

it('signs in, creates a destination and an export, backfills and watches runs complete live, retries a failed run and reads its logs', async () => {
  // Absolute paths inside the team's folder (OUTPORT_LOCAL_FILES_ROOT/team-<id>); anything outside it is refused.
  const good = path.join(server.teamFiles, 'exports');
  const blocker = path.join(server.teamFiles, 'not-a-directory');
  fs.writeFileSync(blocker, 'a file where the destination expects a directory');
  const broken = path.join(blocker, 'exports');
  const fixed = path.join(server.teamFiles, 'fixed');

  // ---- sign in (a wrong token is refused with the server's message) ----
  await page.goto(server.origin + '/');
  await page.waitForURL(/\/signin/);
  await page.getByLabel('API token').fill('op_not_a_real_token');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').waitFor();
  await shot(page, 'signin');
  await page.getByLabel('API token').fill(server.token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/exports$/);
  expect(await page.evaluate(() => sessionStorage.getItem('outport.token'))).toBe(server.token);

  // ---- destinations: one good, one whose path is under a regular file ----
  await createLocalFilesDestination('Local files', good);
  await page.getByRole('button', { name: 'Test connection of Local files' }).click();
  await page.getByText('Connection OK').waitFor();
  await shot(page, 'destination-form');
  await createLocalFilesDestination('Broken files', broken);
  await page.getByRole('button', { name: 'Test connection of Broken files' }).click();
  await page.getByText(/^Failed \(config\)/).waitFor();

  // Secret fields render as password inputs (postgres: password).
  await nav('Destinations').click();
  await page.getByRole('link', { name: 'New destination' }).click();
  await page.getByLabel('Type').selectOption('postgres');
  expect(await page.getByLabel('Password (secret)').getAttribute('type')).toBe('password');

  // ---- an export, backfilled over three known hours ----
  await createExport('Events hourly', 'Local files');
  expect(await page.evaluate(() => ((window as any).__sameDocument = true))).toBe(true);
  await recordRunStatuses(page);
  await backfill('2024-01-10T00:00', '2024-01-10T03:00', 3, 'backfill-dialog', EVENTS_PER_HOUR.reduce((a, b) => a + b));

  await page.waitForFunction(() => document.querySelectorAll('tr[data-run][data-status="COMPLETED"]').length === 3, null, { timeout: 60_000 });
  const statuses = await runStatuses(page);
  const runIds = Object.keys(statuses);
  expect(runIds).toHaveLength(3);
  for (const id of runIds) {
    expect(statuses[id][0]).toBe('STARTING');
    expect(statuses[id][statuses[id].length - 1]).toBe('COMPLETED');
  }
  expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true); // no reload happened
  // Rows per run (newest first) and the backfill's progress, as pushed over the subscriptions.
  const rows = await page.locator('tr[data-run] td[data-label="Rows"]').allTextContents();
  expect(rows.map(Number)).toEqual([...EVENTS_PER_HOUR].reverse());
  await page.locator('.backfill', { hasText: '3/3 runs' }).waitFor();
  await page.locator('.backfill', { hasText: '23 rows' }).waitFor();
  expect(await page.locator('.chart rect.bar').count()).toBe(3);
  expect(manifestsUnder(good).map((m) => m.rows).sort((a, b) => a - b)).toEqual([...EVENTS_PER_HOUR].sort((a, b) => a - b));
  await shot(page, 'export-runs');

  // Phone width: the runs table becomes cards, nothing overflows sideways.
  await page.setViewportSize({ width: 390, height: 844 });
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await shot(page, 'export-runs-phone');
  await page.setViewportSize({ width: 1280, height: 900 });

  // ---- a run that fails, then is retried after the destination is fixed ----
  await createExport('Broken export', 'Broken files');
  await recordRunStatuses(page);
  await backfill('2024-01-10T00:00', '2024-01-10T01:00', 1);
  const failed = page.locator('tr[data-run][data-status="FAILED"]');
  await failed.waitFor({ timeout: 60_000 });
  await expect(failed.locator('.error-text').textContent()).resolves.toMatch(/ENOTDIR/);
  await nav('Exports').click();
  await page.locator('[data-export="Broken export"] .badge', { hasText: 'failing' }).waitFor();
  await page.locator('[data-export="Events hourly"] .badge', { hasText: 'active' }).waitFor();
  await shot(page, 'exports');

  await nav('Destinations').click();
  await page.getByRole('link', { name: 'Edit Broken files' }).click();
  await page.getByLabel('Path').fill(fixed);
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.getByText('Saved.').waitFor();

  await nav('Exports').click();
  await page.getByRole('link', { name: 'Broken export' }).click();
  await recordRunStatuses(page);
  await page.locator('tr[data-run][data-status="FAILED"]').waitFor();
  await page.getByRole('button', { name: /^Retry run/ }).click();
  await page.locator('tr[data-run][data-status="COMPLETED"] td[data-label="Rows"]', { hasText: String(EVENTS_PER_HOUR[0]) }).waitFor({ timeout: 60_000 });
  await page.locator('tr[data-run] .trigger', { hasText: 'retry' }).waitFor();
  expect(manifestsUnder(fixed).map((m) => m.rows)).toEqual([EVENTS_PER_HOUR[0]]);

  // Its logs: the failed attempt and the successful retry.
  await page.getByRole('button', { name: /^Logs of run/ }).click();
  const logs = page.getByRole('log');
  await logs.getByText(/Run failed \(config\).*ENOTDIR/).waitFor();
  // Both attempts logged what they exported: the failed one and the retry.
  await logs.getByText(`Exporting ${EVENTS_PER_HOUR[0]} rows`).nth(1).waitFor();
  // The finished backfill's progress follows the retried run.
  await page.locator('.backfill', { hasText: `1/1 runs · ${EVENTS_PER_HOUR[0]} rows` }).waitFor();
  await shot(page, 'run-logs');

  // ---- pause, unpause and delete from the list ----
  await nav('Exports').click();
  await page.getByRole('button', { name: 'Pause Events hourly' }).click();
  await page.locator('[data-export="Events hourly"] .badge', { hasText: 'paused' }).waitFor();
  await page.getByRole('button', { name: 'Unpause Events hourly' }).click();
  await page.locator('[data-export="Events hourly"] .badge', { hasText: 'active' }).waitFor();
  page.once('dialog', (d) => void d.accept());
  await page.getByRole('button', { name: 'Delete Broken export' }).click();
  await page.locator('[data-export="Broken export"]').waitFor({ state: 'detached' });

  expect(browser.blockedRequests).toEqual([]);
  expect(browser.pageErrors).toEqual([]);
});

it('labels every control (label, aria-label or labelled-by) on the main pages', async () => {
  const unlabelled = async () => page.evaluate(() => [...document.querySelectorAll('input, select, textarea, button')]
    .filter((el) => {
      const e = el as HTMLInputElement;
      const named = e.labels?.length || e.getAttribute('aria-label') || e.getAttribute('aria-labelledby') || (el.tagName === 'BUTTON' && el.textContent?.trim());
      return !named && !(e.type === 'hidden');
    })
    .map((el) => el.outerHTML.slice(0, 120)));
  for (const p of ['/exports', '/exports/new', '/destinations', '/destinations/new']) {
    await page.goto(server.origin + p);
    await page.locator('main h1').waitFor();
    await page.waitForLoadState('networkidle');
    if (p === '/exports/new') await page.getByRole('button', { name: 'Add filter' }).click();
    expect({ page: p, unlabelled: await unlabelled() }).toEqual({ page: p, unlabelled: [] });
  }
});
