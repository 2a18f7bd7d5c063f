/**
 * A real headless Chromium for the end-to-end tests: Debian's `chromium` at /usr/bin/chromium driven by
 * playwright-core, which never downloads a browser. Each launch gets a fresh profile directory, and every request
 * to a host other than the server under test is blocked and recorded (the dashboard must not touch the internet).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.OUTPORT_CHROMIUM_PATH || '/usr/bin/chromium';

const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];

export interface TestBrowser {
  context: BrowserContext;
  page: Page;
  /** Requests the page tried to make to any other origin than `allowedOrigin` (blocked). */
  blockedRequests: string[];
  /** Uncaught page errors and console errors. */
  pageErrors: string[];
  close(): Promise<void>;
}

export function assertChromiumInstalled(): void {
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}. The end-to-end tests drive a real headless Chromium and never download one: ` +
        'install it with `apt-get install -y chromium` (Debian/Ubuntu), or point OUTPORT_CHROMIUM_PATH at a Chromium binary.',
    );
  }
}

export async function launchBrowser(allowedOrigin: string, viewport = { width: 1280, height: 900 }): Promise<TestBrowser> {
  assertChromiumInstalled();
  const { chromium } = await import('playwright-core');
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'outport-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ARGS,
    viewport,
    locale: 'en-US',
    timezoneId: 'UTC',
  });
  const blockedRequests: string[] = [];
  const pageErrors: string[] = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(allowedOrigin) || url.startsWith('data:')) return route.continue();
    blockedRequests.push(url);
    return route.abort('blockedbyclient');
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // A failed fetch the test provokes on purpose (wrong token: 401) is logged by Chromium as a console error.
    if (m.type() === 'error' && !/status of 401/.test(m.text())) pageErrors.push(`console: ${m.text()}`);
  });
  return {
    context,
    page,
    blockedRequests,
    pageErrors,
    async close() {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
