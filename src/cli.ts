#!/usr/bin/env node
/**
 * `outport`: the operator's command line. It talks to the metadata store directly (DATABASE_URL, or the embedded
 * Postgres under OUTPORT_DATA_DIR: the running one when `npm start` is up, else started for the command), so it
 * works when no API token is left: creating teams, recovering a lost token, migrating, looking at runs and queues.
 */
import 'reflect-metadata';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { ConfigError, loadConfig } from './config';
import { publishChange } from './store/event-bus';
import { embeddedPostgresPassword, resolveDataDir, startEmbeddedPostgres } from './store/embedded-postgres';
import { migrateMetadataStore } from './store/migrate';
import { displayPrefix, generateToken, hashToken } from './store/tokens';

const USAGE = `Usage: outport <command> [options]

Commands:
  teams list                                   List teams.
  teams create <name>                          Create a team and print a read/write API token for it (shown once).
  tokens list --team <id>                      List a team's API tokens (prefixes only; tokens are stored hashed).
  tokens create --team <id> [--name <name>] [--read-only]
                                               Create an API token (also how to recover from a lost one).
  tokens revoke <token-id>                     Revoke a token; its open subscriptions end within seconds.
  migrate                                      Bring the metadata store's schema up to date.
  status                                       Runs by status, queued jobs, oldest pending run, stale runs.
  help                                         This text.

The store is DATABASE_URL when set, otherwise the embedded Postgres under OUTPORT_DATA_DIR (default .outport).`;

export class UsageError extends Error {}

interface Store {
  client: Client;
  url: string;
  close(): Promise<void>;
}

/** The running embedded Postgres writes its port on line 4 of postmaster.pid; reuse it rather than start a second one. */
function runningEmbeddedPort(dataDir: string): number | undefined {
  try {
    const lines = fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n');
    const pid = Number(lines[0]);
    process.kill(pid, 0);
    const port = Number(lines[3]);
    return Number.isInteger(port) && port > 0 ? port : undefined;
  } catch {
    return undefined;
  }
}

async function openStore(): Promise<Store> {
  const config = loadConfig();
  let url = config.DATABASE_URL;
  let stopEmbedded: (() => Promise<void>) | undefined;
  if (!url) {
    const wanted = path.join(config.OUTPORT_DATA_DIR, 'postgres');
    const dataDir = resolveDataDir(wanted);
    if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
      throw new UsageError(`No metadata store found: DATABASE_URL is unset and ${wanted} holds no embedded Postgres. Run \`npm start\` once, or set DATABASE_URL.`);
    }
    const port = runningEmbeddedPort(dataDir);
    if (port) url = `postgres://postgres:${encodeURIComponent(embeddedPostgresPassword(wanted))}@127.0.0.1:${port}/outport`;
    else {
      const pg = await startEmbeddedPostgres({ dataDir: wanted });
      url = pg.url.replace(/\/postgres$/, '/outport');
      stopEmbedded = () => pg.stop();
    }
  }
  const client = new Client({ connectionString: url, application_name: 'outport-cli' });
  try {
    await client.connect();
  } catch (err) {
    await stopEmbedded?.();
    throw err;
  }
  return {
    client,
    url,
    async close() {
      await client.end().catch(() => undefined);
      await stopEmbedded?.();
    },
  };
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i === -1) return undefined;
  const v = args[i + 1];
  if (v === undefined || v.startsWith('--')) throw new UsageError(`${name} needs a value.`);
  return v;
}

function teamIdOption(args: string[]): number {
  const raw = option(args, '--team');
  const id = Number(raw);
  if (raw === undefined || !Number.isSafeInteger(id) || id <= 0) throw new UsageError('--team <id> is required: a team id from `outport teams list`.');
  return id;
}

function table(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return '(none)';
  const cols = Object.keys(rows[0]);
  const cell = (v: unknown) => (v instanceof Date ? v.toISOString() : v === null || v === undefined ? '' : String(v));
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i])).join('  ').trimEnd();
  return [line(cols), line(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => line(cols.map((c) => cell(r[c]))))].join('\n');
}

async function createToken(c: Client, teamId: number, name: string, scopes: string[]): Promise<string> {
  const { rowCount } = await c.query(`SELECT 1 FROM teams WHERE id = $1`, [teamId]);
  if (!rowCount) throw new UsageError(`No team ${teamId}: see \`outport teams list\`.`);
  const token = generateToken();
  await c.query(`INSERT INTO api_tokens (team_id, name, token_hash, display_prefix, scopes) VALUES ($1, $2, $3, $4, $5)`, [
    teamId,
    name,
    hashToken(token),
    displayPrefix(token),
    scopes,
  ]);
  return token;
}

/** Runs one command; returns what to print. Exported for tests. */
export async function runCommand(args: string[]): Promise<string> {
  const [group, action, ...rest] = args;
  if (!group || group === 'help' || group === '--help' || group === '-h') return USAGE;
  if (group === 'migrate') {
    const config = loadConfig();
    if (config.DATABASE_URL) {
      await migrateMetadataStore(config.DATABASE_URL);
    } else {
      const store = await openStore();
      try {
        await migrateMetadataStore(store.url);
      } finally {
        await store.close();
      }
    }
    return 'The metadata store is up to date.';
  }
  const known: Record<string, string[]> = { teams: ['list', 'create'], tokens: ['list', 'create', 'revoke'], status: [''] };
  if (!(group in known)) throw new UsageError(`Unknown command "${group}".\n\n${USAGE}`);
  if (group !== 'status' && !known[group].includes(action ?? '')) throw new UsageError(`Unknown command "${group} ${action ?? ''}".\n\n${USAGE}`);

  const store = await openStore();
  const c = store.client;
  try {
    if (group === 'teams' && action === 'list') {
      const { rows } = await c.query(
        `SELECT t.id, t.name, t.created_at, (SELECT count(*) FROM batch_exports e WHERE e.team_id = t.id AND e.deleted_at IS NULL)::int AS exports
         FROM teams t ORDER BY t.id`,
      );
      return table(rows);
    }
    if (group === 'teams' && action === 'create') {
      const name = rest.filter((a) => !a.startsWith('--')).join(' ').trim();
      if (!name) throw new UsageError('teams create <name>: give the team a name.');
      const { rows } = await c.query(`INSERT INTO teams (name) VALUES ($1) RETURNING id`, [name]);
      const token = await createToken(c, rows[0].id, 'Created by outport teams create', ['read', 'write']);
      return `Team ${rows[0].id} "${name}" created.\nAPI token (read/write, shown once, stored hashed): ${token}`;
    }
    if (group === 'tokens' && action === 'list') {
      const { rows } = await c.query(
        `SELECT id, name, display_prefix AS prefix, array_to_string(scopes, ',') AS scopes, created_at, last_used_at, revoked_at
         FROM api_tokens WHERE team_id = $1 ORDER BY created_at`,
        [teamIdOption(rest)],
      );
      return table(rows);
    }
    if (group === 'tokens' && action === 'create') {
      const teamId = teamIdOption(rest);
      const scopes = rest.includes('--read-only') ? ['read'] : ['read', 'write'];
      const token = await createToken(c, teamId, option(rest, '--name') ?? 'Created by outport tokens create', scopes);
      return `API token for team ${teamId} (${scopes.join('/')}, shown once, stored hashed): ${token}`;
    }
    if (group === 'tokens' && action === 'revoke') {
      const id = rest[0];
      if (!id || !/^[0-9a-f-]{36}$/i.test(id)) throw new UsageError('tokens revoke <token-id>: the id column of `outport tokens list`.');
      const { rows } = await c.query(`UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, now()) WHERE id = $1 RETURNING team_id`, [id]);
      if (!rows.length) throw new UsageError(`No token ${id}.`);
      // The notification the API sends on revocation, so every API process closes that token's subscriptions.
      const notifier = { query: async <T>(sql: string, params?: unknown) => (await c.query(sql, params as unknown[])).rows as T };
      await publishChange(notifier, {
        kind: 'token-revoked',
        teamId: rows[0].team_id,
        tokenId: id,
        at: new Date().toISOString(),
      });
      return `Token ${id} revoked.`;
    }
    // status
    const [byStatus, jobs, oldest, stale] = await Promise.all([
      c.query(`SELECT status, count(*)::int AS runs FROM runs GROUP BY status ORDER BY status`),
      c.query(
        `SELECT count(*)::int AS queued, count(*) FILTER (WHERE locked_at IS NOT NULL)::int AS locked,
           count(*) FILTER (WHERE run_at <= now() AND locked_at IS NULL)::int AS ready
         FROM graphile_worker.jobs`,
      ),
      c.query(`SELECT id, batch_export_id, interval_start, created_at FROM runs WHERE status = 'Starting' ORDER BY created_at LIMIT 1`),
      c.query(`SELECT count(*)::int AS n FROM runs WHERE status = 'Running' AND heartbeat_at < now() - interval '60 seconds'`),
    ]);
    const o = oldest.rows[0];
    return [
      'Runs by status:',
      table(byStatus.rows),
      '',
      `Jobs: ${jobs.rows[0].queued} queued, ${jobs.rows[0].ready} ready to run, ${jobs.rows[0].locked} being worked on.`,
      o
        ? `Oldest pending run: ${o.id} (export ${o.batch_export_id}, interval ${new Date(o.interval_start).toISOString()}), waiting since ${new Date(o.created_at).toISOString()}.`
        : 'No pending runs.',
      `Running runs without a heartbeat for over 60 s: ${stale.rows[0].n}.`,
    ].join('\n');
  } finally {
    await store.close();
  }
}

if (require.main === module) {
  runCommand(process.argv.slice(2)).then(
    (out) => {
      process.stdout.write(out + '\n');
      process.exit(0);
    },
    (err: unknown) => {
      const usage = err instanceof UsageError || err instanceof ConfigError;
      process.stderr.write(`outport: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(usage ? 2 : 1);
    },
  );
}
