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
  const keys = Object.keys(ao);
  if (keys.length !== Object.keys(bo).length) return false;
  for (const k of keys) if (!(k in bo) || !deepEqual(ao[k], bo[k])) return false;
  return true;
}

/**
 * Whether two versions of an object have equal content. Informers hand out shallow copies whose
 * fields are the cached objects, so the comparison, which stops at identical references, settles
 * them at the top level; a source that builds fresh objects (files, tests) compares deeply.
 */
export function sameObject(a: KubeObject, b: KubeObject): boolean {
  return a === b || deepEqual(a, b);
}

/** What changed between two deliveries of a state-of-the-world source. */
export interface SourceDiff {
  /** The new delivery by {@link objectKey}; unchanged objects are the previous delivery's (equal) objects. */
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
    // Keep the object we already hold: the delivered copy can then die young instead of being
    // promoted and collected by a full GC later (informers hand out a new copy of every object per event).
    else if (!duplicates) index.set(key, old);
  }
  for (const key of previous.keys()) if (!index.has(key)) changed.push(key);
  return { index, changed, duplicates };
}
