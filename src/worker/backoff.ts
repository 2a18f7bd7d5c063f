/**
 * Exponential backoff with "equal jitter": half the delay is fixed, half random, so retries of many runs
 * spread out without ever retrying sooner than half the nominal delay. A plugin's retry-after wins when longer,
 * but the host's cap still applies.
 */
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
}

export function retryDelayMs(attempt: number, policy: BackoffPolicy, retryAfterMs?: number, random: () => number = Math.random): number {
  const nominal = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.max(0, attempt - 1));
  const jittered = nominal / 2 + (nominal / 2) * random();
  return Math.round(Math.min(policy.maxMs, Math.max(jittered, retryAfterMs ?? 0)));
}
