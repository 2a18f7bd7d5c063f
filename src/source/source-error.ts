/**
 * Every failure of a read from ClickHouse leaves the source as a `SourceError`, whoever asked (a run, the API's
 * estimate or preview, a custom query's check), so each caller can say the SOURCE failed: a run retries it as a
 * reading failure, the API answers SOURCE_UNAVAILABLE instead of an anonymous internal error.
 */
import { ClickHouseError } from '@clickhouse/client';
import { classifyCommonError, SourceError } from '../sdk/classify';

export function asSourceError(err: unknown): SourceError {
  if (err instanceof SourceError) return err;
  return new SourceError(`Reading from ClickHouse failed: ${classifyCommonError(err).message}`, { cause: err });
}

/**
 * True when ClickHouse itself answered with an error (its `Code: N. DB::Exception`): the query's problem, which a
 * caller checking a user's query reports as that query's. Anything else (refused, reset, timed out) never reached
 * an answer and is the source's.
 */
export function isClickHouseAnswer(err: unknown): boolean {
  return err instanceof ClickHouseError || (err instanceof Error && /^Code: \d+\. /.test(err.message));
}

/** Runs one read; a failure that is not ClickHouse's answer to the query becomes a `SourceError`. */
export async function reachingClickHouse<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (isClickHouseAnswer(err)) throw err;
    throw asSourceError(err);
  }
}
