/** Starts the embedded ClickHouse for the suite. (Filled in by the source work; returns nothing until then.) */
export async function startTestClickHouse(_dir: string): Promise<{ url: string; stop(): Promise<void> } | undefined> {
  return undefined;
}
