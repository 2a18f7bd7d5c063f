/**
 * The export form's "Data" section in a real headless Chromium against the real server: choosing, renaming and
 * extracting columns with the live schema preview (columns, types and real rows), a custom query whose bad key is
 * reported under the key field, schema mode and concurrency, and every setting kept across an edit and a reload.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createClient } from '@clickhouse/client';
import type { Page } from 'playwright-core';
import { assertChromiumInstalled, launchBrowser, type TestBrowser } from '../support/browser';
import { startE2eServer, type E2eServer } from './e2e-server';

const SHOTS = path.join(__dirname, 'screenshots');

jest.setTimeout(180_000);

let server: E2eServer;
let browser: TestBrowser;
let page: Page;
let destinationId: string;

const api = <T = any>(query: string, variables: Record<string, unknown> = {}) => server.api<T>(query, variables);

const chTime = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '');

/** Events of the last hour: the preview shows real rows of the last day. */
async function seedRecentEvents(): Promise<void> {
  const ch = createClient({ url: server.app.clickhouseUrl });
  try {
    const at = new Date(Date.now() - 3_600_000);
    await ch.insert({
      table: `${server.chDatabase}.events`, format: 'JSONEachRow',
      values: [0, 1, 2].map((i) => ({
        uuid: randomUUID(), event: 'recent_view', properties: JSON.stringify({ $browser: 'Firefox' }), timestamp: chTime(at), team_id: server.teamId,
        distinct_id: `recent-${i}`, elements_chain: '', created_at: chTime(at), person_id: randomUUID(), person_properties: '{}', inserted_at: chTime(at),
        _timestamp: chTime(at).slice(0, 19), _offset: i,
      })),
    });
  } finally {
    await ch.close();
  }
}

/** A control by its whole label (a required field's label ends in " *"). */
const byLabel = (text: string) => page.getByLabel(new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}( \\*)?$`));

/** The error text shown for a control (its aria-errormessage), once it is marked invalid. */
async function errorOf(label: string): Promise<string> {
  const control = byLabel(label);
  await page.waitForFunction((el) => el?.getAttribute('aria-invalid') === 'true', await control.elementHandle());
  const id = await control.getAttribute('aria-errormessage');
  return (await page.locator(`[id="${id}"]`).textContent()) ?? '';
}

const exportFields = (id: string) => api(`query ($id: ID!) { batchExport(id: $id) {
  fields { source alias type } customQuery { query primaryKey versionKey mode } schemaMode maxConcurrentRuns } }`, { id }).then((r) => r.batchExport);

beforeAll(async () => {
  assertChromiumInstalled();
  fs.mkdirSync(SHOTS, { recursive: true });
  server = await startE2eServer();
  await seedRecentEvents();
  const { createDestination } = await api('mutation ($c: JSONObject!) { createDestination(input: { name: "Files", type: "local-files", config: $c }) { id } }', {
    c: { path: path.join(server.teamFiles, 'schema'), compression: 'none' },
  });
  destinationId = createDestination.id;
  browser = await launchBrowser(server.origin);
  page = browser.page;
  page.setDefaultTimeout(45_000); // generous: CI runs the browser beside the rest of the suite on 2 cores
  await page.goto(`${server.origin}/signin`);
  await byLabel('API token').fill(server.token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/exports$/);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

it('creates an export with chosen, renamed and extracted columns, previews them with real rows, and keeps them on edit', async () => {
  await page.goto(`${server.origin}/exports/new`);
  await byLabel('Name').fill('Chosen columns');
  await byLabel('Destination').selectOption(destinationId);
  for (const c of ['person_properties', 'set', 'set_once', 'elements_chain']) await byLabel(`Export ${c}`).uncheck();
  // The model's key columns cannot be left out.
  expect(await byLabel('Export uuid').isDisabled()).toBe(true);
  await byLabel('Export event as').fill('event_name');
  await page.getByRole('button', { name: 'Add JSON extraction' }).click();
  await byLabel('JSON path 1').fill('properties.$browser');
  await byLabel('Alias 1').fill('browser');
  await byLabel('Type 1').selectOption('STRING');
  const preview = page.getByRole('region', { name: 'Schema preview' });
  await preview.locator('tr[data-column="browser"]').waitFor();
  const previewColumns = await preview.locator('table.schema-columns tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-column')));
  expect(previewColumns).toEqual(['team_id', 'uuid', 'event_name', 'distinct_id', 'person_id', 'timestamp', 'created_at', '_inserted_at', 'properties', 'browser']);
  expect(await preview.locator('tr[data-column="browser"] td[data-type]').textContent()).toBe('string');
  // Real rows of the last day, with the extracted value.
  await preview.locator('table.schema-rows').waitFor();
  expect(await preview.locator('table.schema-rows tbody tr').count()).toBe(3);
  expect(await preview.locator('table.schema-rows').textContent()).toContain('Firefox');
  await byLabel('Schema changes').selectOption('FROZEN');
  await byLabel('Max concurrent runs').fill('2');
  await page.screenshot({ path: path.join(SHOTS, 'export-schema.png'), fullPage: true });

  // The preview runs the API's checks as the user types: a bad alias is named there before saving...
  await byLabel('Alias 1').fill('bad alias!');
  await preview.locator('[data-preview-error]', { hasText: 'fields.9.alias' }).waitFor();
  // ...and on saving, the API's error lands under the alias it names (input.fields.9.alias).
  await page.getByRole('button', { name: 'Create export' }).click();
  expect(await errorOf('Alias 1')).toMatch(/plain name/);
  expect(await byLabel('JSON path 1').getAttribute('aria-invalid')).toBeNull();
  await byLabel('Alias 1').fill('browser');
  await preview.locator('tr[data-column="browser"]').waitFor();

  await page.getByRole('button', { name: 'Create export' }).click();
  await page.getByRole('heading', { level: 1, name: /Chosen columns/ }).waitFor();
  const id = page.url().split('/').pop()!;
  const expected = [
    ...['team_id', 'uuid'].map((source) => ({ source, alias: null, type: null })),
    { source: 'event', alias: 'event_name', type: null },
    ...['distinct_id', 'person_id', 'timestamp', 'created_at', '_inserted_at', 'properties'].map((source) => ({ source, alias: null, type: null })),
    { source: 'properties.$browser', alias: 'browser', type: 'STRING' },
  ];
  expect(await exportFields(id)).toEqual({ fields: expected, customQuery: null, schemaMode: 'FROZEN', maxConcurrentRuns: 2 });
  expect(await page.locator('[data-export-data]').textContent()).toContain('event → event_name');

  // ---- edit after a reload: the form shows the saved selection, and saving it unchanged keeps it ----
  await page.goto(`${server.origin}/exports/${id}/edit`);
  await page.reload();
  await byLabel('Export event as').waitFor();
  expect(await byLabel('Export event as').inputValue()).toBe('event_name');
  expect(await byLabel('Export set_once').isChecked()).toBe(false);
  expect(await byLabel('Export properties').isChecked()).toBe(true);
  expect(await byLabel('JSON path 1').inputValue()).toBe('properties.$browser');
  expect(await byLabel('Alias 1').inputValue()).toBe('browser');
  expect(await byLabel('Schema changes').inputValue()).toBe('FROZEN');
  expect(await byLabel('Max concurrent runs').inputValue()).toBe('2');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.getByText('Export saved.').waitFor();
  expect(await exportFields(id)).toEqual({ fields: expected, customQuery: null, schemaMode: 'FROZEN', maxConcurrentRuns: 2 });

  // Every column checked again and nothing renamed or extracted: back to following the model (fields null).
  await page.goto(`${server.origin}/exports/${id}/edit`);
  await byLabel('Export event as').fill('');
  for (const c of ['person_properties', 'set', 'set_once', 'elements_chain']) await byLabel(`Export ${c}`).check();
  await page.getByRole('button', { name: 'Remove JSON extraction 1' }).click();
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.getByText('Export saved.').waitFor();
  expect((await exportFields(id)).fields).toBeNull();
});

it('creates a custom query export: a key not in the output is reported under the key field; the query, keys and mode survive a reload', async () => {
  const query = `SELECT uuid, event, timestamp FROM ${server.chDatabase}.events WHERE timestamp >= {data_interval_start} AND timestamp < {data_interval_end}`;
  await page.goto(`${server.origin}/exports/new`);
  await byLabel('Name').fill('Custom rows');
  await byLabel('Destination').selectOption(destinationId);
  await byLabel('Custom query').check();
  expect(await byLabel('Model').isVisible()).toBe(false);
  await byLabel('Query').fill(query);
  await byLabel('Primary key').fill('no_such_column');
  await page.getByRole('button', { name: 'Create export' }).click();
  expect(await errorOf('Primary key')).toContain('no_such_column');
  expect(await byLabel('Query').getAttribute('aria-invalid')).toBeNull();

  await byLabel('Primary key').fill('uuid');
  const preview = page.getByRole('region', { name: 'Schema preview' });
  await preview.locator('tr[data-column="event"]').waitFor();
  expect(await preview.locator('table.schema-columns tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-column')))).toEqual(['uuid', 'event', 'timestamp']);
  await page.getByRole('button', { name: 'Create export' }).click();
  await page.getByRole('heading', { level: 1, name: /Custom rows/ }).waitFor();
  const id = page.url().split('/').pop()!;
  expect(await exportFields(id)).toMatchObject({ fields: null, customQuery: { query, primaryKey: ['uuid'], versionKey: [], mode: 'APPEND' }, schemaMode: 'EVOLVE', maxConcurrentRuns: 4 });
  expect(await page.locator('[data-export-data]').textContent()).toContain('custom query, append by uuid');

  await page.goto(`${server.origin}/exports/${id}/edit`);
  await page.reload();
  expect(await byLabel('Custom query').isChecked()).toBe(true);
  expect(await byLabel('Query').inputValue()).toBe(query);
  expect(await byLabel('Primary key').inputValue()).toBe('uuid');
  expect(await byLabel('Mode').inputValue()).toBe('APPEND');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.getByText('Export saved.').waitFor();
  expect((await exportFields(id)).customQuery).toEqual({ query, primaryKey: ['uuid'], versionKey: [], mode: 'APPEND' });
});

it('labels every control of the Data section (columns, renames, JSON extractions, custom query)', async () => {
  await page.goto(`${server.origin}/exports/new`);
  await byLabel('Export event as').waitFor();
  await page.getByRole('button', { name: 'Add JSON extraction' }).click();
  const unlabelled = () => page.evaluate(() => [...document.querySelectorAll('.data-fieldset :is(input, select, textarea, button)')]
    .filter((el) => {
      const e = el as HTMLInputElement;
      return !(e.labels?.length || e.getAttribute('aria-label') || e.getAttribute('aria-labelledby') || (el.tagName === 'BUTTON' && el.textContent?.trim()));
    })
    .map((el) => el.outerHTML.slice(0, 120)));
  expect(await unlabelled()).toEqual([]);
  await byLabel('Custom query').check();
  await byLabel('Mode').selectOption('MERGE');
  expect(await byLabel('Version key').isVisible()).toBe(true);
  expect(await unlabelled()).toEqual([]);
  // Refused previews and saves answer 400 (expected above); anything else is a script error.
  expect(browser.pageErrors.filter((e) => !e.includes('status of 400'))).toEqual([]);
});

it("creates an export with PostHog's layout, shown on the detail page and kept on edit", async () => {
  await page.goto(`${server.origin}/exports/new`);
  await byLabel('Name').fill('PostHog shaped');
  await byLabel('Destination').selectOption(destinationId);
  await byLabel("PostHog's layout").check();
  await page.locator('[data-posthog-layout]').waitFor();
  expect(await page.getByRole('region', { name: 'Schema preview' }).isVisible()).toBe(false);
  expect(await byLabel('Export event as').isVisible()).toBe(false);
  await page.getByRole('button', { name: 'Create export' }).click();
  await page.getByRole('heading', { level: 1, name: /PostHog shaped/ }).waitFor();
  const id = page.url().split('/').pop()!;
  const saved = () => api('query ($id: ID!) { batchExport(id: $id) { layout fields { source } customQuery { query } } }', { id }).then((r) => r.batchExport);
  expect(await saved()).toEqual({ layout: 'POSTHOG', fields: null, customQuery: null });
  expect(await page.locator('[data-export-data]').textContent()).toContain("PostHog's events columns");

  await page.goto(`${server.origin}/exports/${id}/edit`);
  await page.reload();
  expect(await byLabel("PostHog's layout").isChecked()).toBe(true);
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.getByText('Export saved.').waitFor();
  expect(await saved()).toEqual({ layout: 'POSTHOG', fields: null, customQuery: null });

  // Back to Outport's columns from the form.
  await page.goto(`${server.origin}/exports/${id}/edit`);
  await byLabel('Pick columns').check();
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.getByText('Export saved.').waitFor();
  expect((await saved()).layout).toBe('OUTPORT');
});
