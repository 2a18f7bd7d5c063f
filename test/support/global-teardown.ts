import fs from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  const svc = (globalThis as { __outportServices?: { root: string; stops: { stop(): Promise<void> }[] } }).__outportServices;
  if (!svc) return;
  await Promise.allSettled(svc.stops.map((s) => s.stop()));
  fs.rmSync(svc.root, { recursive: true, force: true });
}
