/**
 * A separate Outport process for the benchmark: boots the roles named in OUTPORT_ROLES through `boot()`, the same
 * composition root `npm start` uses, so the worker's memory and CPU are its own and can be measured from outside.
 * Reports `{ type: 'ready', apiUrl }` over IPC; stops cleanly on `{ type: 'stop' }` or when the parent goes away.
 */
import 'reflect-metadata';
import pino from 'pino';
import { container } from 'tsyringe';
import { boot } from '../src/app';
import { loadConfig } from '../src/config';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const app = await boot(config, pino({ level: config.LOG_LEVEL }), container.createChildContainer(), { skipFirstBoot: true });
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= app.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    ));
  process.on('message', (m: { type?: string }) => {
    if (m?.type === 'stop') void stop();
  });
  process.on('disconnect', () => void stop());
  process.send?.({ type: 'ready', apiUrl: app.apiUrl });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
