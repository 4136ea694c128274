// The one generic object store: objects by resource, namespace and name, a global monotonically
// increasing resourceVersion, and a bounded history of change events that watches replay from.
import type { ResourceDef } from './resources.ts';
import { clone } from './patch.ts';

/** A stored object (any kind). */
export type KObj = Record<string, unknown> & { metadata: Record<string, unknown> & { name: string; namespace?: string } };

/** One change, as a watch sees it. `old` is the previous state for MODIFIED/DELETED. */
export interface StoreEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  rv: number;
  /** group/resource of the object. */
  res: string;
  object: KObj;
  old?: KObj;
}

/** Key of a resource in the store: its group and plural name (independent of the version). */
export const resKey = (def: Pick<ResourceDef, 'group' | 'resource'>): string => `${def.group}/${def.resource}`;
const objKey = (ns: string | undefined, name: string) => `${ns ?? ''}/${name}`;
/** The order lists come in (String.prototype.localeCompare's, without its per-call cost; for valid object names the same as etcd's byte order). */
const collator = new Intl.Collator();

/** In-memory objects and their history. Callers get and give copies; nothing stored is shared. */
export class Store {
  private readonly data = new Map<string, Map<string, KObj>>();
  private readonly history: StoreEvent[] = [];
  private readonly listeners = new Set<(e: StoreEvent) => void>();
  private rv = 0;
  /** How many events are kept for watches that resume from a resourceVersion. */
  historySize = 1000;

  /** The current (latest) resourceVersion. */
  get resourceVersion(): number {
    return this.rv;
  }

  /** The oldest resourceVersion a watch may resume from; older ones get 410 Gone. */
  get oldestResumable(): number {
    return this.history.length ? this.history[0]!.rv - 1 : this.rv;
  }

  get(def: Pick<ResourceDef, 'group' | 'resource'>, ns: string | undefined, name: string): KObj | undefined {
    const o = this.data.get(resKey(def))?.get(objKey(ns, name));
    return o && clone(o);
  }

  /** Objects of a resource (in one namespace, or all; only those `filter` keeps), sorted by namespace then name. `filter` sees the stored object and must not change it. */
  list(def: Pick<ResourceDef, 'group' | 'resource'>, ns?: string, filter?: (o: KObj) => boolean): KObj[] {
    return this.page(def, ns, filter).items;
  }

  /**
   * One page of {@link list}: the objects whose `namespace/name` key sorts after `after` (a
   * continue token's start), at most `limit` of them (0: all), and how many matching objects are
   * left after those. Only the page is copied, so paging through a large list costs one copy of it.
   */
  page(def: Pick<ResourceDef, 'group' | 'resource'>, ns?: string, filter?: (o: KObj) => boolean, after?: string, limit = 0): { items: KObj[]; remaining: number } {
    const m = this.data.get(resKey(def));
    if (!m) return { items: [], remaining: 0 };
    // Filter and sort the stored objects by key; selectors only read, and copies are the expensive part.
    let keyed = [...m.values()].filter((o) => (ns === undefined || o.metadata.namespace === ns) && (!filter || filter(o))).map((o) => ({ key: objKey(o.metadata.namespace, o.metadata.name), o }));
    keyed.sort((a, b) => collator.compare(a.key, b.key));
    if (after !== undefined) keyed = keyed.filter((k) => collator.compare(k.key, after) > 0);
    const taken = limit > 0 ? keyed.slice(0, limit) : keyed;
    return { items: taken.map((k) => clone(k.o)), remaining: keyed.length - taken.length };
  }

  /** Store an object (new or changed); assigns the next resourceVersion and returns the stored copy. */
  put(def: Pick<ResourceDef, 'group' | 'resource'>, obj: KObj): KObj {
    const res = resKey(def);
    let m = this.data.get(res);
    if (!m) this.data.set(res, (m = new Map()));
    const key = objKey(obj.metadata.namespace, obj.metadata.name);
    const old = m.get(key);
    const stored = clone(obj);
    stored.metadata.resourceVersion = String(++this.rv);
    m.set(key, stored);
    this.emit({ type: old ? 'MODIFIED' : 'ADDED', rv: this.rv, res, object: stored, ...(old ? { old } : {}) });
    return clone(stored);
  }

  /** Remove an object; returns its final state (with a fresh resourceVersion) or undefined. */
  remove(def: Pick<ResourceDef, 'group' | 'resource'>, ns: string | undefined, name: string): KObj | undefined {
    const res = resKey(def);
    const m = this.data.get(res);
    const old = m?.get(objKey(ns, name));
    if (!m || !old) return undefined;
    m.delete(objKey(ns, name));
    const gone = clone(old);
    gone.metadata.resourceVersion = String(++this.rv);
    this.emit({ type: 'DELETED', rv: this.rv, res, object: gone, old });
    return clone(gone);
  }

  /** Events after resourceVersion `rv` (caller checks `oldestResumable` first). */
  since(rv: number): StoreEvent[] {
    return this.history.filter((e) => e.rv > rv);
  }

  /** Call `fn` synchronously on every change; returns the unsubscribe function. */
  subscribe(fn: (e: StoreEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Forget history (as etcd compaction does): watches from any earlier resourceVersion get 410. */
  compact(): void {
    this.history.length = 0;
  }

  /** Every resource key with objects (for namespace cleanup and garbage collection). */
  resources(): string[] {
    return [...this.data.keys()];
  }

  /** All objects of a store key, for cross-kind sweeps. */
  listByKey(res: string): KObj[] {
    return [...(this.data.get(res)?.values() ?? [])].map((o) => clone(o));
  }

  private emit(e: StoreEvent): void {
    this.history.push(e);
    if (this.history.length > this.historySize) this.history.splice(0, this.history.length - this.historySize);
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch {
        // A listener (a watch stream, the kubelet) failing must not fail the write that triggered it.
      }
    }
  }
}
