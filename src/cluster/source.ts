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

/** A running watch; `stop` ends its deliveries (idempotent). */
export interface SourceWatch {
  stop(): Promise<void>;
}

/**
 * Where objects come from. `list` reads the current objects once. `watch` delivers the full
 * current set through `onChange` (state of the world, not deltas; the array is the caller's to
 * keep but its objects must not be altered) once before it resolves and again after every change,
 * until its handle is stopped. A failure after the first delivery goes to `onError` and the last
 * delivered set stays valid; a failing first read rejects. `stop` ends every watch of the source.
 */
export interface Source {
  /** For logs: `kubernetes`, `files a.yaml, k8s/`, `memory`. */
  readonly description: string;
  list(opts?: SourceListOptions): Promise<SourceObject[]>;
  watch(onChange: (objects: KubeObject[]) => void, onError: (err: Error) => void): Promise<SourceWatch>;
  stop(): Promise<void>;
}

/** Whether an object is of one of `opts.kinds` and in `opts.namespace` (what list() keeps). */
export function listed(o: KubeObject, opts: SourceListOptions = {}): boolean {
  if (opts.kinds && !opts.kinds.some((k) => k.kind === o.kind && k.apiVersion === o.apiVersion)) return false;
  return opts.namespace === undefined || o.metadata.namespace === undefined || o.metadata.namespace === opts.namespace;
}

/** Fan-out of state-of-the-world deliveries to the watches of one source. */
export class Watches {
  private readonly listeners = new Set<(objects: KubeObject[]) => void>();
  private readonly errorListeners = new Set<(err: Error) => void>();

  /** Register a watch; its handle removes it. */
  add(onChange: (objects: KubeObject[]) => void, onError: (err: Error) => void): SourceWatch {
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

  /** Deliver a set to every watch. */
  emit(objects: KubeObject[]): void {
    for (const l of this.listeners) l(objects);
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
  private readonly watches = new Watches();

  constructor(objects: KubeObject[] = []) {
    this.objects = objects;
  }

  /** Replace the whole set of objects (watches get it at once, synchronously). */
  set(objects: KubeObject[]): void {
    this.objects = objects;
    this.watches.emit(objects);
  }

  async list(opts?: SourceListOptions): Promise<SourceObject[]> {
    return this.objects.filter((o) => listed(o, opts)).map((object) => ({ object }));
  }

  async watch(onChange: (objects: KubeObject[]) => void, onError: (err: Error) => void): Promise<SourceWatch> {
    const w = this.watches.add(onChange, onError);
    onChange(this.objects);
    return w;
  }

  async stop(): Promise<void> {
    this.watches.clear();
  }
}
