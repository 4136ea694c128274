import type { SourceChanges } from '../cluster/source.js';
import type { KubeObject } from '../cluster/types.js';
import { buildModel, isEndpointSlice, sliceService, updateEndpoints, type ModelOptions } from '../model/build.js';
import type { MeshModel, MeshNamespace, MeshService } from '../model/types.js';
import { TYPE } from '../xds/protos.js';
import { consistent, makeSnapshot, patchType, seedInterner, withType, type EncodeMemo, type Snapshot, type TypeInterner, type TypeResources } from '../xds/snapshot.js';
import type { NodeInfo } from '../xds/syncz.js';
import { endpointChange, resourcesFor } from '../xds/translate.js';
import { SourceIndex } from './changes.js';

/** Options of {@link SnapshotBuilder}. */
export interface SnapshotBuilderOptions {
  model?: ModelOptions;
  /** Encodings carried between builds (the cache's). */
  memo: EncodeMemo;
  /** Called when a snapshot build starts; the function it returns when it ends (build-time metrics). */
  time?: () => () => void;
}

/** What a delivery changed. */
export interface DeliveryChange {
  /** Something beyond the EndpointSlices of Services changed: a full rebuild is needed. */
  structural: boolean;
  /** EndpointSlices of Services changed: the incremental path can apply them. */
  endpoints: boolean;
  /** Anything changed at all. */
  changed: boolean;
}

/**
 * Where a build puts its results, node by node as they are built (no per-proxy list is made):
 * `set` a node's new snapshot (possibly the very object it holds), or say it was `refused` (the
 * node keeps its last good one).
 */
export interface SnapshotSink {
  set(id: string, snapshot: Snapshot): void;
  refused(id: string, message: string): void;
  /** The snapshot a node holds now, if any. */
  current(id: string): Snapshot | undefined;
}

/** What a build made. */
export interface BuildResult {
  model: MeshModel;
  generation: number;
  /** Every node got a snapshot (none was refused). */
  ok: boolean;
}

/** The outcome of the incremental endpoint path. */
export type EndpointResult =
  /** Nothing the proxies see changed (e.g. a label of a slice). */
  | { kind: 'unchanged' }
  /** The change reaches beyond EDS: rebuild in full. */
  | { kind: 'fallback'; why: string }
  | ({ kind: 'updated' } & BuildResult);

/**
 * Objects -> model -> per-proxy snapshots, with no I/O, timers or transport: the control plane's
 * build step. It holds the source's objects (by key, diffed per delivery), the model and the
 * snapshots of the current generation. Proxies of one class (sidecars by pod; gRPC clients by
 * the namespaces they may reach, and by pod when they serve) share one snapshot object, so 1,000
 * gRPC clients in one namespace cost one build. Snapshots that fail to encode or are
 * inconsistent are reported, never returned.
 */
export class SnapshotBuilder {
  private readonly opts: SnapshotBuilderOptions;
  private readonly time: () => () => void;
  private current: MeshModel | undefined;
  private gen = 0;
  /** Snapshots of the current generation by proxy class. */
  private shared = new Map<string, Snapshot>();
  /** Type sets of the current generation by version, shared between proxy classes. */
  private interner: TypeInterner = new Map();
  /** The last delivery by object key. */
  private readonly latest = new SourceIndex();
  /** The last delivery when it repeats keys (buildModel then reads it as delivered), else undefined. */
  private delivered: KubeObject[] | undefined;
  /** The held objects as a list, made when asked for and kept until the next change. */
  private list: KubeObject[] | undefined = [];
  /** The objects the current model reflects, by key (latest minus pending changes). */
  private applied = new Map<string, KubeObject>();
  /** Keys of EndpointSlices changed and not yet applied. */
  private readonly pendingSlices = new Set<string>();
  /** Keys of the applied EndpointSlices by the service they name: an endpoint change reads only its services' slices. */
  private slicesOf = new Map<string, Set<string>>();
  /**
   * Node ids by proxy class, and each id's class, as last computed; an incremental update visits
   * only the nodes of classes whose snapshot changed. Entries of nodes gone (or moved to another
   * class) are dropped when met, so disconnects need no call here.
   */
  private members = new Map<string, Set<string>>();
  private readonly classOf = new Map<string, string>();
  private readonly reachable = new WeakMap<readonly MeshNamespace[], Map<string, string[] | undefined>>();
  /** The namespaces that have a Service, per services list (incremental models share it): made once, not per endpoint change. */
  private readonly serviceNamespaces = new WeakMap<readonly MeshService[], Set<string>>();

  constructor(opts: SnapshotBuilderOptions) {
    this.opts = opts;
    this.time = opts.time ?? (() => () => undefined);
  }

  /** The current model (undefined before the first successful build). */
  get model(): MeshModel | undefined {
    return this.current;
  }

  /** The model generation: each full or incremental build adds one. */
  get generation(): number {
    return this.gen;
  }

  /** The objects last delivered (read-only; kept until the next change). */
  objects(): KubeObject[] {
    return this.delivered ?? (this.list ??= [...this.latest.values()]);
  }

  /** The last delivered object of a key (see objectKey in changes.ts). */
  object(key: string): KubeObject | undefined {
    return this.latest.get(key);
  }

  /** Whether EndpointSlice changes wait for the incremental path. */
  get endpointsPending(): boolean {
    return this.pendingSlices.size > 0;
  }

  /**
   * Take a delivery: diff it against the last one (or apply what changed, when the source says).
   * Changes to EndpointSlices (of a Service, by
   * label, before and after) are held for the incremental path; anything else (or two objects of
   * one key) needs a full rebuild.
   */
  deliver(objects: KubeObject[], changes?: SourceChanges): DeliveryChange {
    // What changed, when the source says (keys then are unique), is applied as is: no full diff.
    // After a delivery with repeated keys the index is not the delivery: compare in full.
    const diff = changes && !this.delivered ? { changed: this.latest.applyChanges(changes), duplicates: false } : this.latest.apply(objects);
    this.delivered = diff.duplicates ? objects : undefined;
    if (diff.changed.size) this.list = undefined;
    let structural = diff.duplicates;
    let endpoints = false;
    for (const [key, before] of diff.changed) {
      const after = this.latest.get(key);
      if ((!before || isServiceSlice(before)) && (!after || isServiceSlice(after))) {
        this.pendingSlices.add(key);
        endpoints = true;
      } else structural = true;
    }
    return { structural, endpoints, changed: diff.changed.size > 0 };
  }

  /**
   * Build the model from every held object and a snapshot per node (pending endpoint changes
   * included). Throws when the model cannot be built (the caller keeps serving the last one).
   */
  rebuild(nodes: ReadonlyMap<string, NodeInfo>, changedAt: number, sink: SnapshotSink): BuildResult {
    this.pendingSlices.clear();
    this.applied = this.latest.snapshot();
    this.slicesOf = new Map();
    for (const [key, o] of this.applied) this.indexSlice(key, o, true);
    this.members = new Map();
    this.classOf.clear();
    const model = buildModel(this.objects(), this.opts.model);
    this.current = model;
    this.gen++;
    const previous = this.shared;
    this.shared = new Map();
    // Seeded with the sets in use, so a type that did not change keeps its very object (and a
    // class whose every type is unchanged keeps its snapshot); reset to what is in use afterwards.
    this.interner = new Map();
    for (const snap of previous.values()) seedInterner(this.interner, snap);
    let ok = true;
    for (const [id, node] of nodes) {
      const r = this.snapshotFor(node, changedAt, sink, previous, id);
      if (r && 'snapshot' in r) sink.set(id, r.snapshot);
      else if (r) {
        ok = false;
        sink.refused(id, r.error);
      }
    }
    this.interner = new Map();
    for (const snap of this.shared.values()) seedInterner(this.interner, snap);
    return { model, generation: this.gen, ok };
  }

  /**
   * The incremental path for pending EndpointSlice changes: recompute the endpoints of the
   * services they belong to, translate only those services' ClusterLoadAssignments, and give every
   * proxy class a snapshot that shares all other types (same objects, same versions) with its
   * previous one. EDS sets shared between classes are patched once. Says `fallback` when the
   * change reaches beyond EDS (see endpointChange) or would add or drop a namespace.
   */
  updateEndpoints(nodes: ReadonlyMap<string, NodeInfo>, changedAt: number, sink: SnapshotSink): EndpointResult {
    const prev = this.current;
    if (!prev) return { kind: 'fallback', why: 'no model yet' };
    const keys = [...this.pendingSlices];
    this.pendingSlices.clear();
    const touched = new Map<string, KubeObject[]>();
    const namespaces = new Set<string>();
    for (const key of keys) {
      const before = this.applied.get(key);
      const after = this.latest.get(key);
      for (const o of [before, after]) {
        const svc = o && sliceService(o);
        if (!svc) continue;
        touched.set(svc, []);
        namespaces.add(o.metadata.namespace ?? 'default');
      }
      if (before) this.indexSlice(key, before, false);
      if (after) {
        this.applied.set(key, after);
        this.indexSlice(key, after, true);
      } else this.applied.delete(key);
    }
    // buildModel derives namespaces from every object: a slice must not be what makes one exist.
    let serviceNamespaces = this.serviceNamespaces.get(prev.services);
    if (!serviceNamespaces) this.serviceNamespaces.set(prev.services, (serviceNamespaces = new Set(prev.services.map((s) => s.namespace))));
    for (const ns of namespaces) {
      if (!serviceNamespaces.has(ns) && !this.applied.has(`v1|Namespace||${ns}`)) return { kind: 'fallback', why: `namespace ${ns} has no Service or Namespace object` };
    }
    for (const [svc, list] of touched) for (const key of this.slicesOf.get(svc) ?? []) list.push(this.applied.get(key)!);
    const { model, changed } = updateEndpoints(prev, touched, (ns, name) => this.applied.get(`v1|Pod|${ns}|${name}`));
    if (!changed.length) return { kind: 'unchanged' };
    const eds = endpointChange(prev, model, changed);
    const changedClasses: string[] = [];
    if (!eds) return { kind: 'fallback', why: `clusters of ${changed.join(', ')} depend on their endpoints` };
    try {
      this.current = model;
      this.gen++;
      const version = String(this.gen);
      const patched = new Map<TypeResources, TypeResources>();
      for (const [key, snap] of this.shared) {
        const set = snap.types[TYPE.endpoint];
        let p = patched.get(set);
        if (!p) {
          p = patchType(TYPE.endpoint, set, eds, this.interner, this.opts.memo);
          patched.set(set, p);
        }
        if (p !== set) changedClasses.push(key);
      }
      // Applied once every set is patched: a throw above leaves the snapshots as they were.
      for (const key of changedClasses) {
        const snap = this.shared.get(key)!;
        this.shared.set(key, withType(snap, version, TYPE.endpoint, patched.get(snap.types[TYPE.endpoint])!, changedAt));
      }
    } catch (err) {
      return { kind: 'fallback', why: (err as Error).message };
    }
    // Only the nodes of classes whose snapshot changed, and of classes that have none (refused
    // before: the new model may build), get anything: the work grows with the affected proxies.
    for (const key of this.members.keys()) if (!this.shared.has(key)) changedClasses.push(key);
    let ok = true;
    for (const key of changedClasses) {
      const ids = this.members.get(key);
      if (!ids) continue;
      for (const id of ids) {
        const node = nodes.get(id);
        if (!node || this.classOf.get(id) !== key) {
          ids.delete(id);
          if (!node) this.classOf.delete(id);
          continue;
        }
        const r = this.snapshotFor(node, changedAt, sink);
        if (r && 'snapshot' in r) sink.set(id, r.snapshot);
        else if (r) {
          ok = false;
          sink.refused(id, r.error);
        }
      }
      if (!ids.size) this.members.delete(key);
    }
    return { kind: 'updated', model, generation: this.gen, ok };
  }

  /**
   * The snapshot of one node in the current generation (undefined before a model exists): its
   * class's, built on first use. The snapshot the class had in `previous` (else the one the node
   * holds in `held`) is returned instead of an equal new one, so a cache holding it does not notify.
   * No closure per node: this runs for every proxy on every update.
   */
  snapshotFor(node: NodeInfo, changedAt: number, held?: Pick<SnapshotSink, 'current'>, previous?: ReadonlyMap<string, Snapshot>, id?: string): { snapshot: Snapshot } | { error: string } | undefined {
    if (!this.current) return undefined;
    const key = this.classKey(node);
    if (id !== undefined && this.classOf.get(id) !== key) {
      this.classOf.set(id, key);
      let ids = this.members.get(key);
      if (!ids) this.members.set(key, (ids = new Set()));
      ids.add(id);
    }
    const cached = this.shared.get(key);
    if (cached) return { snapshot: cached };
    const end = this.time();
    try {
      const snap = makeSnapshot(String(this.gen), resourcesFor(this.current, node), changedAt, this.interner, this.opts.memo);
      const problems = consistent(snap);
      if (problems.length) throw new Error(`inconsistent snapshot: ${problems.slice(0, 3).join('; ')}`);
      // Keep the old object when nothing changed, so the cache does not notify at all.
      const before = previous?.get(key) ?? held?.current(node.id);
      const same = before && Object.entries(snap.types).every(([t, v]) => before.types[t as keyof Snapshot['types']].version === v.version);
      const result = same && before ? before : snap;
      this.shared.set(key, result);
      return { snapshot: result };
    } catch (err) {
      return { error: (err as Error).message };
    } finally {
      end();
    }
  }

  /** Add or drop a slice in the by-service index of applied slices. */
  private indexSlice(key: string, o: KubeObject, add: boolean): void {
    const svc = isEndpointSlice(o) ? sliceService(o) : undefined;
    if (!svc) return;
    let keys = this.slicesOf.get(svc);
    if (add) {
      if (!keys) this.slicesOf.set(svc, (keys = new Set()));
      keys.add(key);
    } else if (keys) {
      keys.delete(key);
      if (!keys.size) this.slicesOf.delete(svc);
    }
  }

  /** Proxies with equal keys get equal resources: gRPC clients differ only by what their namespace may reach. */
  private classKey(node: NodeInfo): string {
    if (node.kind === 'sidecar') return `sidecar|${node.namespace ?? ''}|${node.pod ?? ''}`;
    // Every proxy of one Gateway (its replicas) shares one snapshot.
    if (node.kind === 'gateway') return `gateway|${node.namespace ?? ''}|${node.gateway ?? ''}`;
    const namespaces = this.current?.namespaces ?? [];
    // By namespace list (incremental models share it): this runs for every proxy on every update.
    let reachable = this.reachable.get(namespaces);
    if (!reachable) this.reachable.set(namespaces, (reachable = new Map(namespaces.map((n) => [n.name, n.reachable]))));
    const reach = node.namespace === undefined ? undefined : reachable.get(node.namespace);
    // A gRPC server (POD_NAME given) also gets its own server listeners.
    return `grpc|${reach ? reach.join(',') : '*'}|${node.pod ? `${node.namespace ?? ''}/${node.pod}` : ''}`;
  }
}

/** An EndpointSlice that names its Service: the only change the incremental path takes. */
function isServiceSlice(o: KubeObject): boolean {
  return isEndpointSlice(o) && sliceService(o) !== undefined;
}
