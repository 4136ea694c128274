import type { KubeObject } from '../cluster/types.js';
import { deepEqual } from '../util/object.js';

/** Identity of a source object: API version, kind, namespace and name. */
export function objectKey(o: KubeObject): string {
  return `${o.apiVersion}|${o.kind}|${o.metadata.namespace ?? ''}|${o.metadata.name}`;
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

/**
 * The objects of a state-of-the-world source by {@link objectKey}, updated in place by each
 * delivery. In place, because a map built per delivery (11k entries for every EndpointSlice event)
 * lived long enough to be promoted and made the full GCs that showed in the push latency's tail.
 */
export class SourceIndex {
  private readonly objects = new Map<string, KubeObject>();
  /** The delivery that last named each key: keys missing from a delivery are removed. */
  private readonly stamps = new Map<string, number>();
  private generation = 0;

  /** The held object of a key. */
  get(key: string): KubeObject | undefined {
    return this.objects.get(key);
  }

  /** Whether a key is held. */
  has(key: string): boolean {
    return this.objects.has(key);
  }

  /** The held objects (live view: do not keep across deliveries). */
  values(): IterableIterator<KubeObject> {
    return this.objects.values();
  }

  /** A copy of the index as a map. */
  snapshot(): Map<string, KubeObject> {
    return new Map(this.objects);
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
      const key = objectKey(o);
      const old = this.objects.get(key);
      if (this.stamps.get(key) === gen) {
        duplicates = true;
        if (old !== o) {
          if (!changed.has(key)) changed.set(key, old);
          this.objects.set(key, o);
        }
        continue;
      }
      this.stamps.set(key, gen);
      unique++;
      if (!old || !sameObject(old, o)) {
        changed.set(key, old);
        this.objects.set(key, o);
      } else if (!shallowSame(old, o)) this.objects.set(key, o);
    }
    if (unique !== this.objects.size) {
      for (const [key, o] of this.objects) {
        if (this.stamps.get(key) === gen) continue;
        changed.set(key, o);
        this.objects.delete(key);
        this.stamps.delete(key);
      }
    }
    return { changed, duplicates };
  }
}
