/** Microsecond-exact conversions between the contract's ISO timestamps and epoch microseconds. */

const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/;

/** `2024-01-31T23:59:59.123456Z` -> epoch microseconds. Digits past the sixth are truncated. */
export function isoToMicros(iso: string): bigint {
  const m = ISO.exec(iso);
  if (!m) throw new Error(`not an ISO-8601 timestamp: ${JSON.stringify(iso.slice(0, 64))}`);
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  const frac = (m[7] ?? '').padEnd(6, '0').slice(0, 6);
  let offsetMinutes = 0;
  const tz = m[8];
  if (tz && tz !== 'Z') {
    const sign = tz[0] === '-' ? -1 : 1;
    const digits = tz.slice(1).replace(':', '');
    offsetMinutes = sign * (+digits.slice(0, 2) * 60 + +digits.slice(2, 4));
  }
  return (BigInt(ms) - BigInt(offsetMinutes) * 60_000n) * 1000n + BigInt(frac);
}

/** Epoch microseconds -> `2024-01-31T23:59:59.123456Z`. */
export function microsToIso(micros: bigint): string {
  let ms = micros / 1000n;
  let rest = micros % 1000n;
  if (rest < 0n) {
    rest += 1000n;
    ms -= 1n;
  }
  const base = new Date(Number(ms)).toISOString(); // ...ss.mmmZ
  return base.slice(0, -1) + rest.toString().padStart(3, '0') + 'Z';
}
