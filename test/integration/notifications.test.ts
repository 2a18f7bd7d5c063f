/**
 * Issue 16.7, end to end on the real worker and scheduler: notification channels deliver signed webhooks (retried
 * after a receiver fails), Slack-shaped messages and SMTP email to real receivers started here; a burst of failures
 * sends one message; recovery, slow runs and stale data are noticed (the last two with a controllable clock);
 * secrets never come back from the API.
 */
import http from 'node:http';
import { SMTPServer } from 'smtp-server';
import { verifySignature } from '../../src/notifications/signing';
import { generateEvents, insertEvents } from '../../src/source';
import { startAppHarness, type AppHarness } from '../support/app-harness';

const HOUR = 3_600_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  raw: string;
  body: Record<string, any>;
  at: number;
}

describe('notifications', () => {
  let h: AppHarness;
  let offsetMs = 0;
  const received: Received[] = [];
  /** Requests to a path are answered 500 this many times before succeeding. */
  const failuresLeft = new Map<string, number>();
  let receiver: http.Server;
  let base: string;
  const mails: { from: string; to: string[]; data: string }[] = [];
  let smtp: SMTPServer;
  let smtpPort: number;

  beforeAll(async () => {
    h = await startAppHarness({
      roles: 'api,worker,scheduler',
      env: { AUTO_PAUSE_FAILURES: '100', AUTO_PAUSE_WINDOW: '100', WORKER_CONCURRENCY: '2' },
      overrides: { clock: { now: () => new Date(Date.now() + offsetMs) } },
    });
    receiver = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => (raw += c)).on('end', () => {
        const left = failuresLeft.get(req.url!) ?? 0;
        received.push({ path: req.url!, headers: req.headers, raw, body: JSON.parse(raw), at: Date.now() });
        if (left > 0) {
          failuresLeft.set(req.url!, left - 1);
          res.statusCode = 500;
          return res.end('receiver down');
        }
        res.end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(receiver.address() as { port: number }).port}`;
    smtp = new SMTPServer({
      allowInsecureAuth: true,
      disabledCommands: ['STARTTLS'],
      onAuth(auth, _session, cb) {
        if (auth.username === 'outport' && auth.password === 'smtp-pass-123') return cb(null, { user: 'outport' });
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
  }, 120_000);
  afterAll(async () => {
    await h?.stop();
    receiver?.close();
    await new Promise<void>((r) => (smtp ? smtp.close(() => r()) : r()));
  });

  let seed = 7000;
  async function makeExport(name: string, password: string, start: Date, hours: number) {
    await insertEvents(h.ch, { database: h.chDatabase }, generateEvents({ seed: seed++, teamId: h.teamId, count: 5 * hours, start, stepMicros: 720_000_000 }));
    const { createDestination } = await h.gql(`mutation($c: JSONObject!) { createDestination(input: { name: "d", type: "postgres", config: $c }) { id } }`, {
      c: { ...h.destination, password, table_name: `t_${name}`, ssl_mode: 'disable' },
    });
    const { createBatchExport } = await h.gql(
      `mutation($d: ID!, $n: String!) { createBatchExport(input: { name: $n, destinationId: $d, model: EVENTS, interval: HOUR }) { id } }`,
      { d: createDestination.id, n: name },
    );
    return { exportId: createBatchExport.id as string, destinationId: createDestination.id as string };
  }
  async function backfill(exportId: string, start: Date, hours: number) {
    const { createBackfill } = await h.gql(`mutation($e: ID!, $s: DateTimeISO!, $t: DateTimeISO!) { createBackfill(input: { batchExportId: $e, startAt: $s, endAt: $t }) { id } }`, {
      e: exportId,
      s: start.toISOString(),
      t: new Date(start.getTime() + hours * HOUR).toISOString(),
    });
    return createBackfill.id as string;
  }
  const CHANNEL_FIELDS = `id name kind batchExportId events url email { smtpHost smtpPort smtpSecure smtpUser from to } slowRunSeconds staleIntervals rateLimitSeconds enabled`;
  async function channel(input: Record<string, unknown>) {
    const { createNotificationChannel } = await h.gql(
      `mutation($i: CreateNotificationChannelInput!) { createNotificationChannel(input: $i) { signingSecret channel { ${CHANNEL_FIELDS} } } }`,
      { i: input },
    );
    return createNotificationChannel as { signingSecret: string | null; channel: { id: string } & Record<string, unknown> };
  }
  const at = (path: string) => received.filter((r) => r.path === path);
  const deliveries = async (channelId: string) =>
    (await h.gql(`query($c: ID) { notificationDeliveries(channelId: $c) { edges { node { id event status attempts lastError suppressedCount text } } } }`, { c: channelId }))
      .notificationDeliveries.edges.map((e: { node: unknown }) => e.node) as { id: string; event: string; status: string; attempts: number; lastError: string | null; suppressedCount: number; text: string }[];

  it('signs webhooks with the secret shown once, and retries after the receiver fails twice', async () => {
    const start = new Date('2026-08-01T00:00:00Z');
    const { exportId } = await makeExport('signed', 'wrong-password', start, 1);
    const { signingSecret, channel: ch } = await channel({ name: 'ops hook', kind: 'WEBHOOK', url: `${base}/signed`, batchExportId: exportId, events: ['RUN_FAILED'] });
    expect(signingSecret).toMatch(/^whsec_/);
    failuresLeft.set('/signed', 2);
    await backfill(exportId, start, 1);
    const ok = await h.waitFor('a delivered webhook after two failures', async () => at('/signed').length >= 3 && at('/signed'), 40_000);
    expect(ok).toHaveLength(3);
    for (const r of ok) {
      expect(verifySignature(signingSecret!, r.raw, r.headers['x-outport-signature'] as string, Math.floor(Date.now() / 1000))).toBe(true);
      expect(verifySignature('whsec_wrong', r.raw, r.headers['x-outport-signature'] as string, Math.floor(Date.now() / 1000))).toBe(false);
    }
    expect(ok[2].at - ok[1].at).toBeGreaterThan(ok[1].at - ok[0].at); // backoff grows
    expect(new Set(ok.map((r) => r.headers['x-outport-delivery'])).size).toBe(1); // one delivery id: receivers can dedupe
    expect(ok[2].body).toMatchObject({ event: 'run_failed', batchExportId: exportId, batchExportName: 'signed', text: expect.stringMatching(/failed.*password/i) });
    const [d] = await deliveries(ch.id);
    expect(d).toMatchObject({ status: 'DELIVERED', attempts: 3, event: 'RUN_FAILED' });
  }, 60_000);

  it('a burst of 10 failures sends one message, counting the rest for one summary', async () => {
    const start = new Date('2026-08-02T00:00:00Z');
    const { exportId } = await makeExport('burst', 'wrong-password', start, 10);
    const { channel: ch } = await channel({ name: 'burst hook', kind: 'WEBHOOK', url: `${base}/burst`, batchExportId: exportId, events: ['RUN_FAILED'] });
    await backfill(exportId, start, 10);
    await h.waitFor('10 failed runs', async () => {
      const [{ n }] = await h.app.dataSource.query(`SELECT count(*)::int AS n FROM runs WHERE batch_export_id = $1 AND status = 'Failed'`, [exportId]);
      return n === 10;
    }, 60_000);
    await h.waitFor('the first message', async () => at('/burst').length >= 1);
    await sleep(3000);
    expect(at('/burst')).toHaveLength(1);
    const list = await deliveries(ch.id);
    const first = list.find((d) => d.status === 'DELIVERED')!;
    expect(first.suppressedCount).toBe(9);
    const summary = list.find((d) => d.status === 'PENDING')!;
    expect(summary.text).toMatch(/9 more "Run failed" notices for export "burst"/);
  }, 90_000);

  it('sends Slack-shaped test messages, emails over SMTP, and never returns secrets', async () => {
    const slack = await channel({ name: 'slack', kind: 'SLACK', url: `${base}/services/T000/B000/slack-token-xyz` });
    expect(slack.signingSecret).toBeNull();
    const { sendTestNotification: slackTest } = await h.gql(`mutation($id: ID!) { sendTestNotification(id: $id) { status attempts lastError text } }`, { id: slack.channel.id });
    expect(slackTest).toMatchObject({ status: 'DELIVERED', attempts: 1, lastError: null });
    const [msg] = at('/services/T000/B000/slack-token-xyz');
    expect(msg.body.text).toMatch(/test notification/);
    expect(msg.body.blocks.map((b: { type: string }) => b.type)).toEqual(['header', 'section', 'context']);

    const email = await channel({
      name: 'on-call mail',
      kind: 'EMAIL',
      events: ['RUN_FAILED', 'EXPORT_RECOVERED'],
      email: { smtpHost: '127.0.0.1', smtpPort, smtpSecure: false, smtpUser: 'outport', smtpPassword: 'smtp-pass-123', from: 'outport@example.com', to: ['oncall@example.com'] },
    });
    const { sendTestNotification: mailTest } = await h.gql(`mutation($id: ID!) { sendTestNotification(id: $id) { status lastError } }`, { id: email.channel.id });
    expect(mailTest).toEqual({ status: 'DELIVERED', lastError: null });
    expect(mails).toHaveLength(1);
    expect(mails[0]).toMatchObject({ from: 'outport@example.com', to: ['oncall@example.com'] });
    expect(mails[0].data).toMatch(/Subject: \[Outport\] Test notification/);

    const { updateNotificationChannel } = await h.gql(`mutation($i: UpdateNotificationChannelInput!) { updateNotificationChannel(input: $i) { email { smtpUser } } }`, {
      i: { id: email.channel.id, email: { smtpHost: '127.0.0.1', smtpPort, smtpUser: 'outport', smtpPassword: 'wrong', from: 'outport@example.com', to: ['oncall@example.com'] } },
    });
    expect(updateNotificationChannel.email.smtpUser).toBe('outport');
    const { sendTestNotification: refused } = await h.gql(`mutation($id: ID!) { sendTestNotification(id: $id) { status lastError } }`, { id: email.channel.id });
    expect(refused.status).toBe('FAILED');
    expect(refused.lastError).toMatch(/user name or password/);

    const hook = await channel({ name: 'secret check', kind: 'WEBHOOK', url: `${base}/x` });
    const everything = JSON.stringify(await h.gql(`query { notificationChannels { edges { node { ${CHANNEL_FIELDS} } } } notificationDeliveries(first: 200) { edges { node { text lastError } } } }`));
    for (const secret of [hook.signingSecret!, 'slack-token-xyz', 'smtp-pass-123']) expect(everything).not.toContain(secret);
    const stored = JSON.stringify(await h.app.dataSource.query(`SELECT * FROM notification_channels`));
    for (const secret of [hook.signingSecret!, 'slack-token-xyz', 'smtp-pass-123']) expect(stored).not.toContain(secret);
  }, 60_000);

  it('tells that an export recovered: the first success after a failure', async () => {
    const start = new Date('2026-08-03T00:00:00Z');
    const { exportId, destinationId } = await makeExport('recovering', 'wrong-password', start, 1);
    await channel({ name: 'recovery', kind: 'WEBHOOK', url: `${base}/recovery`, batchExportId: exportId, events: ['RUN_FAILED', 'EXPORT_RECOVERED'] });
    const backfillId = await backfill(exportId, start, 1);
    const [run] = await h.app.dataSource.query(`SELECT id FROM runs WHERE backfill_id = $1`, [backfillId]);
    await h.waitFor('the failure notice', async () => at('/recovery').some((r) => r.body.event === 'run_failed'));
    await h.gql(`mutation($id: ID!, $c: JSONObject!) { updateDestination(input: { id: $id, config: $c }) { id } }`, { id: destinationId, c: { password: h.destination.password } });
    await h.gql(`mutation($r: ID!) { retryRun(id: $r) { id } }`, { r: run.id });
    const recovered = await h.waitFor('the recovery notice', async () => at('/recovery').find((r) => r.body.event === 'export_recovered'));
    expect(recovered.body).toMatchObject({ batchExportId: exportId, runId: run.id, text: expect.stringMatching(/recovered/) });
    await sleep(1500);
    expect(at('/recovery').map((r) => r.body.event)).toEqual(['run_failed', 'export_recovered']);
  }, 60_000);

  it('notices a run slower than the threshold and data staler than N intervals, once each (controllable clock)', async () => {
    const { exportId } = await makeExport('watched', h.destination.password, new Date('2026-08-04T00:00:00Z'), 1);
    await channel({ name: 'slow', kind: 'WEBHOOK', url: `${base}/slow`, batchExportId: exportId, events: ['RUN_SLOW'], slowRunSeconds: 600 });
    await channel({ name: 'stale', kind: 'WEBHOOK', url: `${base}/stale`, batchExportId: exportId, events: ['EXPORT_STALE'], staleIntervals: 2 });
    // A run a worker holds (heartbeating) without finishing: what a stuck destination looks like.
    const [run] = await h.app.dataSource.query(
      `INSERT INTO runs (team_id, batch_export_id, interval_start, interval_end, status, trigger, attempt, started_at, heartbeat_at, worker_id)
       VALUES ($1, $2, '2026-08-04T00:00:00Z', '2026-08-04T01:00:00Z', 'Running', 'backfill', 1, now(), now() + interval '1 day', 'holding') RETURNING id`,
      [h.teamId, exportId],
    );
    await sleep(2500); // several ticks at the real time: nothing is slow or stale yet
    expect(at('/slow')).toHaveLength(0);
    expect(at('/stale')).toHaveLength(0);

    offsetMs = 20 * 60_000;
    const slow = await h.waitFor('the slow-run notice', async () => at('/slow')[0]);
    expect(slow.body).toMatchObject({ event: 'run_slow', runId: run.id, stillRunning: true, text: expect.stringMatching(/has been running for 20 min, over the 10 min threshold/) });
    expect(at('/stale')).toHaveLength(0); // 20 minutes behind is not 2 intervals

    offsetMs = 3 * HOUR + 5 * 60_000;
    const stale = await h.waitFor('the stale-data notice', async () => at('/stale')[0]);
    expect(stale.body).toMatchObject({ event: 'export_stale', batchExportId: exportId, text: expect.stringMatching(/stale.*more than 2 intervals/) });
    // Nothing completed, or (a scheduled run the moved clock created may have) but more than 2 intervals ago.
    if (stale.body.lastCompletedEnd !== null) {
      expect(Date.now() + offsetMs - new Date(stale.body.lastCompletedEnd).getTime()).toBeGreaterThan(2 * HOUR);
    }
    await sleep(3000); // more ticks in the same stale episode
    expect(at('/stale')).toHaveLength(1);
    // Once for the held run. (With the clock moved on, the scheduler's new runs may be slow in their own right:
    // their start is the database's real time, hours "ago" for the moved clock.)
    expect(at('/slow').filter((r) => r.body.runId === run.id)).toHaveLength(1);
  }, 60_000);
});
