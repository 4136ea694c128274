import { parseGoDuration } from '../duration.js';
import { inputError } from '../errors.js';

/** A lifetime: milliseconds, or a Go duration string as in values.yaml (`24h`, `90m`, `1h30m`, `500ms`). */
export type Ttl = number | string;

/**
 * Turn a Ttl into a positive whole number of milliseconds.
 * Throws inputError naming `what` (e.g. "ca.workloadCertTTL") when it is malformed or not positive.
 */
export function ttlMs(ttl: Ttl, what = 'ttl'): number {
  if (typeof ttl === 'number') {
    if (!Number.isFinite(ttl) || ttl <= 0) throw inputError(`${what} must be a positive duration (got ${ttl} ms)`, 'use a value such as 24h or 90m');
    return Math.floor(ttl);
  }
  const total = parseGoDuration(ttl.trim());
  if (total === undefined) throw inputError(`${what} must be a duration such as 24h or 90m (got "${ttl}")`);
  if (total <= 0) throw inputError(`${what} must be longer than zero (got "${ttl}")`, 'use a value such as 24h or 90m');
  return Math.floor(total);
}
