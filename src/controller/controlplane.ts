import * as grpc from '@grpc/grpc-js';
import type { Counter, Histogram } from 'prom-client';
import type { Source, SourceWatch } from '../cluster/source.js';
import type { KubeObject } from '../cluster/types.js';
import { buildModel, isEndpointSlice, sliceService, updateEndpoints, type ModelOptions } from '../model/build.js';
import type { MeshModel, MeshNamespace } from '../model/types.js';
import { AdsServer } from '../xds/ads.js';
import { TYPE } from '../xds/protos.js';
import { synczDocument, type ConfigDump, type NodeInfo, type Syncz } from '../xds/syncz.js';
import { SnapshotCache } from '../xds/cache.js';
import { consistent, makeSnapshot, patchType, seedInterner, withType, type Snapshot, type TypeInterner, type TypeResources } from '../xds/snapshot.js';
import { endpointChange, resourcesFor } from '../xds/translate.js';
import { SourceIndex } from './changes.js';
import { WorkloadIdentities, type WorkloadIdentityOptions } from './identity.js';
import { ControllerMetrics } from './metrics.js';

/** Options of {@link ControlPlane}. */
export interface ControlPlaneOptions {
  source: Source;
  /** Structural source changes (anything but EndpointSlices) within this window become one rebuild (default 100 ms). */
  debounceMs?: number;
  /** A burst of structural changes is cut into a rebuild at least this often (default 1 s). */
  maxDelayMs?: number;
  /**
   * EndpointSlice changes become incremental EDS updates at most once per this interval (default
   * 10 ms, never more than debounceMs): a change after a quiet interval is applied on the next
   * turn of the event loop (with whatever else arrived in the same turn), later ones at the end of
   * the interval, together. A throttle rather than a debounce: the incremental path costs little,
   * and a debounce as long as the structural one would on its own eat the endpoint-propagation
   * budget (100 ms p99); the interval still bounds the update rate during a rollout's burst.
   */
  endpointIntervalMs?: number;
  model?: ModelOptions;
  /** Diagnostic lines (one per call, no trailing newline). */
  log?: (line: string) => void;
  /** Called after each new model has been built and its snapshots set (tests and embedding). */
  onModel?: (model: MeshModel, generation: number) => void;
  /** More gRPC services on the ADS server (the CA's CertificateService). */
  services?: { definition: grpc.ServiceDefinition; handlers: grpc.UntypedServiceImplementation }[];
  /**
   * Serve SDS Secrets (workload certificates) to authenticated TLS streams; see WorkloadIdentities.
   * Without it no stream gets secrets. The control plane supplies pod existence from its objects.
   */
  identity?: Omit<WorkloadIdentityOptions, 'podExists' | 'log' | 'onEvent'>;
}

/**
 * The control plane: source -> model (debounced) -> per-proxy snapshots -> ADS. Proxies of the same
 * kind, namespace and pod share one snapshot object, so 1,000 gRPC clients in one namespace cost
 * one build. A snapshot that fails to encode or is inconsistent is refused and the last good one
 * stays.
 */
export class ControlPlane {
  readonly cache = new SnapshotCache();
  readonly ads: AdsServer;
  readonly metrics = new ControllerMetrics();
  /** SDS issuance (undefined without `identity` options). */
  readonly identities: WorkloadIdentities | undefined;
  private readonly opts: ControlPlaneOptions;
  private readonly log: (line: string) => void;
  private server: grpc.Server | undefined;
  private watch: SourceWatch | undefined;
  private model: MeshModel | undefined;
  private generation = 0;
  private changedAt = 0;
  private readonly nodes = new Map<string, { node: NodeInfo; streams: number }>();
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
  /** A pending change needs a full rebuild (structural debounce). */
  private structural = false;
  private timer: NodeJS.Timeout | undefined;
  private firstPendingAt = 0;
  /** Keys of EndpointSlices changed and not yet applied (endpoint interval). */
  private pendingSlices = new Set<string>();
  private endpointTimer: NodeJS.Timeout | undefined;
  private lastEndpointFlush = 0;
  private endpointChangedAt = 0;
  private connectedStreams = 0;
  private readonly reachable = new WeakMap<readonly MeshNamespace[], Map<string, string[] | undefined>>();
  /** The last error building a model or snapshot (cleared by the next success). */
  lastError: string | undefined;

  constructor(opts: ControlPlaneOptions) {
    this.opts = opts;
    this.log = opts.log ?? (() => undefined);
    const onEvent = (e: 'first' | 'renewal' | 'refused'): void => (e === 'refused' ? this.metrics.sdsRefused.inc() : this.metrics.sdsIssued.inc({ kind: e }));
    this.identities = opts.identity ? new WorkloadIdentities({ ...opts.identity, log: this.log, onEvent, podExists: (ns, name, uid) => this.podExists(ns, name, uid) }) : undefined;
    this.ads = new AdsServer({ cache: this.cache, onNode: (n) => this.nodeConnected(n), secrets: this.identities });
    // Counted here: ads.status() copies every stream, which made 1,000 connects quadratic.
    this.ads.on('connect', (s) => {
      this.metrics.connected.set(++this.connectedStreams);
      this.log(`proxy connected: ${s.node.id} (${s.node.kind}${s.node.namespace ? `, ${s.node.namespace}` : ''})`);
    });
    this.ads.on('disconnect', (s) => {
      this.metrics.connected.set(--this.connectedStreams);
      const entry = this.nodes.get(s.node.id);
      if (entry && --entry.streams <= 0) {
        this.nodes.delete(s.node.id);
        this.cache.delete(s.node.id);
      }
      this.log(`proxy disconnected: ${s.node.id}`);
    });
    // One labelled child per type: an endpoint change pushes to every stream, so label lookups add up.
    const perType = new Map<string, { pushes: Counter.Internal; bytes: Counter.Internal; latency: Histogram.Internal<string> }>();
    this.ads.on('push', (p) => {
      let m = perType.get(p.typeUrl);
      if (!m) {
        const type = short(p.typeUrl);
        perType.set(p.typeUrl, (m = { pushes: this.metrics.pushes.labels(type), bytes: this.metrics.pushBytes.labels(type), latency: this.metrics.pushLatency.labels(type) }));
      }
      m.pushes.inc();
      m.bytes.inc(p.bytes);
      if (p.latencyMs !== undefined) m.latency.observe(p.latencyMs / 1000);
    });
    this.ads.on('nack', (n) => {
      this.metrics.nacks.inc({ type: short(n.typeUrl) });
      this.log(`NACK from ${n.stream.node.id} for ${short(n.typeUrl)} version ${n.version}: ${n.message}`);
    });
  }

  /** True once a model has been built and the ADS server listens. */
  get ready(): boolean {
    return this.model !== undefined && this.server !== undefined;
  }

  /** The objects the source last delivered (read-only). */
  sourceObjects(): readonly KubeObject[] {
    return this.objects();
  }

  private objects(): KubeObject[] {
    return this.delivered ?? (this.list ??= [...this.latest.values()]);
  }

  /** Labels of a namespace as the source last delivered it (the Namespace informer), or undefined. */
  namespaceLabels(name: string): Record<string, string> | undefined {
    const ns = this.latest.get(`v1|Namespace||${name}`);
    return ns ? (ns.metadata.labels ?? {}) : undefined;
  }

  /** Whether the source's objects hold this pod (with this uid, when both are known). */
  podExists(namespace: string, name: string, uid: string | undefined): boolean {
    const pod = this.latest.get(`v1|Pod|${namespace}|${name}`);
    return pod !== undefined && !(uid && pod.metadata.uid && pod.metadata.uid !== uid);
  }

  /** The current model (undefined before the source delivered). */
  currentModel(): MeshModel | undefined {
    return this.model;
  }

  /** Start the source and the ADS server on host:port (port 0 picks one); resolves to the bound port. */
  async start(listen: { host?: string; port?: number } = {}): Promise<number> {
    const server = new grpc.Server({ 'grpc.keepalive_time_ms': 30_000, 'grpc.keepalive_timeout_ms': 10_000, 'grpc.http2.min_ping_interval_without_data_ms': 5_000 });
    server.addService(this.ads.serviceDefinition(), this.ads.handlers());
    for (const s of this.opts.services ?? []) server.addService(s.definition, s.handlers);
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(`${listen.host ?? '0.0.0.0'}:${listen.port ?? 0}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
    });
    this.server = server;
    this.identities?.start();
    this.watch = await this.opts.source.watch(
      (objects) => this.onSourceChange(objects),
      (err) => {
        this.lastError = err.message;
        this.log(`source error (serving the last snapshot): ${err.message}`);
      },
    );
    return port;
  }

  /** Stop the source, close every stream and the server. */
  async stop(): Promise<void> {
    this.clearTimers();
    this.identities?.stop();
    await this.watch?.stop();
    this.watch = undefined;
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.forceShutdown();
    }
  }

  private clearTimers(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.endpointTimer) clearTimeout(this.endpointTimer);
    this.timer = this.endpointTimer = undefined;
  }

  /**
   * A delivery from the source: diff it against the last one. Changes to EndpointSlices (of a
   * Service, by label, before and after) take the incremental path, throttled by
   * endpointIntervalMs; anything else waits for the structural debounce and rebuilds everything.
   * A delivery that changes nothing is dropped (unless the last build failed: then it is retried).
   */
  private onSourceChange(objects: KubeObject[]): void {
    const now = Date.now();
    const diff = this.latest.apply(objects);
    this.delivered = diff.duplicates ? objects : undefined;
    if (diff.changed.size) this.list = undefined;
    if (this.model === undefined) {
      // The first state is applied at once: proxies connecting at start-up should not wait.
      this.markStructural(now);
      this.flush();
      return;
    }
    let structural = diff.duplicates || (!diff.changed.size && this.lastError !== undefined);
    let slices = false;
    for (const [key, before] of diff.changed) {
      const after = this.latest.get(key);
      if ((!before || isServiceSlice(before)) && (!after || isServiceSlice(after))) {
        this.pendingSlices.add(key);
        slices = true;
      } else structural = true;
    }
    if (structural) {
      this.markStructural(now);
      if (this.timer) clearTimeout(this.timer);
      const wait = Math.max(0, Math.min(this.opts.debounceMs ?? 100, this.firstPendingAt + (this.opts.maxDelayMs ?? 1000) - now));
      this.timer = setTimeout(() => this.flush(), wait);
    }
    if (slices) {
      this.endpointChangedAt ||= now;
      if (!this.endpointTimer) {
        const interval = this.opts.endpointIntervalMs ?? Math.min(10, this.opts.debounceMs ?? 100);
        this.endpointTimer = setTimeout(() => this.flushEndpoints(), Math.max(0, this.lastEndpointFlush + interval - now));
      }
    }
  }

  private markStructural(now: number): void {
    if (!this.structural) this.firstPendingAt = now;
    this.structural = true;
    this.changedAt ||= now;
  }

  /** Apply every pending change now and push snapshots (tests and SIGHUP use it): a full rebuild, or only the EDS update when only EndpointSlices changed. */
  flush(): void {
    if (!this.structural) {
      this.flushEndpoints();
      return;
    }
    this.clearTimers();
    const changedAt = Math.min(this.changedAt || Date.now(), this.endpointChangedAt || Infinity);
    this.structural = false;
    this.changedAt = this.endpointChangedAt = 0;
    this.pendingSlices.clear();
    this.applied = this.latest.snapshot();
    let model: MeshModel;
    try {
      model = buildModel(this.objects(), this.opts.model);
    } catch (err) {
      this.lastError = `model: ${(err as Error).message}`;
      this.log(`cannot build the model (serving the last snapshot): ${(err as Error).message}`);
      return;
    }
    this.model = model;
    this.generation++;
    this.metrics.generation.set(this.generation);
    for (const w of model.warnings) this.log(`warning: ${w.object}: ${w.message}`);
    const previous = this.shared;
    this.shared = new Map();
    // Seeded with the sets in use, so a type that did not change keeps its very object (and a
    // class whose every type is unchanged keeps its snapshot); reset to what is in use afterwards.
    this.interner = new Map();
    for (const snap of previous.values()) seedInterner(this.interner, snap);
    let ok = true;
    for (const [id, { node }] of this.nodes) {
      const snap = this.snapshotFor(node, changedAt, previous);
      if (snap) this.cache.set(id, snap);
      else ok = false;
    }
    this.interner = new Map();
    for (const snap of this.shared.values()) seedInterner(this.interner, snap);
    if (ok) this.lastError = undefined;
    // A new model may have deleted pods or come with a new trust bundle: renew (or stop renewing) now.
    void this.identities?.sweep();
    this.opts.onModel?.(model, this.generation);
  }

  /**
   * The incremental path for pending EndpointSlice changes: recompute the endpoints of the
   * services they belong to, translate only those services' ClusterLoadAssignments, and give every
   * proxy class a snapshot that shares all other types (same objects, same versions) with its
   * previous one. EDS sets shared between classes are patched once. Falls back to a full rebuild
   * when the change reaches beyond EDS (see endpointChange) or would add or drop a namespace.
   */
  private flushEndpoints(): void {
    if (this.endpointTimer) clearTimeout(this.endpointTimer);
    this.endpointTimer = undefined;
    const prev = this.model;
    if (!this.pendingSlices.size || !prev) return;
    this.lastEndpointFlush = Date.now();
    const end = this.metrics.buildSeconds.startTimer();
    const changedAt = this.endpointChangedAt || Date.now();
    const keys = [...this.pendingSlices];
    this.pendingSlices.clear();
    this.endpointChangedAt = 0;
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
      if (after) this.applied.set(key, after);
      else this.applied.delete(key);
    }
    // buildModel derives namespaces from every object: a slice must not be what makes one exist.
    const serviceNamespaces = new Set(prev.services.map((s) => s.namespace));
    const fallback = (why: string): void => {
      end();
      this.log(`endpoint change needs a full rebuild: ${why}`);
      this.markStructural(changedAt);
      this.flush();
    };
    for (const ns of namespaces) {
      if (!serviceNamespaces.has(ns) && !this.applied.has(`v1|Namespace||${ns}`)) return fallback(`namespace ${ns} has no Service or Namespace object`);
    }
    for (const o of this.applied.values()) {
      if (!isEndpointSlice(o)) continue;
      const svc = sliceService(o);
      if (svc) touched.get(svc)?.push(o);
    }
    const { model, changed } = updateEndpoints(prev, touched, (ns, name) => this.applied.get(`v1|Pod|${ns}|${name}`));
    if (!changed.length) {
      end();
      return; // e.g. a label or annotation of a slice changed, not its endpoints
    }
    const eds = endpointChange(prev, model, changed);
    if (!eds) return fallback(`clusters of ${changed.join(', ')} depend on their endpoints`);
    try {
      this.model = model;
      this.generation++;
      this.metrics.generation.set(this.generation);
      const version = String(this.generation);
      const patched = new Map<TypeResources, TypeResources>();
      const next = new Map<string, Snapshot>();
      for (const [key, snap] of this.shared) {
        const set = snap.types[TYPE.endpoint];
        let p = patched.get(set);
        if (!p) {
          p = patchType(TYPE.endpoint, set, eds, this.interner, this.cache.memo);
          patched.set(set, p);
        }
        next.set(key, p === set ? snap : withType(snap, version, TYPE.endpoint, p, changedAt));
      }
      this.shared = next;
      for (const [id, { node }] of this.nodes) {
        const snap = this.shared.get(this.classKey(node)) ?? this.snapshotFor(node, changedAt);
        if (snap) this.cache.set(id, snap);
      }
    } catch (err) {
      return fallback((err as Error).message);
    }
    end();
    this.opts.onModel?.(model, this.generation);
  }

  /** Proxies with equal keys get equal resources: gRPC clients differ only by what their namespace may reach. */
  private classKey(node: NodeInfo): string {
    if (node.kind === 'sidecar') return `sidecar|${node.namespace ?? ''}|${node.pod ?? ''}`;
    const namespaces = this.model?.namespaces ?? [];
    // By namespace list (incremental models share it): this runs for every proxy on every update.
    let reachable = this.reachable.get(namespaces);
    if (!reachable) this.reachable.set(namespaces, (reachable = new Map(namespaces.map((n) => [n.name, n.reachable]))));
    const reach = node.namespace === undefined ? undefined : reachable.get(node.namespace);
    // A gRPC server (POD_NAME given) also gets its own server listeners.
    return `grpc|${reach ? reach.join(',') : '*'}|${node.pod ? `${node.namespace ?? ''}/${node.pod}` : ''}`;
  }

  private snapshotFor(node: NodeInfo, changedAt: number, previous?: Map<string, Snapshot>): Snapshot | undefined {
    if (!this.model) return undefined;
    const key = this.classKey(node);
    const cached = this.shared.get(key);
    if (cached) return cached;
    const end = this.metrics.buildSeconds.startTimer();
    try {
      const snap = makeSnapshot(String(this.generation), resourcesFor(this.model, node), changedAt, this.interner, this.cache.memo);
      const problems = consistent(snap);
      if (problems.length) throw new Error(`inconsistent snapshot: ${problems.slice(0, 3).join('; ')}`);
      // Keep the old object when nothing changed, so the cache does not notify at all.
      const old = previous?.get(key) ?? this.cache.get(node.id);
      const same = old && Object.entries(snap.types).every(([t, v]) => old.types[t as keyof Snapshot['types']].version === v.version);
      const result = same && old ? old : snap;
      this.shared.set(key, result);
      return result;
    } catch (err) {
      this.lastError = `snapshot for ${node.id}: ${(err as Error).message}`;
      this.log(`refusing a bad snapshot for ${node.id} (keeping the last good one): ${(err as Error).message}`);
      return undefined;
    } finally {
      end();
    }
  }

  private nodeConnected(node: NodeInfo): void {
    const entry = this.nodes.get(node.id);
    if (entry) {
      entry.streams++;
      entry.node = node;
    } else this.nodes.set(node.id, { node, streams: 1 });
    if (!this.model) return;
    const snap = this.snapshotFor(node, Date.now());
    if (snap) this.cache.set(node.id, snap);
  }

  /** Per-proxy sync state for /debug/syncz and `mesh proxy-status` (format: src/xds/syncz.ts). */
  syncz(): Syncz {
    const nodes = this.nodes;
    return synczDocument({
      generation: this.generation,
      ready: this.ready,
      lastError: this.lastError,
      nodes: (function* () {
        for (const [id, { node }] of nodes) yield [id, node] as [string, NodeInfo];
      })(),
      streams: this.ads.status(),
      snapshotVersion: (id) => this.cache.get(id)?.version,
    });
  }

  /** The config a proxy holds (plain resources by type), or undefined for an unknown proxy. Secrets are redacted. */
  configDump(id: string): ConfigDump | undefined {
    const snap = this.cache.get(id);
    if (!snap) return undefined;
    const types: ConfigDump['types'] = {};
    for (const [t, v] of Object.entries(snap.types)) {
      types[t] = { version: v.version, resources: [...v.resources.values()].map((r) => redact(r.msg) as Record<string, unknown>) };
    }
    // Secrets are per stream (each holds its own key): the newest stream's, already redacted, redacted again to be sure.
    const secrets = this.ads.secretsOf(id);
    if (secrets) types[TYPE.secret] = { version: secrets.version, resources: [...secrets.resources.values()].map((r) => redact(r.msg) as Record<string, unknown>) };
    return { id, snapshotVersion: snap.version, types };
  }
}

/** An EndpointSlice that names its Service: the only change the incremental path takes. */
function isServiceSlice(o: KubeObject): boolean {
  return isEndpointSlice(o) && sliceService(o) !== undefined;
}

function short(typeUrl: string): string {
  return typeUrl.slice(typeUrl.lastIndexOf('.') + 1);
}

/**
 * Fields holding private material, redacted whole (as Envoy's own config_dump does). Certificates
 * (certificate_chain, trusted_ca) are public and stay, so `mesh proxy-config secret` can show them.
 */
const SECRET_KEYS = new Set(['private_key', 'password', 'session_ticket_keys', 'generic_secret', 'key']);

/** Copy of a resource with private material replaced: private keys never leave the controller. */
export function redact(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(redact);
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = SECRET_KEYS.has(k) ? '[redacted]' : redact(x);
    return out;
  }
  return v;
}
