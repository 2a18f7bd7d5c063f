/**
 * Issue 12.4 at the API: a team's local-files destination cannot point at another team's folder. '..' is refused
 * when the destination is saved (BAD_USER_INPUT naming path); absolute paths and symbolic links leading out are
 * refused by testDestination as a config error naming path, and team A's files are untouched.
 */
import fs from 'node:fs';
import path from 'node:path';
import { startApiHarness, type ApiHarness } from '../support/api';

let h: ApiHarness;
beforeAll(async () => {
  h = await startApiHarness();
}, 60_000);
afterAll(async () => {
  await h?.stop();
  if (h) fs.rmSync(h.localFilesRoot, { recursive: true, force: true });
});

const CREATE = `mutation($config: JSONObject!) { createDestination(input: { name: "files", type: "local-files", config: $config }) { id config } }`;
const TEST = `mutation($id: ID!) { testDestination(id: $id) { ok errorKind message } }`;

it("keeps each team's local-files destinations inside its own folder under OUTPORT_LOCAL_FILES_ROOT", async () => {
  const teamA = path.join(h.localFilesRoot, `team-${h.a.id}`);
  const teamB = path.join(h.localFilesRoot, `team-${h.b.id}`);
  fs.mkdirSync(teamA, { recursive: true });
  fs.writeFileSync(path.join(teamA, 'a-data.jsonl'), '{"row":1}\n');

  const dotdot = await h.gql(h.b.token, CREATE, { config: { path: `../team-${h.a.id}` } });
  expect(dotdot.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
  expect(JSON.stringify(dotdot.errors)).toMatch(/path/);

  fs.mkdirSync(teamB, { recursive: true });
  fs.symlinkSync(teamA, path.join(teamB, 'link-to-a'));
  for (const outside of [teamA, h.localFilesRoot, 'link-to-a', 'link-to-a/sub']) {
    const { createDestination } = await h.ok(h.b.token, CREATE, { config: { path: outside } });
    const { testDestination } = await h.ok(h.b.token, TEST, { id: createDestination.id });
    expect({ outside, ...testDestination }).toMatchObject({ outside, ok: false, errorKind: 'CONFIG', message: expect.stringMatching(/^path .*outside your team's folder/) });
  }

  // The team's own folder works, relative or absolute.
  for (const inside of ['.', 'warehouse/events', path.join(teamB, 'abs')]) {
    const { createDestination } = await h.ok(h.b.token, CREATE, { config: { path: inside } });
    expect(await h.ok(h.b.token, TEST, { id: createDestination.id })).toEqual({ testDestination: { ok: true, errorKind: null, message: null } });
  }
  expect(fs.existsSync(path.join(teamB, 'warehouse', 'events'))).toBe(true);
  expect(fs.readdirSync(teamA)).toEqual(['a-data.jsonl']);
});
