'use strict';
// Streams one events run through ClickHouseSource in a process of its own and reports rows, rows/s and peak
// RSS as JSON on stdout, so the measurement is not polluted by jest. SOURCE_ROOT is a directory holding the
// source compiled to JS (src/source/*.js, src/sdk/models.js): loading the TypeScript compiler here would add
// ~50 MB to the very number being measured. Env: CH_URL, CH_DATABASE, TEAM_ID, START, END, BATCH_SIZE.
const path = require('node:path');
const { createClient } = require('@clickhouse/client');
const { ClickHouseSource } = require(path.join(process.env.SOURCE_ROOT, 'src/source/source.js'));
const { parseSourceConfig } = require(path.join(process.env.SOURCE_ROOT, 'src/source/config.js'));

(async () => {
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const client = createClient({ url: process.env.CH_URL, request_timeout: 600_000 });
  const source = new ClickHouseSource(client, parseSourceConfig({ url: process.env.CH_URL, database: process.env.CH_DATABASE }));
  const q = { teamId: Number(process.env.TEAM_ID), model: 'events', interval: { start: process.env.START, end: process.env.END } };
  const t0 = Date.now();
  let rows = 0;
  let bytes = 0;
  for await (const batch of source.stream(q, { batchSize: Number(process.env.BATCH_SIZE || 10000) })) {
    rows += batch.rows.length;
    bytes += batch.sizeBytes;
  }
  const ms = Date.now() - t0;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  await client.close();
  process.stdout.write(JSON.stringify({ rows, bytes, ms, rowsPerSecond: Math.round((rows / ms) * 1000), peakRssMb: Math.round(peak / 2 ** 20) }) + '\n');
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
