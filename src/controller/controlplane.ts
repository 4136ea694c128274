import * as grpc from '@grpc/grpc-js';
import type { KubeObject } from '../cluster/types.js';
import { buildModel, type ModelOptions } from '../model/build.js';
import type { MeshModel } from '../model/types.js';
import { AdsServer, type NodeInfo, type StreamStatus } from '../xds/ads.js';
import { consistent, makeSnapshot, SnapshotCache, type Snapshot } from '../xds/snapshot.js';
import { resourcesFor } from '../xds/translate.js';
import { TYPE } from '../xds/protos.js';
import type { ServedCertificate, StreamIdentity } from '../xds/secrets.js';
import { WorkloadIdentities, type WorkloadIdentityOptions } from './identity.js';
import { ControllerMetrics } from './metrics.js';

/**
 * Where the control plane's objects come from. `start` delivers the full current set through
 * `onChange` and again after every change (state of the world, not deltas), until `stop`.
 */
export interface ObjectSource {
  readonly description: string;
  start(onChange: (objects: KubeObject[]) => void, onError: (err: Error) => void): Promise<void>;
  stop(): Promise<void>;
}

/** A source whose objects the caller sets: for tests and embedding. */
export class MemorySource implements ObjectSource {
  readonly description = 'memory';
  private objects: KubeObject[];
  private onChange: ((objects: KubeObject[]) => void) | undefined;

  constructor(objects: KubeObject[] = []) {
    this.objects = objects;
  }

  /** Replace the whole set of objects. */
  set(objects: KubeObject[]): void {
    this.objects = objects;
    this.onChange?.(objects);
  }

  async start(onChange: (objects: KubeObject[]) => void): Promise<void> {
    this.onChange = onChange;
    onChange(this.objects);
  }

  async stop(): Promise<void> {
    this.onChange = undefined;
  }
}

/** Options of {@link ControlPlane}. */
export interface ControlPlaneOptions {
  source: ObjectSource;
  /** Source changes within this window become one snapshot (default 100 ms). */
  debounceMs?: number;
  /** A burst of changes is cut into a snapshot at least this often (default 1 s). */
  maxDelayMs?: number;
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

/** What `/debug/syncz` returns for one proxy. */
export interface ProxySync {
  id: string;
  kind: string;
  namespace?: string;
  pod?: string;
  connected: boolean;
  streams: StreamStatus[];
  snapshotVersion?: string;
  /** The identity of the newest stream (SDS), and the certificate it holds, if any. */
  identity?: StreamIdentity;
  certificate?: ServedCertificate;
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
  private model: MeshModel | undefined;
  private generation = 0;
  private changedAt = 0;
  private readonly nodes = new Map<string, { node: NodeInfo; streams: number }>();
  private shared = new Map<string, Snapshot>();
  private timer: NodeJS.Timeout | undefined;
  private firstPendingAt = 0;
  private pending: KubeObject[] | undefined;
  private objects: KubeObject[] = [];
  /** The last error building a model or snapshot (cleared by the next success). */
  lastError: string | undefined;

  constructor(opts: ControlPlaneOptions) {
    this.opts = opts;
    this.log = opts.log ?? (() => undefined);
    const onEvent = (e: 'first' | 'renewal' | 'refused'): void => (e === 'refused' ? this.metrics.sdsRefused.inc() : this.metrics.sdsIssued.inc({ kind: e }));
    this.identities = opts.identity ? new WorkloadIdentities({ ...opts.identity, log: this.log, onEvent, podExists: (ns, name, uid) => this.podExists(ns, name, uid) }) : undefined;
    this.ads = new AdsServer({ cache: this.cache, onNode: (n) => this.nodeConnected(n), secrets: this.identities });
    this.ads.on('connect', (s) => {
      this.metrics.connected.set(this.ads.status().length);
      this.log(`proxy connected: ${s.node.id} (${s.node.kind}${s.node.namespace ? `, ${s.node.namespace}` : ''})`);
    });
    this.ads.on('disconnect', (s) => {
      this.metrics.connected.set(this.ads.status().length);
      const entry = this.nodes.get(s.node.id);
      if (entry && --entry.streams <= 0) {
        this.nodes.delete(s.node.id);
        this.cache.delete(s.node.id);
      }
      this.log(`proxy disconnected: ${s.node.id}`);
    });
    this.ads.on('push', (p) => {
      this.metrics.pushes.inc({ type: short(p.typeUrl) });
      this.metrics.pushBytes.inc({ type: short(p.typeUrl) }, p.bytes);
      if (p.latencyMs !== undefined) this.metrics.pushLatency.observe({ type: short(p.typeUrl) }, p.latencyMs / 1000);
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
    return this.objects;
  }

  /** Labels of a namespace as the source last delivered it (the Namespace informer), or undefined. */
  namespaceLabels(name: string): Record<string, string> | undefined {
    const ns = this.objects.find((o) => o.kind === 'Namespace' && o.metadata.name === name);
    return ns ? (ns.metadata.labels ?? {}) : undefined;
  }

  /** Whether the source's objects hold this pod (with this uid, when both are known). */
  podExists(namespace: string, name: string, uid: string | undefined): boolean {
    return this.objects.some((o) => o.kind === 'Pod' && o.metadata.name === name && (o.metadata.namespace ?? 'default') === namespace && !(uid && o.metadata.uid && o.metadata.uid !== uid));
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
    await this.opts.source.start(
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
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.identities?.stop();
    await this.opts.source.stop();
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.forceShutdown();
    }
  }

  private onSourceChange(objects: KubeObject[]): void {
    const now = Date.now();
    if (!this.pending) this.firstPendingAt = now;
    this.pending = objects;
    this.objects = objects;
    this.changedAt ||= now;
    if (this.model === undefined) {
      // The first state is applied at once: proxies connecting at start-up should not wait.
      this.flush();
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    const debounce = this.opts.debounceMs ?? 100;
    const wait = Math.max(0, Math.min(debounce, this.firstPendingAt + (this.opts.maxDelayMs ?? 1000) - now));
    this.timer = setTimeout(() => this.flush(), wait);
  }

  /** Build the model from the pending objects now and push snapshots (tests and SIGHUP use it). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const objects = this.pending;
    if (!objects) return;
    this.pending = undefined;
    const changedAt = this.changedAt || Date.now();
    this.changedAt = 0;
    let model: MeshModel;
    try {
      model = buildModel(objects, this.opts.model);
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
    let ok = true;
    for (const [id, { node }] of this.nodes) {
      const snap = this.snapshotFor(node, changedAt, previous);
      if (snap) this.cache.set(id, snap);
      else ok = false;
    }
    if (ok) this.lastError = undefined;
    // A new model may have deleted pods or come with a new trust bundle: renew (or stop renewing) now.
    void this.identities?.sweep();
    this.opts.onModel?.(model, this.generation);
  }

  /** Proxies with equal keys get equal resources: gRPC clients differ only by what their namespace may reach. */
  private classKey(node: NodeInfo): string {
    if (node.kind === 'sidecar') return `sidecar|${node.namespace ?? ''}|${node.pod ?? ''}`;
    const reach = this.model?.namespaces.find((n) => n.name === node.namespace)?.reachable;
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
      const snap = makeSnapshot(String(this.generation), resourcesFor(this.model, node), changedAt);
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

  /** Per-proxy sync state for /debug/syncz and `mesh proxy-status`. */
  syncz(): { generation: number; ready: boolean; lastError?: string; proxies: ProxySync[] } {
    const streams = this.ads.status();
    const proxies: ProxySync[] = [...this.nodes.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([id, { node }]) => {
      const mine = streams.filter((s) => s.node.id === id);
      const p: ProxySync = { id, kind: node.kind, connected: mine.length > 0, streams: mine, snapshotVersion: this.cache.get(id)?.version };
      if (node.namespace) p.namespace = node.namespace;
      if (node.pod) p.pod = node.pod;
      const newest = mine[mine.length - 1];
      if (newest?.identity) {
        p.identity = newest.identity;
        if (newest.identity.certificate) p.certificate = newest.identity.certificate;
      }
      return p;
    });
    const out: { generation: number; ready: boolean; lastError?: string; proxies: ProxySync[] } = { generation: this.generation, ready: this.ready, proxies };
    if (this.lastError) out.lastError = this.lastError;
    return out;
  }

  /** The config a proxy holds (plain resources by type), or undefined for an unknown proxy. Secrets are redacted. */
  configDump(id: string): Record<string, unknown> | undefined {
    const snap = this.cache.get(id);
    if (!snap) return undefined;
    const types: Record<string, unknown> = {};
    for (const [t, v] of Object.entries(snap.types)) {
      types[t] = { version: v.version, resources: [...v.resources.values()].map((r) => redact(r.msg)) };
    }
    // Secrets are per stream (each holds its own key): the newest stream's, already redacted, redacted again to be sure.
    const secrets = this.ads.secretsOf(id);
    if (secrets) types[TYPE.secret] = { version: secrets.version, resources: [...secrets.resources.values()].map((r) => redact(r.msg)) };
    return { id, snapshotVersion: snap.version, types };
  }
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
