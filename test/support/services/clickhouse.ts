/** Starts the embedded ClickHouse (chdb in a child process, HTTP interface) for the suite. */
import { startEmbeddedClickHouse } from '../../../src/source/embedded-clickhouse';

export async function startTestClickHouse(dir: string): Promise<{ url: string; stop(): Promise<void> } | undefined> {
  return startEmbeddedClickHouse({ dataDir: dir, startTimeoutMs: 120_000 });
}
