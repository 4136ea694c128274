import type { KubeObject } from './types.js';

/**
 * The one way mesh reads Kubernetes objects (see DESIGN.md "One pipeline"): a Source lists them
 * once (`mesh check -f`, `mesh proxy-config -f`, `mesh stat`) or watches them (the controller, the
 * dashboard to come). Implementations: live (src/cluster/live-source.ts, list/watch through the
 * API server), files (src/cluster/files-source.ts, paths, directories or stdin, reloaded on change)
 * and memory (below: tests and in-process use). Callers never learn which one they hold.
 */

/** An API version and kind to read. */
export interface SourceKind {
  apiVersion: string;
  kind: string;
  /** Only objects matching this field selector (live sources). */
  fieldSelector?: string;
  /** Left out, not an error, when the caller may not read it (live sources). */
  optional?: boolean;
}

/** What {@link Source.list} reads: these kinds only, in this namespace only (either may be left out: everything). */
export interface SourceListOptions {
  kinds?: readonly SourceKind[];
  /** Namespaced objects of other namespaces are dropped; cluster-scoped ones (Namespaces) stay. */
  namespace?: string;
}

/** Where an object was read, when it came from a file. */
export interface ObjectLocation {
  file: string;
  /** 1-based line where the object's document starts. */
  line: number;
}

/** One object a source listed, and where it was read when the source knows. */
export interface SourceObject {
  object: KubeObject;
  location?: ObjectLocation;
}

/**
 * What changed since a watch's previous delivery, when the source knows it (the live source: one
 * informer event). The delivered set is the previous one with `set` put in place of the objects
 * of the same API version, kind, namespace and name (or added) and `deleted` taken out; keys are
 * unique within such a set. A watcher may apply these instead of comparing the whole set, so the
 * work per event follows what changed, not how many objects there are.
 */
export interface SourceChanges {
  readonly set: readonly KubeObject[];
  readonly deleted: readonly KubeObject[];
}

/** What a watch's `onChange` is called with: the full set, and what changed when the source knows it. */
export type SourceListener = (objects: KubeObject[], changes?: SourceChanges) => void;

/** A running watch; `stop` ends its deliveries (idempotent). */
export interface SourceWatch {
  stop(): Promise<void>;
}

/**
 * Where objects come from. `list` reads the current objects once. `watch` delivers the full
 * current set through `onChange` (state of the world; the array is the caller's to
 * keep but its objects must not be altered) once before it resolves and again after every change,
 * until its handle is stopped; with a delivery after the first, a source may say what changed
 * (SourceChanges), and a watcher may rely on it. A failure after the first delivery goes to `onError` and the last
 * delivered set stays valid; a failing first read rejects. `stop` ends every watch of the source.
 */
export interface Source {
  /** For logs: `kubernetes`, `files a.yaml, k8s/`, `memory`. */
  readonly description: string;
  list(opts?: SourceListOptions): Promise<SourceObject[]>;
  watch(onChange: SourceListener, onError: (err: Error) => void): Promise<SourceWatch>;
  stop(): Promise<void>;
}

/** Identity of a source object: API version, kind, namespace and name (unique within a delivery with changes). */
export function objectKey(o: KubeObject): string {
  return `${o.apiVersion}|${o.kind}|${o.metadata.namespace ?? ''}|${o.metadata.name}`;
}

/** Whether an object is of one of `opts.kinds` and in `opts.namespace` (what list() keeps). */
export function listed(o: KubeObject, opts: SourceListOptions = {}): boolean {
  if (opts.kinds && !opts.kinds.some((k) => k.kind === o.kind && k.apiVersion === o.apiVersion)) return false;
  return opts.namespace === undefined || o.metadata.namespace === undefined || o.metadata.namespace === opts.namespace;
}

/** Fan-out of state-of-the-world deliveries to the watches of one source. */
export class Watches {
  private readonly listeners = new Set<SourceListener>();
  private readonly errorListeners = new Set<(err: Error) => void>();

  /** Register a watch; its handle removes it. */
  add(onChange: SourceListener, onError: (err: Error) => void): SourceWatch {
    this.listeners.add(onChange);
    this.errorListeners.add(onError);
    return {
      stop: async () => {
        this.listeners.delete(onChange);
        this.errorListeners.delete(onError);
      },
    };
  }

  /** Whether any watch is registered. */
  get size(): number {
    return this.listeners.size;
  }

  /** Deliver a set to every watch (with what changed since the previous delivery, when known). */
  emit(objects: KubeObject[], changes?: SourceChanges): void {
    for (const l of this.listeners) l(objects, changes);
  }

  /** Report an error to every watch. */
  error(err: Error): void {
    for (const l of this.errorListeners) l(err);
  }

  /** Forget every watch. */
  clear(): void {
    this.listeners.clear();
    this.errorListeners.clear();
  }
}

/** A source whose objects the caller sets: for tests and in-process use. */
export class MemorySource implements Source {
  readonly description = 'memory';
  private objects: KubeObject[];
  /** Index of each key in `objects`, for change() (made on first use, dropped by set()). */
  private at: Map<string, number> | undefined;
  private readonly watches = new Watches();

  constructor(objects: KubeObject[] = []) {
    this.objects = objects;
  }

  /** Replace the whole set of objects (watches get it at once, synchronously). */
  set(objects: KubeObject[]): void {
    this.objects = objects;
    this.at = undefined;
    this.watches.emit(objects);
  }

  /**
   * Put objects in place of those of the same key (or add them) and drop `deleted`, as an
   * informer event does: watches get the new set and these changes (see SourceChanges), at once.
   * The set must hold each key once.
   */
  change(set: readonly KubeObject[], deleted: readonly KubeObject[] = []): void {
    const at = (this.at ??= new Map(this.objects.map((o, i) => [objectKey(o), i])));
    let next = this.objects.slice();
    for (const o of set) {
      const key = objectKey(o);
      const i = at.get(key);
      if (i === undefined) at.set(key, next.push(o) - 1);
      else next[i] = o;
    }
    if (deleted.length) {
      const gone = new Set(deleted.map(objectKey));
      next = next.filter((o) => !gone.has(objectKey(o)));
      this.at = undefined;
    }
    this.objects = next;
    this.watches.emit(next, { set, deleted });
  }

  async list(opts?: SourceListOptions): Promise<SourceObject[]> {
    return this.objects.filter((o) => listed(o, opts)).map((object) => ({ object }));
  }

  async watch(onChange: SourceListener, onError: (err: Error) => void): Promise<SourceWatch> {
    const w = this.watches.add(onChange, onError);
    onChange(this.objects);
    return w;
  }

  async stop(): Promise<void> {
    this.watches.clear();
  }
}
