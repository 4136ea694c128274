import { inputError } from '../ui/errors.js';

/** A lifetime: milliseconds, or a Go duration string as in values.yaml (`24h`, `90m`, `1h30m`, `500ms`). */
export type Ttl = number | string;

const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1 };
const PART = /(\d+(?:\.\d+)?)(ms|h|m|s)/gy;

/**
 * Turn a Ttl into a positive whole number of milliseconds.
 * Throws inputError naming `what` (e.g. "ca.workloadCertTTL") when it is malformed or not positive.
 */
export function ttlMs(ttl: Ttl, what = 'ttl'): number {
  if (typeof ttl === 'number') {
    if (!Number.isFinite(ttl) || ttl <= 0) throw inputError(`${what} must be a positive duration (got ${ttl} ms)`, 'use a value such as 24h or 90m');
    return Math.floor(ttl);
  }
  const s = ttl.trim();
  let total = 0;
  PART.lastIndex = 0;
  let consumed = 0;
  for (let m = PART.exec(s); m; m = PART.exec(s)) {
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
    consumed = PART.lastIndex;
  }
  if (s === '' || consumed !== s.length) throw inputError(`${what} must be a duration such as 24h or 90m (got "${ttl}")`);
  if (total <= 0) throw inputError(`${what} must be longer than zero (got "${ttl}")`, 'use a value such as 24h or 90m');
  return Math.floor(total);
}
