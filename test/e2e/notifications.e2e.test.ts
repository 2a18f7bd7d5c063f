/**
 * The Notifications page end to end, in a real headless Chromium against the real server: channels created in the
 * page deliver to a real HTTP receiver (whose request must verify with the signing secret the page showed once)
 * and to a real SMTP server; API errors land under the field they name; deliveries show status and error.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { SMTPServer } from 'smtp-server';
import { verifySignature } from '../../src/notifications/signing';
import { assertChromiumInstalled, launchBrowser, type TestBrowser } from '../support/browser';
import { startE2eServer, type E2eServer } from './e2e-server';

/** The items of a connection's page. */
const nodes = (c: { edges: { node: any }[] }) => c.edges.map((e) => e.node);

const SHOTS = path.join(__dirname, 'screenshots');
const shot = (p: Page, name: string) => p.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

jest.setTimeout(180_000);

interface Received { path: string; headers: http.IncomingHttpHeaders; raw: string }
interface Mail { from: string; to: string[]; data: string }

let server: E2eServer;
let browser: TestBrowser;
let page: Page;
let receiver: http.Server;
let receiverBase: string;
const received: Received[] = [];
let smtp: SMTPServer;
let smtpPort: number;
const mails: Mail[] = [];

beforeAll(async () => {
  assertChromiumInstalled();
  fs.mkdirSync(SHOTS, { recursive: true });
  receiver = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c)).on('end', () => {
      received.push({ path: req.url!, headers: req.headers, raw });
      // /gone stands for a receiver that was removed: a permanent failure the page must show with its reason.
      res.statusCode = req.url === '/gone' ? 410 : 200;
      res.end(req.url === '/gone' ? 'this hook was removed' : 'ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverBase = `http://127.0.0.1:${(receiver.address() as { port: number }).port}`;
  smtp = new SMTPServer({
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    onAuth(auth, _session, cb) {
      if (auth.username === 'outport' && auth.password === 'smtp-pass-e2e') return cb(null, { user: 'outport' });
      cb(new Error('Invalid username or password'));
    },
    onData(stream, session, cb) {
      let data = '';
      stream.on('data', (c) => (data += c)).on('end', () => {
        mails.push({ from: (session.envelope.mailFrom as { address: string }).address, to: session.envelope.rcptTo.map((r) => r.address), data });
        cb();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
  smtpPort = (smtp.server.address() as { port: number }).port;
  server = await startE2eServer();
  browser = await launchBrowser(server.origin);
  page = browser.page;
  page.setDefaultTimeout(45_000); // generous: CI runs the browser beside the rest of the suite on 2 cores
  page.on('dialog', (d) => void d.accept());
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await new Promise<void>((r) => (receiver ? receiver.close(() => r()) : r()));
  await new Promise<void>((r) => (smtp ? smtp.close(() => r()) : r()));
});

const api = <T = any>(query: string, variables: Record<string, unknown> = {}) => server.api<T>(query, variables);

/** A field wrapper by its label's exact text (a required field's label ends with an aria-hidden " *"). */
const fieldOf = (label: string) => page.locator('.field').filter({ has: page.locator('label', { hasText: new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}( \\*)?$`) }) });
const form = () => page.locator('form.channel-form');
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** A control of the channel form by its whole label (a required field's label ends with an aria-hidden " *"). */
const control = (label: string) => form().getByLabel(new RegExp(`^${escape(label)}( \\*)?$`));
const channelCard = (name: string) => page.locator(`li[data-channel="${name}"]`);

async function waitFor<T>(what: string, fn: () => T | undefined, ms = 15_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function fitsPhone(screenshot: string): Promise<void> {
  await page.setViewportSize({ width: 390, height: 844 });
  try {
    expect({ screenshot, width: await page.evaluate(() => document.documentElement.scrollWidth) }).toEqual({ screenshot, width: 390 });
    await shot(page, screenshot);
  } finally {
    await page.setViewportSize({ width: 1280, height: 900 });
  }
}

const unlabelledControls = () => page.evaluate(() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter((el) => {
    const e = el as HTMLInputElement;
    const named = e.labels?.length || e.getAttribute('aria-label') || e.getAttribute('aria-labelledby') || (el.tagName === 'BUTTON' && el.textContent?.trim());
    return !named && e.type !== 'hidden';
  })
  .map((el) => el.outerHTML.slice(0, 120)));

it('creates webhook and email channels in the page, and a test notification reaches a real receiver (signature verified) and a real SMTP server', async () => {
  const { createDestination } = await api('mutation ($c: JSONObject!) { createDestination(input: { name: "Files", type: "local-files", config: $c }) { id } }', {
    c: { path: path.join(server.teamFiles, 'notify'), compression: 'none' },
  });
  const { createBatchExport } = await api('mutation ($i: CreateBatchExportInput!) { createBatchExport(input: $i) { id } }', {
    i: { name: 'Orders hourly', model: 'EVENTS', interval: 'HOUR', destinationId: createDestination.id, paused: true },
  });
  const exportId: string = createBatchExport.id;

  await page.goto(`${server.origin}/signin`);
  await page.getByLabel('API token').fill(server.token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/exports$/);

  // ---- reached from Settings ----
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('link', { name: 'Notification channels' }).click();
  await page.waitForURL(/\/notifications$/);
  await page.getByText('No notification channels yet').waitFor();

  // ---- an invalid URL: the API's error under the URL field, nothing created ----
  await page.getByRole('button', { name: 'New channel' }).click();
  await control('Name').fill('Ops hook');
  await control('Kind').selectOption('WEBHOOK');
  await control('Applies to').selectOption({ label: 'Only export "Orders hourly"' });
  await control('URL').fill('ftp://hooks.example.com/outport');
  await form().getByRole('button', { name: 'Create channel' }).click();
  const urlError = fieldOf('URL').locator('.field-error');
  await urlError.waitFor();
  expect(await urlError.textContent()).toBe('must use http or https, not ftp:');
  expect(await control('URL').getAttribute('aria-invalid')).toBe('true');
  expect(await control('URL').evaluate((el) => el === document.activeElement)).toBe(true);
  await control('URL').fill('not a url');
  await form().getByRole('button', { name: 'Create channel' }).click();
  await fieldOf('URL').locator('.field-error', { hasText: 'must be an absolute http(s) URL' }).waitFor();
  // A chosen event without its threshold: the API names the threshold field, not the URL.
  await control('URL').fill(`${receiverBase}/hook`);
  await control('Run slower than a threshold').check();
  await form().getByRole('button', { name: 'Create channel' }).click();
  await fieldOf('Slow after (seconds)').locator('.field-error', { hasText: 'RUN_SLOW needs a threshold in seconds' }).waitFor();
  expect(await urlError.textContent()).toBe('');
  await shot(page, 'notifications-errors');
  expect((await api('{ notificationChannels { edges { node { id } } } }')).notificationChannels.edges).toEqual([]);

  // ---- created: the signing secret is shown once, with a copy button ----
  await control('Slow after (seconds)').fill('600');
  await control('Data staler than N intervals').check();
  await control('Stale after (intervals)').fill('3');
  await form().getByRole('button', { name: 'Create channel' }).click();
  const secretInput = page.getByRole('textbox', { name: 'Signing secret' });
  await secretInput.waitFor();
  const secret = await secretInput.inputValue();
  expect(secret).toMatch(/^whsec_/);
  await page.getByRole('button', { name: 'Copy signing secret' }).waitFor();
  await channelCard('Ops hook').getByText('Export Orders hourly').waitFor();
  await channelCard('Ops hook').getByText(/run slower than 10 minutes, data staler than 3 intervals/).waitFor();
  const [stored] = nodes((await api('{ notificationChannels { edges { node { name batchExportId events slowRunSeconds staleIntervals url } } } }')).notificationChannels);
  expect(stored).toEqual({
    name: 'Ops hook', batchExportId: exportId, url: `${receiverBase}/hook`, slowRunSeconds: 600, staleIntervals: 3,
    events: ['RUN_FAILED', 'EXPORT_AUTO_PAUSED', 'EXPORT_RECOVERED', 'RUN_SLOW', 'EXPORT_STALE'],
  });
  await page.getByRole('button', { name: 'Done, hide it' }).click();
  expect(await secretInput.count()).toBe(0);

  // ---- send a test: the receiver's request verifies with the secret the page showed ----
  await page.getByRole('button', { name: 'Send test notification to Ops hook' }).click();
  await channelCard('Ops hook').locator('.test-result.ok', { hasText: 'Test notification: Delivered' }).waitFor();
  const hook = await waitFor('the webhook request', () => received.find((r) => r.path === '/hook'));
  const signature = hook.headers['x-outport-signature'] as string;
  const now = Math.floor(Date.now() / 1000);
  expect(verifySignature(secret, hook.raw, signature, now)).toBe(true);
  expect(verifySignature(`${secret}x`, hook.raw, signature, now)).toBe(false);
  expect(JSON.parse(hook.raw)).toMatchObject({ event: 'test', batchExportId: exportId });
  await page.locator('tr[data-channel="Ops hook"][data-status="DELIVERED"]').waitFor();

  // ---- rotated: a new secret, shown once; the next test verifies with it and not the old one ----
  await page.getByRole('button', { name: 'Rotate signing secret of Ops hook' }).click();
  await secretInput.waitFor();
  const rotated = await secretInput.inputValue();
  expect(rotated).toMatch(/^whsec_/);
  expect(rotated).not.toBe(secret);
  await page.getByRole('button', { name: 'Done, hide it' }).click();
  const before = received.length;
  await page.getByRole('button', { name: 'Send test notification to Ops hook' }).click();
  const second = await waitFor('the second webhook request', () => received.slice(before).find((r) => r.path === '/hook'));
  expect(verifySignature(rotated, second.raw, second.headers['x-outport-signature'] as string, Math.floor(Date.now() / 1000))).toBe(true);
  expect(verifySignature(secret, second.raw, second.headers['x-outport-signature'] as string, Math.floor(Date.now() / 1000))).toBe(false);

  // ---- a receiver that refuses: the test shows the failure and its reason, and so do the deliveries ----
  await page.getByRole('button', { name: 'New channel' }).click();
  await control('Name').fill('Old hook');
  await control('URL').fill(`${receiverBase}/gone`);
  await form().getByRole('button', { name: 'Create channel' }).click();
  await page.getByRole('button', { name: 'Done, hide it' }).click();
  await channelCard('Old hook').getByText('Team default: every export').waitFor();
  await page.getByRole('button', { name: 'Send test notification to Old hook' }).click();
  await channelCard('Old hook').locator('.test-result.bad', { hasText: /Failed: .*\/gone answered HTTP 410: this hook was removed/ }).waitFor();
  const failedRow = page.locator('tr[data-channel="Old hook"][data-status="FAILED"]');
  await failedRow.waitFor();
  expect(await failedRow.locator('.error-text').textContent()).toMatch(/answered HTTP 410: this hook was removed/);

  // ---- email: a wrong recipient is refused under "To"; then the test email reaches the SMTP server ----
  await page.getByRole('button', { name: 'New channel' }).click();
  await control('Name').fill('On-call mail');
  await control('Kind').selectOption('EMAIL');
  expect(await control('URL').isVisible()).toBe(false);
  await control('SMTP host').fill('127.0.0.1');
  await control('SMTP port').fill(String(smtpPort));
  await control('SMTP user').fill('outport');
  await control('SMTP password').fill('smtp-pass-e2e');
  await control('From').fill('Outport <outport@example.com>');
  await control('To').fill('oncall@example.com\nnot-an-address');
  await form().getByRole('button', { name: 'Create channel' }).click();
  await fieldOf('To').locator('.field-error', { hasText: '"not-an-address" is not an email address' }).waitFor();
  await control('To').fill('oncall@example.com, lead@example.com');
  await form().getByRole('button', { name: 'Create channel' }).click();
  await channelCard('On-call mail').getByText('to oncall@example.com, lead@example.com via 127.0.0.1').waitFor();
  expect(await secretInput.count()).toBe(0);
  await page.getByRole('button', { name: 'Send test notification to On-call mail' }).click();
  await channelCard('On-call mail').locator('.test-result.ok', { hasText: 'Delivered' }).waitFor();
  const mail = await waitFor('the test email', () => mails[0]);
  expect(mail.from).toBe('outport@example.com');
  expect(mail.to.sort()).toEqual(['lead@example.com', 'oncall@example.com']);
  expect(mail.data).toMatch(/Subject: \[Outport\]/);

  // ---- edited without retyping the password: it is kept (the next test still signs in) ----
  await page.getByRole('button', { name: 'Edit On-call mail' }).click();
  expect(await control('SMTP password').inputValue()).toBe('');
  expect(await control('Kind').isDisabled()).toBe(true);
  await control('To').fill('lead@example.com');
  await control('Export recovered').uncheck();
  await form().getByRole('button', { name: 'Save channel' }).click();
  await page.getByText('Saved On-call mail.').waitFor();
  await channelCard('On-call mail').getByText('to lead@example.com via').waitFor();
  await page.getByRole('button', { name: 'Send test notification to On-call mail' }).click();
  await waitFor('the second email', () => mails[1]);
  expect(mails[1].to).toEqual(['lead@example.com']);
  await channelCard('On-call mail').locator('.test-result.ok', { hasText: 'Delivered' }).waitFor();
  const mailChannel = nodes((await api('{ notificationChannels { edges { node { name events } } } }')).notificationChannels).find((c: { name: string }) => c.name === 'On-call mail');
  expect(mailChannel.events).toEqual(['RUN_FAILED', 'EXPORT_AUTO_PAUSED']);

  // ---- Slack: the URL is a secret (only its host is shown); an edit that leaves it empty keeps it ----
  await page.getByRole('button', { name: 'New channel' }).click();
  await control('Name').fill('Team Slack');
  await control('Kind').selectOption('SLACK');
  await control('URL').fill(`${receiverBase}/slack/T000/B000/secret-part`);
  await control('Run failed').uncheck();
  await control('Export auto-paused').uncheck();
  await control('Export recovered').uncheck();
  await control('Data staler than N intervals').check();
  await control('Stale after (intervals)').fill('2');
  await form().getByRole('button', { name: 'Create channel' }).click();
  await channelCard('Team Slack').getByText(/data staler than 2 intervals/).waitFor();
  expect(await channelCard('Team Slack').textContent()).not.toContain('secret-part');
  await page.getByRole('button', { name: 'Edit Team Slack' }).click();
  expect(await control('URL').inputValue()).toBe('');
  await control('Name').fill('Team Slack alerts');
  await form().getByRole('button', { name: 'Save channel' }).click();
  await page.getByRole('button', { name: 'Send test notification to Team Slack alerts' }).click();
  await channelCard('Team Slack alerts').locator('.test-result.ok', { hasText: 'Delivered' }).waitFor();
  const slack = await waitFor('the Slack request', () => received.find((r) => r.path === '/slack/T000/B000/secret-part'));
  expect(JSON.parse(slack.raw)).toMatchObject({ text: expect.stringContaining('test notification'), blocks: expect.any(Array) });

  // The secrets are not shown again after a reload.
  await page.reload();
  await channelCard('Ops hook').waitFor();
  expect(await page.getByRole('textbox', { name: 'Signing secret' }).count()).toBe(0);
  expect(await page.locator('main').textContent()).not.toContain(rotated);

  await page.waitForLoadState('networkidle');
  await shot(page, 'notifications');
  expect(await unlabelledControls()).toEqual([]);
  await page.getByRole('button', { name: 'Edit Ops hook' }).click();
  expect(await unlabelledControls()).toEqual([]);
  await fitsPhone('notifications-phone');
  await form().getByRole('button', { name: 'Cancel' }).click();

  // ---- from the export's page: its own channel and the team defaults ----
  await page.goto(`${server.origin}/exports/${exportId}`);
  await page.getByRole('link', { name: 'Notifications of Orders hourly' }).click();
  await page.getByRole('heading', { level: 1, name: 'Notifications of Orders hourly' }).waitFor();
  await channelCard('Ops hook').waitFor();
  await channelCard('On-call mail').waitFor();
  await page.getByRole('button', { name: 'New channel' }).click();
  expect(await control('Applies to').inputValue()).toBe(exportId);
  await form().getByRole('button', { name: 'Cancel' }).click();
  await fitsPhone('notifications-export-phone');

  // ---- deleted ----
  await page.getByRole('button', { name: 'Delete Old hook' }).click();
  await channelCard('Old hook').waitFor({ state: 'detached' });
  expect(nodes((await api('{ notificationChannels { edges { node { name } } } }')).notificationChannels).map((c: { name: string }) => c.name).sort()).toEqual(['On-call mail', 'Ops hook', 'Team Slack alerts']);

  expect(browser.blockedRequests).toEqual([]);
  // Chromium logs each refused input (GraphQL BAD_USER_INPUT answers 400) as a console error: the four provoked above.
  expect(browser.pageErrors.filter((e) => /status of 400/.test(e))).toHaveLength(4);
  expect(browser.pageErrors.filter((e) => !/status of 400/.test(e))).toEqual([]);
});
