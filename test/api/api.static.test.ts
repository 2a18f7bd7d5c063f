import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startApiHarness, type ApiHarness } from '../support/api';

let h: ApiHarness;
let dir: string;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outport-ui-'));
  fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>Outport</title>');
  fs.writeFileSync(path.join(dir, 'app.js'), 'console.log(1)');
  h = await startApiHarness({ staticDir: dir });
}, 60_000);
afterAll(async () => {
  await h?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('static UI mount', () => {
  it('serves files at /, falls back to index.html for app routes, and leaves /graphql alone', async () => {
    const base = h.url.replace(/\/graphql$/, '');
    expect(await (await fetch(`${base}/`)).text()).toContain('<title>Outport</title>');
    expect(await (await fetch(`${base}/app.js`)).text()).toBe('console.log(1)');
    const route = await fetch(`${base}/exports/123`, { headers: { accept: 'text/html' } });
    expect(await route.text()).toContain('<title>Outport</title>');
    const gql = await h.gql(h.a.token, '{ team { id } }');
    expect(gql.data?.team.id).toBe(String(h.a.id));
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });
});
