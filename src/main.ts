/**
 * Composition root: configuration -> services in the tsyringe container -> the roles this process runs
 * (api, scheduler, worker). `npm start` runs all three on embedded defaults.
 */
import 'reflect-metadata';
import fs from 'node:fs';
import path from 'node:path';
import { container } from 'tsyringe';
import { boot, type BootedApp } from './app';
import { ConfigError, loadConfig } from './config';
import { missingEmbeddedEngines } from './embedded-engines';
import { createLogger } from './logger';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
    const missingEngines = missingEmbeddedEngines(config);
    if (missingEngines) throw new ConfigError(missingEngines);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(err.message + '\n');
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.LOG_LEVEL);
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
  const lines = [`Outport is up in ${((Date.now() - started) / 1000).toFixed(1)} s (roles: ${config.OUTPORT_ROLES.join(', ')}).`];
  if (app.apiUrl) lines.push(`  GraphQL API:  ${app.apiUrl}   (dashboard: ${new URL('/', app.apiUrl).toString()})`);
  if (app.firstToken) {
    lines.push(`  API token (shown once, stored hashed):  ${app.firstToken}`);
    lines.push(`  Try:  curl -s ${app.apiUrl} -H 'authorization: Bearer ${app.firstToken}' -H 'content-type: application/json' -d '{"query":"{ batchExports { edges { node { id name } } } }"}'`);
    const tokenFile = path.join(config.OUTPORT_DATA_DIR, 'first-token.txt');
    fs.writeFileSync(tokenFile, app.firstToken + '\n', { mode: 0o600 });
    lines.push(`  (also written to ${tokenFile}, readable only by you)`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch((err: unknown) => {
  const why = err instanceof Error ? (err.stack ?? err.message) : err === undefined ? 'no reason was given (run with LOG_LEVEL=debug)' : String(err);
  process.stderr.write(`Outport failed to start: ${why}\n`);
  process.exit(1);
});
