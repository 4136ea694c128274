// Helpers over plain data (what JSON and YAML produce). One helper per concept: import these
// rather than writing another copy.

/** Whether `v` is a plain object (not null, not an array): a JSON/YAML mapping. */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A deep copy of plain data (what JSON and YAML produce); several times faster than structuredClone. */
export function clone<T>(x: T): T {
  if (typeof x !== 'object' || x === null) return x;
  if (Array.isArray(x)) return x.map(clone) as T;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(x)) out[k] = clone((x as Record<string, unknown>)[k]);
  return out as T;
}

/**
 * A copy of a plain object's own keys, in order (one level; the values are shared). Faster than
 * `{ ...x }` on the many shapes parsed YAML has: V8's spread falls back to a slow path on them.
 */
export function shallow<T extends object>(x: T | undefined): T {
  const out: Record<string, unknown> = {};
  // for-in: plain data has no inherited enumerable keys, and V8 reads each value through the enum cache.
  if (x) for (const k in x) out[k] = (x as Record<string, unknown>)[k];
  return out as T;
}

/** `x` with every object and array in it frozen (plain data), so it can be shared and its derived forms remembered. */
export function deepFreeze<T>(x: T): T {
  if (typeof x !== 'object' || x === null || Object.isFrozen(x)) return x;
  for (const v of Object.values(x)) deepFreeze(v);
  return Object.freeze(x);
}

/**
 * Structural equality of plain data. A key whose value is undefined counts as absent (as it does
 * once serialised), so `{a: 1, b: undefined}` equals `{a: 1}`. Stops at identical references, so
 * comparing an object with a shallow copy of itself costs one pass over its top-level keys.
 */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  // for-in rather than Object.keys: a files reload compares every object deeply, and key arrays
  // were most of the garbage it made.
  let n = 0;
  for (const k in ao) {
    if (!Object.hasOwn(ao, k) || ao[k] === undefined) continue;
    if (!deepEqual(ao[k], bo[k])) return false;
    n++;
  }
  for (const k in bo) if (Object.hasOwn(bo, k) && bo[k] !== undefined) n--;
  return n === 0;
}
