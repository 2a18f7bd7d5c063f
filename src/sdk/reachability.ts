/** A plain TCP reachability check: the `connect` step of destinations whose client joins connecting and signing in. */
import net from 'node:net';

/** Opens and closes a TCP connection to host:port; rejects with the socket's error (ECONNREFUSED, ENOTFOUND, ...). */
export function probeTcp(host: string, port: number, signal: AbortSignal, timeoutMs = 10_000): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const socket = net.connect({ host, port });
    const done = (err?: Error) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      if (err) reject(err);
      else resolve();
    };
    const onAbort = () => done(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    const timer = setTimeout(() => done(Object.assign(new Error(`no answer from ${host}:${port} within ${timeoutMs / 1000} s`), { code: 'ETIMEDOUT' })), timeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => done()).once('error', (err) => done(err));
  });
}
