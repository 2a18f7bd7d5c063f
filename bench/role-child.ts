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
  // The breakdown of the largest resident set seen: says whether a peak is V8 heap, buffers or native memory.
  let peak = process.memoryUsage();
  const sampler = setInterval(() => {
    const now = process.memoryUsage();
    if (now.rss > peak.rss) peak = now;
  }, 100);
  sampler.unref();
  process.on('message', (m: { type?: string }) => {
    if (m?.type === 'stop') void stop();
    if (m?.type === 'memory') process.send?.({ type: 'memory', peak });
  });
  process.on('disconnect', () => void stop());
  process.send?.({ type: 'ready', apiUrl: app.apiUrl });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
