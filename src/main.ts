/**
 * Composition root: configuration -> services in the tsyringe container -> the roles this process runs
 * (api, scheduler, worker). `npm start` runs all three on embedded defaults.
 */
import 'reflect-metadata';
import fs from 'node:fs';
import path from 'node:path';
import { container } from 'tsyringe';
import { boot, type BootedApp } from './app';
import { ConfigError, loadConfig, suspiciousVariables } from './config';
import { missingEmbeddedEngines } from './embedded-engines';
import { createLogger } from './logger';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env, { forServer: true });
    const missingEngines = missingEmbeddedEngines(config);
    if (missingEngines) throw new ConfigError(missingEngines);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(err.message + '\n');
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.LOG_LEVEL, 'outport', config.LOG_FORMAT);
  for (const v of suspiciousVariables(process.env)) {
    log.warn(
      { variable: v.name, meant: v.meant },
      v.meant ? `${v.name} is not an Outport setting and is ignored: did you mean ${v.meant}?` : `${v.name} is not an Outport setting and is ignored (see README, Configuration)`,
    );
  }
  const started = Date.now();
  let app: BootedApp | undefined;
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    await app?.stop().catch((err) => log.error({ err: String(err) }, 'error during shutdown'));
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  app = await boot(config, log, container);
  removeLegacyTokenFile(config.OUTPORT_DATA_DIR, log);
  const lines = [`Outport is up in ${((Date.now() - started) / 1000).toFixed(1)} s (roles: ${config.OUTPORT_ROLES.join(', ')}).`];
  if (app.apiUrl) lines.push(`  GraphQL API:  ${app.apiUrl}   (dashboard: ${new URL('/', app.apiUrl).toString()})`);
  if (app.firstToken) {
    lines.push(`  API token (shown once, stored hashed):  ${app.firstToken}`);
    lines.push(`  Try:  curl -s ${app.apiUrl} -H 'authorization: Bearer ${app.firstToken}' -H 'content-type: application/json' -d '{"query":"{ batchExports { edges { node { id name } } } }"}'`);
    // Never written to disk: a lost token is replaced with `outport tokens create` (README, Administration).
    lines.push('  (not stored anywhere in plain text: copy it now; if it is lost, run `npx outport tokens create --team 1`)');
  }
  process.stdout.write(lines.join('\n') + '\n');
}

/** Earlier versions wrote the first API token in plain text beside the data; the token stays valid, the file goes. */
function removeLegacyTokenFile(dataDir: string, log: ReturnType<typeof createLogger>): void {
  const file = path.join(dataDir, 'first-token.txt');
  if (!fs.existsSync(file)) return;
  fs.rmSync(file, { force: true });
  log.warn({ file }, 'removed the plain-text copy of the first API token; the token still works (a lost token is replaced with `outport tokens create`)');
}

main().catch((err: unknown) => {
  const why = err instanceof Error ? (err.stack ?? err.message) : err === undefined ? 'no reason was given (run with LOG_LEVEL=debug)' : String(err);
  process.stderr.write(`Outport failed to start: ${why}\n`);
  process.exit(1);
});
