/**
 * Puts bytes that are not valid UTF-8 into ClickHouse String columns, which no JS string can carry: write
 * `<<FF>>` (hex bytes) where the bytes go, and the rows pass through a twin table where ClickHouse turns each
 * marker into its raw bytes.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { insertEvents, type SourceEvent } from '../../src/source';

const MARKER = /<<([0-9A-F]{2}(?:[0-9A-F]{2})*)>>/g;
const TEXT_COLUMNS = ['event', 'distinct_id', 'properties', 'person_properties', 'elements_chain'] as const;

/** `<<C328>>` -> a ClickHouse string literal holding the bytes C3 28. */
function bytesLiteral(hex: string): string {
  return `'${hex.replace(/../g, (b) => `\\x${b}`)}'`;
}

export async function insertEventsWithRawBytes(client: ClickHouseClient, database: string, events: readonly SourceEvent[]): Promise<void> {
  const twin = `raw_bytes_${Math.random().toString(36).slice(2, 10)}`;
  await client.command({ query: `CREATE TABLE ${database}.${twin} AS ${database}.events` });
  try {
    await insertEvents(client, { database, events: twin }, events);
    const markers = new Set<string>();
    for (const e of events) for (const c of TEXT_COLUMNS) for (const m of String(e[c] ?? '').matchAll(MARKER)) markers.add(m[1]);
    const decode = (column: string) =>
      [...markers].reduce((expr, hex) => `replaceAll(${expr}, '<<${hex}>>', ${bytesLiteral(hex)})`, column) + ` AS ${column}`;
    await client.command({
      query: `INSERT INTO ${database}.events SELECT * REPLACE (${TEXT_COLUMNS.map(decode).join(', ')}) FROM ${database}.${twin}`,
    });
  } finally {
    await client.command({ query: `DROP TABLE IF EXISTS ${database}.${twin}` });
  }
}
