import { parsePositiveDuration } from '../duration.js';
import { inputError } from '../errors.js';

/** A lifetime: milliseconds, or a duration string as in values.yaml (`24h`, `90m`, `1h30m`, `500ms`). */
export type Ttl = number | string;

/**
 * Turn a Ttl into a positive whole number of milliseconds; strings are read by src/duration.ts.
 * Throws a MeshError (exit 2) naming `what` (e.g. "ca.workloadCertTTL") when it is malformed or not positive.
 */
export function ttlMs(ttl: Ttl, what = 'ttl'): number {
  if (typeof ttl === 'number') {
    if (!Number.isFinite(ttl) || ttl <= 0) throw inputError(`${what} must be a positive duration (got ${ttl} ms)`, 'use a value such as 24h or 90m');
    return Math.floor(ttl);
  }
  return parsePositiveDuration(ttl, what);
}
