/**
 * `npm run seed -- --events 1000000 [--teams 3] [--persons 1000] [--url http://localhost:8123] [--database posthog]
 *   [--seed 42] [--start 2024-01-01T00:00:00Z] [--data-dir ./.outport/clickhouse]`
 *
 * Fills PostHog-shaped tables with deterministic data: bulk events generated inside ClickHouse, persons with
 * history, and one batch of hostile events per team. Without --url it starts the embedded ClickHouse on
 * --data-dir and stops it when done.
 */
import { createClient } from '@clickhouse/client';
import path from 'node:path';
import { startEmbeddedClickHouse } from './embedded-clickhouse';
import { generatePersons, hostileEvents, insertBulkEvents, insertEvents, insertPersons } from './generator';
import { createSourceTables } from './schema';

function parseArgs(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m) throw new Error(`unexpected argument ${JSON.stringify(argv[i])} (options look like --events 1000)`);
    out[m[1]] = m[2] ?? argv[++i] ?? '';
  }
  return out;
}

function int(args: Record<string, string>, name: string, fallback: number): number {
  const v = args[name] === undefined ? fallback : Number(args[name]);
  if (!Number.isSafeInteger(v) || v < 0) throw new Error(`--${name} must be a non-negative integer (got ${args[name]})`);
  return v;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const events = int(args, 'events', 100_000);
  const teams = Math.max(1, int(args, 'teams', 1));
  const persons = int(args, 'persons', Math.min(10_000, Math.ceil(events / 100)));
  const seed = int(args, 'seed', 42);
  const database = args.database ?? 'posthog';
  const start = new Date(args.start ?? '2024-01-01T00:00:00Z');
  if (Number.isNaN(start.getTime())) throw new Error(`--start must be an ISO-8601 time (got ${args.start})`);
  const embedded = args.url ? undefined : await startEmbeddedClickHouse({ dataDir: path.resolve(args['data-dir'] ?? '.outport/clickhouse') });
  const url = args.url ?? embedded!.url;
  const client = createClient({
    url,
    request_timeout: 3_600_000,
    clickhouse_settings: { send_progress_in_http_headers: 1, http_headers_progress_interval_ms: '110000' },
  });
  try {
    const t0 = Date.now();
    await createSourceTables(client, { database });
    const names = { database };
    for (let offset = 0; offset < events; offset += 1_000_000) {
      await insertBulkEvents(client, names, { seed, count: Math.min(1_000_000, events - offset), offset, teams, start });
    }
    for (let team = 1; team <= teams; team++) {
      await insertPersons(client, names, generatePersons({ seed: seed + team, teamId: team, persons: Math.ceil(persons / teams), start }));
      await insertEvents(client, names, hostileEvents({ seed: seed + team, teamId: team, start }));
    }
    console.log(`seeded ${events} events, ${persons} persons, ${teams} team(s) into ${database} at ${url} in ${Date.now() - t0} ms`);
  } finally {
    await client.close();
    await embedded?.stop();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
