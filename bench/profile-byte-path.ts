/**
 * Where the byte path's time goes, on the benchmark's data: the data stream alone (bytes discarded), the counting
 * aggregate alone, and both at once as a run does them. `node dist/bench/profile-byte-path.js [events]`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { WireFormat } from '../src/sdk';
import { EVENTS_INTERVAL, generateEventsData, TEAM_ID } from './data';
import { elapsed, queryFor, sourceFor } from './limits';
import { startServices } from './services';

async function drain(run: ReturnType<ReturnType<typeof sourceFor>['encodedRun']>): Promise<number> {
  const part = await run.open();
  let bytes = 0;
  for await (const c of part.chunks) bytes += c.byteLength;
  await part.finished();
  return bytes;
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 1_000_000);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'outport-bytes-profile-'));
  const s = await startServices(root);
  try {
    await generateEventsData(s.ch, n, () => undefined);
    const source = sourceFor(s);
    const q = queryFor('events', EVENTS_INTERVAL, TEAM_ID);
    const formats: WireFormat[] = [{ format: 'parquet', compression: 'zstd' }, { format: 'jsonl', compression: 'gzip' }];
    for (const format of formats) {
      const label = `${format.format} ${format.compression}`;
      let t0 = process.hrtime.bigint();
      const statsRun = source.encodedRun(q, format);
      await statsRun.stats();
      const statsSeconds = elapsed(t0);
      t0 = process.hrtime.bigint();
      // A run whose aggregate is already known: the stream alone.
      const bytes = await drain({ ...statsRun, stats: statsRun.stats });
      const streamSeconds = elapsed(t0);
      t0 = process.hrtime.bigint();
      await drain(source.encodedRun(q, format));
      const bothSeconds = elapsed(t0);
      console.log(JSON.stringify({ format: label, rows: n, outputMB: Math.round(bytes / 1e6), statsSeconds, streamSeconds, bothSeconds, load: os.loadavg() }));
    }
  } finally {
    await s.stop();
    fs.rmSync(root, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
