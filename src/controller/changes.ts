import type { KubeObject } from '../cluster/types.js';

/** Identity of a source object: API version, kind, namespace and name. */
export function objectKey(o: KubeObject): string {
  return `${o.apiVersion}|${o.kind}|${o.metadata.namespace ?? ''}|${o.metadata.name}`;
}

function deepEqual(a: unknown, b: unknown): boolean {
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
    if (!Object.hasOwn(bo, k) || !deepEqual(ao[k], bo[k])) return false;
    n++;
  }
  for (const k in bo) if (Object.hasOwn(bo, k)) n--;
  return n === 0;
}

/**
 * Whether two versions of an object have equal content. Informers hand out shallow copies whose
 * fields are the cached objects, so the comparison, which stops at identical references, settles
 * them at the top level; a source that builds fresh objects (files, tests) compares deeply.
 */
export function sameObject(a: KubeObject, b: KubeObject): boolean {
  return a === b || deepEqual(a, b);
}

function shallowSame(a: KubeObject, b: KubeObject): boolean {
  if (a === b) return true;
  const ao = a as unknown as Record<string, unknown>;
  const bo = b as unknown as Record<string, unknown>;
  const keys = Object.keys(ao);
  return keys.length === Object.keys(bo).length && keys.every((k) => ao[k] === bo[k]);
}

/** What changed between two deliveries of a state-of-the-world source. */
export interface SourceDiff {
  /** The new delivery by {@link objectKey}; shallow copies of unchanged objects are replaced by the objects held before. */
  index: Map<string, KubeObject>;
  /** Keys added, removed or changed. */
  changed: string[];
  /** Two objects of the delivery share a key (the model's own rules decide which counts: rebuild). */
  duplicates: boolean;
}

/** Diff a delivery against the previous one's index. O(objects); the previous index is not altered. */
export function diffObjects(previous: ReadonlyMap<string, KubeObject>, objects: readonly KubeObject[]): SourceDiff {
  const index = new Map<string, KubeObject>();
  const changed: string[] = [];
  let duplicates = false;
  for (const o of objects) {
    const key = objectKey(o);
    if (index.has(key)) duplicates = true;
    index.set(key, o);
  }
  for (const [key, o] of index) {
    const old = previous.get(key);
    if (!old || !sameObject(old, o)) changed.push(key);
    // An informer's shallow copy of an object we hold: keep ours, so the copy can die young instead
    // of being promoted and collected by a full GC later (a copy of every object per event). An
    // equal object with other insides (a re-list, a files reload) replaces ours, so that the next
    // informer copies compare by reference again.
    else if (!duplicates && shallowSame(old, o)) index.set(key, old);
  }
  for (const key of previous.keys()) if (!index.has(key)) changed.push(key);
  return { index, changed, duplicates };
}
