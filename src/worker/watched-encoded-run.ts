/**
 * The host's own record of a source failure on the byte path. A plugin sees ClickHouse's failures as SourceErrors
 * coming out of the streams it reads, and may wrap them in its own error without keeping them as `cause` (its
 * classifier sees a network code and calls it a destination failure). The host then could not tell that READING
 * failed. So the EncodedRun handed to the plugin reports every SourceError it throws to the host first, as the row
 * path's iterator does.
 */
import { isSourceError, type SourceError } from '../sdk/classify';
import type { EncodedPart } from '../sdk/destination';
import type { HostEncodedRun } from '../source/encoded';

export function watchSourceFailures(run: HostEncodedRun, onFailure: (err: SourceError) => void): HostEncodedRun {
  const seen = (err: unknown): never => {
    if (isSourceError(err)) onFailure(err);
    throw err;
  };
  const watched = <A extends unknown[], T>(fn: (...args: A) => Promise<T>) => (...args: A) => fn(...args).catch(seen);
  const watchedPart = (part: EncodedPart): EncodedPart => ({
    chunks: {
      [Symbol.asyncIterator]() {
        const inner = part.chunks[Symbol.asyncIterator]();
        return {
          next: () => inner.next().catch(seen),
          return: (value?: unknown) => (inner.return ? inner.return(value).catch(seen) : Promise.resolve({ done: true as const, value: undefined })),
          throw: (err?: unknown) => (inner.throw ? inner.throw(err).catch(seen) : Promise.reject(err)),
        } as AsyncIterator<Uint8Array>;
      },
    },
    finished: watched(() => part.finished()),
  });
  return {
    ...run,
    stats: watched(() => run.stats()),
    replacements: watched(() => run.replacements()),
    open: (slice) => run.open(slice).then(watchedPart, seen),
  };
}
