import type { KubeObject } from '../cluster/types.js';
import { objectKey, type SourceChanges } from '../cluster/source.js';
import { deepEqual } from '../util/object.js';

export { objectKey } from '../cluster/source.js';

/** The last key made for a metadata object, with what it was made from. */
interface KeyMemo {
  apiVersion: string;
  kind: string;
  namespace: string | undefined;
  name: string;
  key: string;
}
const keyMemo = new WeakMap<object, KeyMemo>();

/**
 * objectKey, remembered per metadata object (an informer's copies share it): every delivery keys
 * every object, and the string built each time was a third of the diff. Checked against the
 * fields it was made from, so an object altered in place still gets its right key.
 */
function heldKey(o: KubeObject): string {
  const m = o.metadata;
  const hit = keyMemo.get(m);
  if (hit && hit.name === m.name && hit.namespace === m.namespace && hit.kind === o.kind && hit.apiVersion === o.apiVersion) return hit.key;
  const key = objectKey(o);
  keyMemo.set(m, { apiVersion: o.apiVersion, kind: o.kind, namespace: m.namespace, name: m.name, key });
  return key;
}

/**
 * Whether two versions of an object have equal content. Informers hand out shallow copies whose
 * fields are the cached objects, so the comparison, which stops at identical references, settles
 * them at the top level; a source that builds fresh objects (files, tests) compares deeply.
 */
export function sameObject(a: KubeObject, b: KubeObject): boolean {
  return a === b || deepEqual(a, b);
}

/** Same own fields holding the very same values (an informer's shallow copy); no arrays made: this runs for every object of every delivery. */
function shallowSame(a: KubeObject, b: KubeObject): boolean {
  if (a === b) return true;
  const ao = a as unknown as Record<string, unknown>;
  const bo = b as unknown as Record<string, unknown>;
  let n = 0;
  for (const k in ao) {
    if (!Object.hasOwn(ao, k)) continue;
    if (ao[k] !== bo[k] || !Object.hasOwn(bo, k)) return false;
    n++;
  }
  for (const k in bo) if (Object.hasOwn(bo, k)) n--;
  return n === 0;
}

/** A held object and the delivery that last named its key. */
interface Held {
  object: KubeObject;
  stamp: number;
}

/**
 * The objects of a state-of-the-world source by {@link objectKey}, updated in place by each
 * delivery. In place, because a map built per delivery (11k entries for every EndpointSlice event)
 * lived long enough to be promoted and made the full GCs that showed in the push latency's tail.
 */
export class SourceIndex {
  /** By key, with the delivery that last named it (keys missing from a delivery are removed): one lookup per object per delivery. */
  private readonly objects = new Map<string, Held>();
  private generation = 0;

  /** The held object of a key. */
  get(key: string): KubeObject | undefined {
    return this.objects.get(key)?.object;
  }

  /** Whether a key is held. */
  has(key: string): boolean {
    return this.objects.has(key);
  }

  /** The held objects (live view: do not keep across deliveries). */
  *values(): IterableIterator<KubeObject> {
    for (const h of this.objects.values()) yield h.object;
  }

  /** A copy of the index as a map. */
  snapshot(): Map<string, KubeObject> {
    const out = new Map<string, KubeObject>();
    for (const [key, h] of this.objects) out.set(key, h.object);
    return out;
  }

  /**
   * Take a delivery. Returns the keys added, removed or changed, each with the object held before
   * (undefined when added), and whether two objects of the delivery share a key (the model's own
   * rules then decide which counts: the caller rebuilds). An informer's shallow copy of a held
   * object leaves the held one in place, so the copy can die young; an equal object with other
   * insides (a re-list, a files reload) replaces it, so later copies compare by reference again.
   */
  apply(delivered: readonly KubeObject[]): { changed: Map<string, KubeObject | undefined>; duplicates: boolean } {
    const gen = ++this.generation;
    const changed = new Map<string, KubeObject | undefined>();
    let duplicates = false;
    let unique = 0;
    for (const o of delivered) {
      const key = heldKey(o);
      const held = this.objects.get(key);
      if (!held) {
        this.objects.set(key, { object: o, stamp: gen });
        changed.set(key, undefined);
        unique++;
        continue;
      }
      const old = held.object;
      if (held.stamp === gen) {
        duplicates = true;
        if (old !== o) {
          if (!changed.has(key)) changed.set(key, old);
          held.object = o;
        }
        continue;
      }
      held.stamp = gen;
      unique++;
      // Shallow first: an informer's copy of an unchanged object settles here.
      if (shallowSame(old, o)) continue;
      if (!sameObject(old, o)) changed.set(key, old);
      held.object = o;
    }
    if (unique !== this.objects.size) {
      for (const [key, h] of this.objects) {
        if (h.stamp === gen) continue;
        changed.set(key, h.object);
        this.objects.delete(key);
      }
    }
    return { changed, duplicates };
  }

  /**
   * Take a delivery by what changed (see SourceChanges): only those keys are looked at, so the work
   * follows the change, not the objects held. Same result as {@link apply} of the full set when
   * the changes are true to it (test/controller/changes.test.ts compares them).
   */
  applyChanges(changes: SourceChanges): Map<string, KubeObject | undefined> {
    const changed = new Map<string, KubeObject | undefined>();
    for (const o of changes.deleted) {
      const key = heldKey(o);
      const held = this.objects.get(key);
      if (!held) continue;
      if (!changed.has(key)) changed.set(key, held.object);
      this.objects.delete(key);
    }
    for (const o of changes.set) {
      const key = heldKey(o);
      const held = this.objects.get(key);
      if (!held) {
        // Present before this delivery only if deleted above: its old object stays the "before".
        if (!changed.has(key)) changed.set(key, undefined);
        this.objects.set(key, { object: o, stamp: this.generation });
        continue;
      }
      const old = held.object;
      if (shallowSame(old, o)) continue;
      if (!sameObject(old, o) && !changed.has(key)) changed.set(key, old);
      held.object = o;
    }
    // A key deleted and set again to an equal object changed nothing.
    for (const [key, before] of changed) {
      const now = this.objects.get(key)?.object;
      if (before && now && sameObject(before, now)) changed.delete(key);
    }
    return changed;
  }
}
