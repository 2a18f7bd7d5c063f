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
  page.setDefaultTimeout(45_000); // generous: CI runs the browser beside the rest of the suite on 2 cores
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

/** The GraphQL API as any client calls it (setup and read-back; the dashboard itself is what is tested). */
const api = <T = any>(query: string, variables: Record<string, unknown> = {}, token = server.token) => server.api<T>(query, variables, token);

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
  expect(await page.evaluate(() => localStorage.getItem('outport.token'))).toBe(server.token);

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
    // Each row appeared before its run finished and then changed live (a subscription delivers the run's state at
    // delivery: a fast worker may have claimed it already, so its first state may be RUNNING).
    expect(['STARTING', 'RUNNING']).toContain(statuses[id][0]);
    expect(statuses[id][statuses[id].length - 1]).toBe('COMPLETED');
  }
  expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true); // no reload happened
  // Rows per run (newest first) and the backfill's progress, as pushed over the subscriptions.
  const rows = await page.locator('tr[data-run] td[data-label="Rows"]').allTextContents();
  expect(rows.map(Number)).toEqual([...EVENTS_PER_HOUR].reverse());
  await page.locator('.backfill', { hasText: '3 of 3 runs finished' }).waitFor();
  await page.locator('.backfill', { hasText: '23 rows' }).waitFor();
  expect(await page.locator('.chart svg[data-metric="rows"] rect.bar').count()).toBe(3);
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
  await page.getByRole('link', { name: 'Broken export', exact: true }).click();
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
  await page.locator('.backfill', { hasText: `1 of 1 run finished · ${EVENTS_PER_HOUR[0]} rows` }).waitFor();
  await shot(page, 'run-logs');

  // ---- pause, unpause and delete from the list ----
  await nav('Exports').click();
  await page.getByRole('button', { name: 'Pause Events hourly' }).click();
  await page.locator('[data-export="Events hourly"] .badge', { hasText: 'paused' }).waitFor();
  await page.getByRole('button', { name: 'Unpause Events hourly' }).click();
  // Unpausing asks whether to backfill the intervals that closed while paused.
  const unpause = page.getByRole('dialog', { name: 'Unpause Events hourly' });
  expect(await unpause.getByLabel('Also backfill the paused gap').isChecked()).toBe(false);
  await unpause.getByRole('button', { name: 'Unpause' }).click();
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
  const [someExport] = (await api<{ batchExports: { edges: { node: { id: string } }[] } }>('{ batchExports(first: 1) { edges { node { id } } } }')).batchExports.edges;
  for (const p of ['/exports', '/exports/new', `/exports/${someExport.node.id}`, `/exports/${someExport.node.id}/edit`, '/destinations', '/destinations/new', '/settings']) {
    await page.goto(server.origin + p);
    await page.locator('main h1').waitFor();
    await page.waitForLoadState('networkidle');
    if (p.endsWith('/new') || p.endsWith('/edit')) {
      if (p.startsWith('/exports')) await page.getByRole('button', { name: 'Add filter' }).click();
    }
    expect({ page: p, unlabelled: await unlabelled() }).toEqual({ page: p, unlabelled: [] });
  }
});

// ---- issue 16: what the dashboard lacked, each checked in the browser against the real API ----

const EXPORT_FIELDS = 'id name model interval timezone offsetHour offsetDay includeEvents excludeEvents filters { key operator type value } startAt endAt destinationId paused pausedReason';

async function apiDestination(name: string, dir: string): Promise<string> {
  const { createDestination } = await api('mutation ($c: JSONObject!, $n: String!) { createDestination(input: { name: $n, type: "local-files", config: $c }) { id } }', {
    n: name, c: { path: dir, compression: 'none' },
  });
  return createDestination.id;
}

async function apiExport(input: Record<string, unknown>): Promise<string> {
  const { createBatchExport } = await api('mutation ($i: CreateBatchExportInput!) { createBatchExport(input: $i) { id } }', { i: input });
  return createBatchExport.id;
}

/** A destination whose writes fail (its folder is under a regular file): runs of non-empty intervals fail at once. */
function brokenDir(name: string): string {
  const blocker = path.join(server.teamFiles, `${name}-file`);
  fs.writeFileSync(blocker, 'a file where the destination expects a directory');
  return path.join(blocker, 'exports');
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A field wrapper by its label's exact text (a required field's label ends with an aria-hidden " *"). */
const fieldOf = (label: string) => page.locator('.field').filter({ has: page.locator('label', { hasText: new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}( \\*)?$`) }) });
/** At phone width nothing overflows sideways (tables become cards, grids one column). */
async function fitsPhone(screenshot: string): Promise<void> {
  await page.setViewportSize({ width: 390, height: 844 });
  try {
    expect({ screenshot, width: await page.evaluate(() => document.documentElement.scrollWidth) }).toEqual({ screenshot, width: 390 });
    await shot(page, screenshot);
  } finally {
    await page.setViewportSize({ width: 1280, height: 900 });
  }
}

const nameInput = () => page.getByRole('textbox', { name: 'Name', exact: true });

it('edits every setting of an export, persisted across a reload, with API errors under the field they name', async () => {
  const destinationId = await apiDestination('Edit target', path.join(server.teamFiles, 'edit-target'));
  const otherId = await apiDestination('Edit other', path.join(server.teamFiles, 'edit-other'));
  const id = await apiExport({ name: 'Before edit', interval: 'HOUR', destinationId, paused: true });

  await page.goto(`${server.origin}/exports/${id}`);
  await page.getByRole('link', { name: 'Edit Before edit' }).click();
  await page.waitForURL(new RegExp(`/exports/${id}/edit$`));
  await nameInput().fill('After edit');
  await page.getByLabel('Interval').selectOption('WEEK');
  await page.getByLabel('Time zone').fill('Mars/Olympus_Mons');
  await page.getByLabel('Offset hour').fill('3');
  await page.getByLabel('Week starts on').selectOption('Monday');
  await page.getByLabel('Destination').selectOption({ label: 'Edit other (local-files)' });
  await page.getByLabel('Only these events').fill('$pageview, signed_up');
  await page.getByLabel('Except these events').fill('$feature_flag_called');
  await page.getByRole('button', { name: 'Add filter' }).click();
  await page.getByLabel('Filter 1 property').fill('n');
  await page.getByLabel('Filter 1 operator').selectOption('GT');
  await page.getByLabel('Filter 1 value').fill('not a number');
  await page.getByLabel('Start at (UTC)').fill('2024-01-01T00:00');
  await page.getByLabel('End at (UTC)').fill('2024-02-01T00:00');

  // The API refuses the zone: its message sits under the Time zone field, which is marked invalid.
  await page.getByRole('button', { name: 'Save changes' }).click();
  await fieldOf('Time zone').locator('.field-error:not(:empty)').waitFor();
  expect(await fieldOf('Time zone').locator('.field-error').textContent()).toMatch(/Mars\/Olympus_Mons/);
  expect(await page.getByLabel('Time zone').getAttribute('aria-invalid')).toBe('true');
  await page.getByLabel('Time zone').fill('Europe/Berlin');

  // Then the filter value: under that filter's row, not at the top of the page.
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.locator('.filter-row[data-filter="1"] .field-error', { hasText: /number/ }).waitFor();
  expect(await page.getByLabel('Filter 1 value').getAttribute('aria-invalid')).toBe('true');
  expect(await page.getByLabel('Time zone').getAttribute('aria-invalid')).toBeNull();
  await page.getByLabel('Filter 1 value').fill('2');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.getByText('Export saved.').waitFor();

  await page.reload();
  await page.getByRole('heading', { level: 1, name: /After edit/ }).waitFor();
  await page.getByRole('link', { name: 'Edit After edit' }).click();
  await nameInput().waitFor();
  await shot(page, 'export-edit');
  await fitsPhone('export-edit-phone');
  await page.goto(`${server.origin}/exports/${id}`);
  await page.getByRole('heading', { level: 1, name: /After edit/ }).waitFor();
  await expect(page.locator('[data-export-summary]').textContent()).resolves.toMatch(/Weekly · times in Europe\/Berlin → Edit other/);
  const { batchExport } = await api(`query ($id: ID!) { batchExport(id: $id) { ${EXPORT_FIELDS} } }`, { id });
  expect(batchExport).toMatchObject({
    name: 'After edit', interval: 'WEEK', timezone: 'Europe/Berlin', offsetHour: 3, offsetDay: 1, destinationId: otherId,
    includeEvents: ['$pageview', 'signed_up'], excludeEvents: ['$feature_flag_called'],
    filters: [{ key: 'n', operator: 'GT', type: 'EVENT', value: 2 }],
    startAt: '2024-01-01T00:00:00.000Z', endAt: '2024-02-01T00:00:00.000Z',
  });

  // The form reopens with what was saved; clearing the end bound and the filters persists too.
  await page.getByRole('link', { name: 'Edit After edit' }).click();
  expect(await page.getByLabel('Offset hour').inputValue()).toBe('3');
  expect(await page.getByLabel('Filter 1 value').inputValue()).toBe('2');
  await page.getByLabel('End at (UTC)').fill('');
  await page.getByRole('button', { name: 'Remove filter 1' }).click();
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.getByText('Export saved.').waitFor();
  const after = (await api(`query ($id: ID!) { batchExport(id: $id) { ${EXPORT_FIELDS} } }`, { id })).batchExport;
  expect(after).toMatchObject({ endAt: null, filters: [], startAt: '2024-01-01T00:00:00.000Z' });
});

it('offers exactly the filter operators the API accepts, and an export using every one of them saves', async () => {
  await page.goto(`${server.origin}/exports/new`);
  await page.getByRole('button', { name: 'Add filter' }).click();
  const offered = await page.getByLabel('Filter 1 operator').locator('option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
  // The API's FilterOperator enum is the list it accepts: the two lists must be the same.
  const accepted = (await api('{ __type(name: "FilterOperator") { enumValues { name } } }')).__type.enumValues.map((v: { name: string }) => v.name);
  expect(accepted.length).toBeGreaterThan(0);
  expect([...offered].sort()).toEqual([...accepted].sort());

  // One filter per offered operator, typed in the form as a user would, accepted by the API.
  await nameInput().fill('Every operator');
  for (let i = 1; i <= offered.length; i++) {
    if (i > 1) await page.getByRole('button', { name: 'Add filter' }).click();
    await page.getByLabel(`Filter ${i} property`).fill(`p${i}`);
    await page.getByLabel(`Filter ${i} operator`).selectOption(offered[i - 1]);
    const value = page.getByLabel(`Filter ${i} value`);
    if (await value.isEnabled()) await value.fill(['GT', 'LT'].includes(offered[i - 1]) ? '10' : offered[i - 1] === 'EXACT' ? 'a, b' : 'Chrome');
  }
  await page.getByRole('button', { name: 'Create export' }).click();
  await page.getByRole('heading', { level: 1, name: /Every operator/ }).waitFor();
  const id = new URL(page.url()).pathname.split('/')[2];
  const { batchExport } = await api(`query ($id: ID!) { batchExport(id: $id) { ${EXPORT_FIELDS} } }`, { id });
  expect(batchExport.filters.map((f: { operator: string }) => f.operator)).toEqual(offered);
  await api('mutation ($id: ID!) { deleteBatchExport(id: $id) { id } }', { id });
});

it('pages through runs, filters them by state and interval, charts every outcome, and shows failed backfills and export-level logs', async () => {
  const broken = await apiDestination('Always failing', brokenDir('paging'));
  // 36 five-minute intervals, 23 of them holding events: those fail, empty ones complete without the destination.
  // After 10 failures the export pauses itself, cancelling what is left: completed, failed and cancelled runs.
  const id = await apiExport({ name: 'Paged runs', interval: 'EVERY_5_MINUTES', destinationId: broken, endAt: '2024-01-11T00:00:00Z' });
  await api('mutation ($id: ID!) { createBackfill(input: { batchExportId: $id, startAt: "2024-01-10T00:00:00Z", endAt: "2024-01-10T03:00:00Z" }) { id } }', { id });
  const twoFailing = await apiExport({ name: 'All failing', interval: 'HOUR', destinationId: broken, endAt: '2024-01-11T00:00:00Z' });
  await api('mutation ($id: ID!) { createBackfill(input: { batchExportId: $id, startAt: "2024-01-10T00:00:00Z", endAt: "2024-01-10T02:00:00Z" }) { id } }', { id: twoFailing });

  type R = { id: string; status: string; intervalStart: string };
  const all = await waitFor('the paged export to pause itself and its runs to settle', async () => {
    const { batchExport, runs } = await api(`query ($id: ID!) { batchExport(id: $id) { paused } runs(batchExportId: $id, first: 100) { edges { node { id status intervalStart } } } }`, { id });
    const list: R[] = runs.edges.map((e: { node: R }) => e.node);
    return batchExport.paused && list.length === 36 && list.every((r) => ['COMPLETED', 'FAILED', 'CANCELLED'].includes(r.status)) ? list : undefined;
  });
  const failedIds = all.filter((r) => r.status === 'FAILED').map((r) => r.id).sort();
  expect(failedIds.length).toBeGreaterThanOrEqual(10);

  await page.goto(`${server.origin}/exports/${id}`);
  const rows = page.locator('table.runs tbody tr[data-run]');
  const shownIds = () => rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-run')!));
  await page.getByText('Page 1 · 20 runs').waitFor();
  const first = await shownIds();
  expect(first).toEqual(all.slice(0, 20).map((r) => r.id));
  // The chart shows every run of the page, failed and cancelled ones too, coloured by outcome.
  expect(await page.locator('.chart svg[data-metric="rows"] rect.bar').count()).toBe(20);
  expect(await page.locator('.chart svg[data-metric="seconds"] rect.bar.status-cancelled').count()).toBe(all.slice(0, 20).filter((r) => r.status === 'CANCELLED').length);
  await page.getByRole('button', { name: 'Older runs' }).click();
  await page.getByText('Page 2 · 16 runs').waitFor();
  expect(await shownIds()).toEqual(all.slice(20).map((r) => r.id));
  expect(await page.getByRole('button', { name: 'Older runs' }).isDisabled()).toBe(true);
  expect(await page.locator('.chart svg[data-metric="rows"] rect.bar.status-failed').count()).toBe(all.slice(20).filter((r) => r.status === 'FAILED').length);
  await page.getByRole('button', { name: 'Newer runs' }).click();
  await page.getByText('Page 1 · 20 runs').waitFor();

  // State filter: only failed runs, across pages if need be.
  await page.getByLabel('State', { exact: true }).selectOption('failed');
  await page.getByText(`Page 1 · ${failedIds.length} runs matching the filters`).waitFor();
  expect((await shownIds()).sort()).toEqual(failedIds);
  expect(new Set(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-status'))))).toEqual(new Set(['FAILED']));
  // Interval filter: runs overlapping [00:10, 00:20) UTC, i.e. 00:10 and 00:15.
  await page.getByLabel('State', { exact: true }).selectOption('all');
  await page.getByLabel('Intervals from (UTC)').fill('2024-01-10T00:10');
  await page.getByLabel('Intervals until (UTC)').fill('2024-01-10T00:20');
  await page.getByText('Page 1 · 2 runs matching the filters').waitFor();
  expect(await rows.locator('td[data-label="Interval"]').allTextContents()).toEqual(['2024-01-10 00:15 – 00:20 UTC', '2024-01-10 00:10 – 00:15 UTC']);
  // Every time names its zone.
  expect(await rows.first().locator('td[data-label="Started"]').textContent()).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
  await shot(page, 'runs-filtered');
  await fitsPhone('runs-filtered-phone');

  // The backfill cancelled by the auto-pause with failed runs is not shown as a success.
  await page.locator('.backfill[data-outcome="partial"]', { hasText: 'Cancelled, some failed' }).waitFor();

  // Export-level log entries: the auto-pause reason, next to run entries; level filter and search.
  const logs = page.getByRole('log');
  await logs.locator('li', { hasText: 'Paused automatically' }).first().waitFor();
  expect(await logs.locator('li', { hasText: 'Paused automatically' }).first().locator('.tag').textContent()).toBe('export');
  await page.getByLabel('Level', { exact: true }).selectOption('error');
  await page.waitForFunction(() => {
    const items = [...document.querySelectorAll('[role="log"] li')];
    return items.length > 0 && items.every((li) => li.getAttribute('data-level') === 'ERROR');
  });
  await page.getByLabel('Level', { exact: true }).selectOption('all');
  await page.getByLabel('Search', { exact: true }).fill('paused automatically');
  await page.waitForFunction(() => {
    const items = [...document.querySelectorAll('[role="log"] li')];
    return items.length > 0 && items.every((li) => /paused automatically/i.test(li.textContent ?? ''));
  });
  await shot(page, 'export-logs');

  // A backfill whose runs all failed reads "Failed", in red, with the count in words.
  await page.goto(`${server.origin}/exports/${twoFailing}`);
  const failedBackfill = page.locator('.backfill[data-outcome="failed"]');
  await failedBackfill.waitFor({ timeout: 60_000 });
  await expect(failedBackfill.locator('.badge').textContent()).resolves.toBe('Failed');
  await expect(failedBackfill.locator('.backfill-counts').textContent()).resolves.toBe('2 of 2 runs finished · 0 rows · 2 failed');
  await shot(page, 'backfill-failed');
});

it('keeps the sign-in for new pages of the browser, and signs out of every page', async () => {
  await page.goto(`${server.origin}/exports`);
  await page.getByRole('heading', { level: 1, name: 'Exports' }).waitFor();
  const second = await browser.context.newPage();
  try {
    await second.goto(`${server.origin}/settings`);
    await second.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
    expect(new URL(second.url()).pathname).toBe('/settings');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/signin/);
    await page.getByText('Signed out').waitFor();
    expect(await page.evaluate(() => [localStorage.getItem('outport.token'), sessionStorage.getItem('outport.token')])).toEqual([null, null]);
    // The other page follows, and a fresh page is not signed in.
    await second.waitForURL(/\/signin/);
    await second.goto(`${server.origin}/exports`);
    await second.waitForURL(/\/signin\?next=%2Fexports/);
  } finally {
    await second.close();
  }
  await page.getByLabel('API token').fill(server.token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/exports$/);
});

it('creates an API token shown once, and revokes it from the settings page; the revoked token is refused', async () => {
  await page.goto(`${server.origin}/settings`);
  await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
  await page.getByRole('button', { name: 'Create token' }).click();
  await fieldOf('Token name').locator('.field-error', { hasText: 'required' }).waitFor();
  await page.getByLabel('Token name').fill('CI reader');
  await page.getByLabel('Can change things (write scope)').uncheck();
  await page.getByRole('button', { name: 'Create token' }).click();
  const tokenValue = await page.getByLabel('New token').inputValue();
  expect(tokenValue).toMatch(/^op_/);
  const row = page.locator('tr[data-token="CI reader"]');
  await expect(row.locator('td[data-label="Scopes"]').textContent()).resolves.toBe('read');
  expect((await api('{ team { name } }', {}, tokenValue)).team.name).toBe('E2E team');
  await shot(page, 'settings-tokens');
  await fitsPhone('settings-tokens-phone');

  // Shown once: after a reload only its prefix is listed.
  await page.reload();
  await row.waitFor();
  expect(await page.getByText(tokenValue).count()).toBe(0);
  page.once('dialog', (d) => void d.accept());
  await page.getByRole('button', { name: 'Revoke token CI reader' }).click();
  await page.locator('tr[data-token="CI reader"][data-revoked="true"]').waitFor();
  await expect(api('{ team { name } }', {}, tokenValue)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  await page.reload();
  await page.locator('tr[data-token="CI reader"][data-revoked="true"]').waitFor();

  // Team settings: saved, and read back after a reload.
  await page.getByLabel('Backfills at once').fill('3');
  await page.getByRole('button', { name: 'Save team settings' }).click();
  await page.getByText('Team settings saved.').waitFor();
  await page.reload();
  expect(await page.getByLabel('Backfills at once').inputValue()).toBe('3');
  await page.getByLabel('Backfills at once').fill('0');
  await page.getByRole('button', { name: 'Save team settings' }).click();
  await fieldOf('Backfills at once').locator('.field-error', { hasText: /whole number/ }).waitFor();
});

it('destination form: an empty submit shows an error under each field, labels keep acronyms, help renders inline Markdown as text', async () => {
  await page.goto(`${server.origin}/destinations/new`);
  await page.getByLabel('Type').selectOption('postgres');
  await page.getByRole('button', { name: 'Create destination' }).click();
  const errors = await page.locator('.field:has(.field-error:not(:empty))').evaluateAll((fields) => fields.map((f) => [f.querySelector('label')!.textContent!.replace(' *', ''), f.querySelector('.field-error')!.textContent]));
  expect(errors.length).toBeGreaterThan(2);
  expect(errors).toContainEqual(['Name', 'Name is required']);
  for (const [label, message] of errors) expect(message).toBe(`${label.replace(' (secret)', '')} is required`);
  // Labels: acronyms kept; help: `code` rendered as code, nothing shown with backticks.
  await page.getByLabel('SSL mode').waitFor();
  const sslHelp = fieldOf('SSL mode').locator('.help');
  expect(await sslHelp.locator('code').count()).toBeGreaterThan(0);
  expect(await sslHelp.textContent()).not.toContain('`');
  expect(await page.locator('label', { hasText: /^Ssl / }).count()).toBe(0);

  // What only the server can check: each of its issues lands under its own field, without the raw path.
  await nameInput().fill('Server checked');
  for (const label of ['Host', 'Database', 'User', 'Password (secret)']) {
    const input = fieldOf(label).locator('input, textarea');
    if (await input.count()) await input.first().fill('x');
  }
  await page.getByLabel('Port', { exact: true }).fill('70000');
  await page.getByLabel('SSL mode').selectOption('verify-ca');
  await page.getByRole('button', { name: 'Create destination' }).click();
  // Both issues the API reported in one message, each under its own field.
  await fieldOf('Port').locator('.field-error:not(:empty)').waitFor();
  await fieldOf('SSL CA certificate').locator('.field-error', { hasText: 'verify-ca' }).waitFor();
  const serverErrors = await page.locator('.field-error:not(:empty)').allTextContents();
  for (const text of serverErrors) expect(text).not.toMatch(/config\./);
  await shot(page, 'destination-errors');
});
