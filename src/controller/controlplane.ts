import * as grpc from '@grpc/grpc-js';
import type { Counter, Histogram } from 'prom-client';
import type { Source, SourceChanges, SourceWatch } from '../cluster/source.js';
import type { KubeObject } from '../cluster/types.js';
import type { ModelOptions } from '../model/build.js';
import type { MeshModel } from '../model/types.js';
import { AdsServer, type AdsLimits } from '../xds/ads.js';
import { SnapshotCache } from '../xds/cache.js';
import { TYPE } from '../xds/protos.js';
import { redactSensitive } from '../xds/redact.js';
import { synczDocument, type ConfigDump, type NodeInfo, type Syncz } from '../xds/syncz.js';
import { ChangeScheduler, type Clock } from './debounce.js';
import { WorkloadIdentities, type WorkloadIdentityOptions } from './identity.js';
import { GatewaySecrets } from './gateway-secrets.js';
import { ControllerMetrics } from './metrics.js';
import { RepeatLog } from './throttle.js';
import { SnapshotBuilder, type BuildResult, type SnapshotSink } from './snapshots.js';

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
  /** Time and timers of the debounce (tests); the process clock by default. */
  clock?: Clock;
  /** Diagnostic lines (one per call, no trailing newline). */
  log?: (line: string) => void;
  /**
   * Called after each new model has been built and its snapshots set (tests and embedding);
   * `endpointsOnly` when only endpoints changed (the incremental EDS path: every other field of
   * the model is the previous model's).
   */
  onModel?: (model: MeshModel, generation: number, endpointsOnly: boolean) => void;
  /** More gRPC services on the ADS server (the CA's CertificateService). */
  services?: { definition: grpc.ServiceDefinition; handlers: grpc.UntypedServiceImplementation }[];
  /**
   * Serve SDS Secrets (workload certificates) to authenticated TLS streams; see WorkloadIdentities.
   * Without it no stream gets secrets. The control plane supplies pod existence from its objects.
   */
  identity?: Omit<WorkloadIdentityOptions, 'podExists' | 'log' | 'onEvent'>;
  /** NACKs are logged once per stream and type per this interval, then counted (default 10 s). */
  nackLogIntervalMs?: number;
  /** Per-stream caps of the ADS server (default ADS_LIMITS). */
  adsLimits?: AdsLimits;
}

/** Distinct proxy versions mesh_xds_connected_proxies labels before it says "other". */
export const MAX_VERSION_LABELS = 16;

/**
 * The control plane process: source -> {@link SnapshotBuilder} (objects -> model -> per-proxy
 * snapshots), paced by a {@link ChangeScheduler} (structural changes debounced, endpoint changes
 * throttled) -> {@link SnapshotCache} -> {@link AdsServer}. This class is the wiring: it owns the
 * gRPC server, the source's watch, the proxies known from ADS, metrics and logs. A snapshot that
 * fails to encode or is inconsistent is refused and the last good one stays.
 */
export class ControlPlane {
  readonly cache = new SnapshotCache();
  readonly ads: AdsServer;
  readonly metrics = new ControllerMetrics();
  /** SDS issuance (undefined without `identity` options). */
  readonly identities: WorkloadIdentities | undefined;
  private readonly opts: ControlPlaneOptions;
  private readonly log: (line: string) => void;
  private readonly builder: SnapshotBuilder;
  private readonly gatewaySecrets: GatewaySecrets | undefined;
  private readonly scheduler: ChangeScheduler;
  private server: grpc.Server | undefined;
  private started = false;
  private watch: SourceWatch | undefined;
  /** Proxies known from ADS by node ID, and how many streams each has open. */
  private readonly nodes = new Map<string, NodeInfo>();
  private readonly streamsOf = new Map<string, number>();
  private readonly versionLabels = new Set<string>();
  /** The last error building a model or snapshot (cleared by the next success). */
  lastError: string | undefined;
  private nackLog: RepeatLog | undefined;

  constructor(opts: ControlPlaneOptions) {
    this.opts = opts;
    this.log = opts.log ?? (() => undefined);
    this.builder = new SnapshotBuilder({ model: opts.model, memo: this.cache.memo, time: () => this.metrics.buildSeconds.startTimer() });
    this.scheduler = new ChangeScheduler(opts, { rebuild: () => this.flush(), endpoints: () => this.flushEndpoints() });
    const onEvent = (e: 'first' | 'renewal' | 'refused' | 'failed'): void => {
      if (e === 'refused') this.metrics.sdsRefused.inc();
      else if (e !== 'failed') this.metrics.sdsIssued.inc({ kind: e });
      if (e === 'first' || e === 'renewal') this.metrics.certsIssued.inc({ service: 'sds' });
      else this.metrics.certsFailed.inc({ service: 'sds', reason: e });
    };
    this.identities = opts.identity ? new WorkloadIdentities({ ...opts.identity, log: this.log, onEvent, podExists: (ns, name, uid) => this.podExists(ns, name, uid) }) : undefined;
    // Gateway proxies also get their listeners' TLS Secrets (src/controller/gateway-secrets.ts).
    this.gatewaySecrets = this.identities
      ? new GatewaySecrets(this.identities, { model: () => this.builder.model, secret: (ns, name) => this.builder.object(`v1|Secret|${ns}|${name}`) })
      : undefined;
    this.ads = new AdsServer({ cache: this.cache, onNode: (n, key) => this.nodeConnected(n, key), secrets: this.gatewaySecrets, ...(opts.adsLimits ? { limits: opts.adsLimits } : {}) });
    // Counted here: ads.status() copies every stream, which made 1,000 connects quadratic.
    this.ads.on('connect', (s) => {
      this.metrics.connected.inc(this.proxyLabels(s.node));
      this.log(`proxy connected: ${s.node.id} (${s.node.kind}${s.node.namespace ? `, ${s.node.namespace}` : ''})`);
    });
    this.ads.on('disconnect', (s) => {
      this.metrics.connected.dec(this.proxyLabels(s.node));
      const key = this.ads.keyOf(s.streamId) ?? s.node.id;
      const left = (this.streamsOf.get(key) ?? 0) - 1;
      if (this.nodes.has(key) && left <= 0) {
        this.nodes.delete(key);
        this.streamsOf.delete(key);
        this.cache.delete(key);
      } else if (this.nodes.has(key)) this.streamsOf.set(key, left);
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
    // A proxy that NACKs every push (or a client that pretends to) is logged once per stream and
    // type per interval, then counted: the log must not grow with what a client sends.
    const nackLog = (this.nackLog = new RepeatLog(this.log, (key, n, secs) => `${n} more NACKs from ${key} in ${secs}s`, opts.nackLogIntervalMs ?? 10_000));
    this.ads.on('nack', (n) => {
      this.metrics.nacks.inc({ type: short(n.typeUrl) });
      nackLog.record(`${n.stream.node.id} (stream ${n.stream.streamId}) for ${short(n.typeUrl)}`, () => `NACK from ${n.stream.node.id} for ${short(n.typeUrl)} version ${n.version}: ${n.message}`);
    });
  }

  /**
   * The connected-proxies labels of a node. Versions are what clients report, so past
   * MAX_VERSION_LABELS distinct ones the rest count as "other": a client cannot grow the series.
   */
  private proxyLabels(node: NodeInfo): { type: string; version: string } {
    const v = node.version ?? 'unknown';
    if (!this.versionLabels.has(v) && this.versionLabels.size < MAX_VERSION_LABELS) this.versionLabels.add(v);
    return { type: node.kind, version: this.versionLabels.has(v) ? v : 'other' };
  }

  /** True once a model has been built and the ADS server listens (or the source runs, when start() was told not to listen). */
  get ready(): boolean {
    return this.builder.model !== undefined && this.started;
  }

  /** The objects the source last delivered (read-only). */
  sourceObjects(): readonly KubeObject[] {
    return this.builder.objects();
  }

  /** Labels of a namespace as the source last delivered it (the Namespace informer), or undefined. */
  namespaceLabels(name: string): Record<string, string> | undefined {
    const ns = this.builder.object(`v1|Namespace||${name}`);
    return ns ? (ns.metadata.labels ?? {}) : undefined;
  }

  /** Whether the source's objects hold this pod (with this uid, when both are known). */
  podExists(namespace: string, name: string, uid: string | undefined): boolean {
    const pod = this.builder.object(`v1|Pod|${namespace}|${name}`);
    return pod !== undefined && !(uid && pod.metadata.uid && pod.metadata.uid !== uid);
  }

  /** The current model (undefined before the source delivered). */
  currentModel(): MeshModel | undefined {
    return this.builder.model;
  }

  /**
   * Start the source and the ADS server on host:port (port 0 picks one); resolves to the bound
   * port. With `false` nothing listens here (0): the ADS service is served elsewhere (the TLS port).
   */
  async start(listen: { host?: string; port?: number } | false = {}): Promise<number> {
    const port = listen === false ? 0 : await this.listen(listen);
    this.identities?.start();
    this.watch = await this.opts.source.watch(
      (objects, changes) => this.onSourceChange(objects, changes),
      (err) => {
        this.lastError = err.message;
        this.log(`source error (serving the last snapshot): ${err.message}`);
      },
    );
    this.started = true;
    return port;
  }

  private async listen(listen: { host?: string; port?: number }): Promise<number> {
    const server = new grpc.Server({ 'grpc.keepalive_time_ms': 30_000, 'grpc.keepalive_timeout_ms': 10_000, 'grpc.http2.min_ping_interval_without_data_ms': 5_000 });
    server.addService(this.ads.serviceDefinition(), this.ads.handlers());
    for (const s of this.opts.services ?? []) server.addService(s.definition, s.handlers);
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(`${listen.host ?? '0.0.0.0'}:${listen.port ?? 0}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
    });
    this.server = server;
    return port;
  }

  /** Stop the source, close every stream and the server. */
  async stop(): Promise<void> {
    this.started = false;
    this.scheduler.cancel();
    this.nackLog?.stop();
    this.identities?.stop();
    await this.watch?.stop();
    this.watch = undefined;
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.forceShutdown();
    }
  }

  /**
   * A delivery from the source. Endpoint changes take the throttled incremental path; anything
   * else waits for the structural debounce and rebuilds everything. A delivery that changes
   * nothing is dropped (unless the last build failed: then it is retried).
   */
  private onSourceChange(objects: KubeObject[], changes?: SourceChanges): void {
    const change = this.builder.deliver(objects, changes);
    if (this.builder.model === undefined) {
      // The first state is applied at once: proxies connecting at start-up should not wait.
      this.scheduler.mark();
      this.flush();
      return;
    }
    if (change.structural || (!change.changed && this.lastError !== undefined)) this.scheduler.structuralChange();
    if (change.endpoints) this.scheduler.endpointChange();
  }

  /** Apply every pending change now and push snapshots (tests and SIGHUP use it): a full rebuild, or only the EDS update when only EndpointSlices changed. */
  flush(): void {
    if (!this.scheduler.structuralPending) {
      this.flushEndpoints();
      return;
    }
    const changedAt = this.scheduler.takeRebuild();
    let built: BuildResult;
    try {
      built = this.builder.rebuild(this.nodes, changedAt, this.sink);
    } catch (err) {
      this.lastError = `model: ${(err as Error).message}`;
      this.log(`cannot build the model (serving the last snapshot): ${(err as Error).message}`);
      return;
    }
    this.metrics.generation.set(built.generation);
    for (const w of built.model.warnings) this.log(`warning: ${w.object}: ${w.message}`);
    if (built.ok) this.lastError = undefined;
    // A new model may have deleted pods or come with a new trust bundle: renew (or stop renewing) now.
    void this.identities?.sweep();
    this.gatewaySecrets?.refresh();
    this.opts.onModel?.(built.model, built.generation, false);
  }

  /** Pending EndpointSlice changes through the incremental path; a full rebuild when it cannot take them. */
  private flushEndpoints(): void {
    this.scheduler.endpointsDue();
    if (!this.builder.endpointsPending || !this.builder.model) return;
    const changedAt = this.scheduler.takeEndpoints();
    const end = this.metrics.buildSeconds.startTimer();
    const r = this.builder.updateEndpoints(this.nodes, changedAt, this.sink);
    end();
    if (r.kind === 'unchanged') return; // e.g. a label or annotation of a slice changed, not its endpoints
    if (r.kind === 'fallback') {
      this.log(`endpoint change needs a full rebuild: ${r.why}`);
      this.scheduler.mark(changedAt);
      this.flush();
      return;
    }
    this.metrics.generation.set(r.generation);
    this.opts.onModel?.(r.model, r.generation, true);
  }

  /** Where builds put snapshots: the cache (setting one notifies the node's streams at once). */
  private readonly sink: SnapshotSink = {
    set: (id, snap) => this.cache.set(id, snap),
    refused: (id, message) => {
      this.lastError = `snapshot for ${id}: ${message}`;
      this.log(`refusing a bad snapshot for ${id} (keeping the last good one): ${message}`);
    },
    current: (id) => this.cache.get(id),
  };

  /** A stream identified its node; `key` (AdsServer's cacheKey) keeps streams with another claim to the same ID apart. */
  private nodeConnected(node: NodeInfo, key = node.id): void {
    this.nodes.set(key, node);
    this.streamsOf.set(key, (this.streamsOf.get(key) ?? 0) + 1);
    const r = this.builder.snapshotFor(node, Date.now(), this.sink, undefined, key);
    if (!r) return;
    if ('snapshot' in r) this.cache.set(key, r.snapshot);
    else this.sink.refused(node.id, r.error);
  }

  /** The key of a node ID's entry: the one held by a token-keyed (TLS) stream when there is one. */
  private keyFor(id: string): string {
    let found: string | undefined;
    for (const [key, node] of this.nodes) if (node.id === id && (found === undefined || found === id)) found = key;
    return found ?? id;
  }

  /** Per-proxy sync state for /debug/syncz and `mesh proxy-status` (format: src/xds/syncz.ts). */
  syncz(): Syncz {
    return synczDocument({
      generation: this.builder.generation,
      ready: this.ready,
      lastError: this.lastError,
      nodes: this.nodes,
      keyOf: (s) => this.ads.keyOf(s.streamId) ?? s.node.id,
      streams: this.ads.status(),
      snapshotVersion: (id) => this.cache.get(id)?.version,
    });
  }

  /** The config a proxy holds (plain resources by type), or undefined for an unknown proxy. Secrets are redacted. */
  configDump(id: string): ConfigDump | undefined {
    const snap = this.cache.get(this.keyFor(id));
    if (!snap) return undefined;
    const types: ConfigDump['types'] = {};
    for (const [t, v] of Object.entries(snap.types)) {
      // By the protos' sensitive annotations, as Envoy redacts: a route's header `key` is no secret.
      types[t] = { version: v.version, resources: [...v.resources.values()].map((r) => redactSensitive(t, r.msg) as Record<string, unknown>) };
    }
    // Secrets are per stream (each holds its own key): the newest stream's, already redacted, redacted again to be sure.
    const secrets = this.ads.secretsOf(id);
    if (secrets) types[TYPE.secret] = { version: secrets.version, resources: [...secrets.resources.values()].map((r) => redact(r.msg) as Record<string, unknown>) };
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
