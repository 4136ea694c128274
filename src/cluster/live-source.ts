import { MESH_DOMAIN } from '../constants.js';
import { listed, type Source, type SourceListener, type SourceListOptions, type SourceObject, type SourceWatch } from './source.js';
import type { Cluster, ConnectOptions } from './types.js';
import type { WatchKind, WatchOptions } from './watch.js';

/** What the model reads from a live cluster: what the controller watches and `list()` reads by default. */
export const WATCHED_KINDS: readonly WatchKind[] = [
  { apiVersion: 'v1', kind: 'Namespace', plural: 'namespaces' },
  { apiVersion: 'v1', kind: 'Service', plural: 'services' },
  { apiVersion: 'v1', kind: 'Pod', plural: 'pods' },
  { apiVersion: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts' },
  { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', plural: 'endpointslices' },
  { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', plural: 'httproutes', missingHint: 'install the Gateway API CRDs, or run `mesh install --gateway-api` to add the HTTPRoute CRD' },
  { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GRPCRoute', plural: 'grpcroutes', missingHint: 'run `mesh install --gateway-api` (or install the Gateway API standard CRDs, v1.1.0 or later) to route gRPC with GRPCRoutes' },
  { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', plural: 'gatewayclasses', missingHint: 'install the Gateway API CRDs (standard channel); until then no ingress Gateway is served' },
  { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', plural: 'gateways', missingHint: 'install the Gateway API CRDs (standard channel); until then no ingress Gateway is served' },
  { apiVersion: 'gateway.networking.k8s.io/v1beta1', kind: 'ReferenceGrant', plural: 'referencegrants', missingHint: 'install the Gateway API CRDs (standard channel); until then cross-namespace backendRefs are refused' },
  // TLS Secrets only, for the certificates of Gateway listeners (served over SDS to gateway proxies).
  { apiVersion: 'v1', kind: 'Secret', plural: 'secrets', fieldSelector: 'type=kubernetes.io/tls', optional: true },
  { apiVersion: `${MESH_DOMAIN}/v1alpha1`, kind: 'AuthorizationPolicy', plural: 'authorizationpolicies', missingHint: 'run `mesh install` (or `mesh upgrade`) to add the mesh CRDs' },
  { apiVersion: `${MESH_DOMAIN}/v1alpha1`, kind: 'ExternalService', plural: 'externalservices', missingHint: 'run `mesh upgrade` to add the ExternalService CRD' },
  { apiVersion: `${MESH_DOMAIN}/v1alpha1`, kind: 'TrafficPolicy', plural: 'trafficpolicies', missingHint: 'run `mesh install` (or `mesh upgrade`) to add the TrafficPolicy CRD' },
];

/** Options of {@link KubernetesSource}. */
export interface KubernetesSourceOptions {
  /** How to reach the cluster (the watch opens its own connection from these). */
  connect?: ConnectOptions;
  /** A cluster already connected, used by list() (else it connects on first use). */
  cluster?: Cluster;
  /** Diagnostic lines said once (a kind's CRD is not installed; retries go to onError only). */
  log?: (line: string) => void;
  /** The kinds list() reads by default and watch() watches (default WATCHED_KINDS; the dashboard adds workloads and Gateways). */
  kinds?: readonly WatchKind[];
  /** Retry timer and backoff of the watch (tests); see WatchOptions. */
  watch?: Omit<WatchOptions, 'log'>;
}

/**
 * The live source: `list` asks the API server (kinds in parallel; the model's kinds by default),
 * `watch` runs informers on every watched kind (src/cluster/watch.ts: restarted with backoff, the
 * last set stays valid meanwhile).
 */
export class KubernetesSource implements Source {
  readonly description = 'kubernetes';
  private readonly opts: KubernetesSourceOptions;
  private cluster: Promise<Cluster> | undefined;
  private readonly running = new Set<SourceWatch>();

  constructor(opts: KubernetesSourceOptions = {}) {
    this.opts = opts;
    if (opts.cluster) this.cluster = Promise.resolve(opts.cluster);
  }

  async list(opts: SourceListOptions = {}): Promise<SourceObject[]> {
    this.cluster ??= import('./index.js').then((m) => m.connect(this.opts.connect ?? {}));
    const cluster = await this.cluster;
    const kinds = opts.kinds ?? this.opts.kinds ?? WATCHED_KINDS;
    const lists = await Promise.all(
      kinds.map((k) => {
        const list = cluster.list(k.apiVersion, k.kind, { ...(opts.namespace === undefined ? {} : { namespace: opts.namespace }), ...(k.fieldSelector ? { fieldSelector: k.fieldSelector } : {}) });
        // An optional kind the caller may not read (Secrets) is left out rather than failing the list.
        return k.optional ? list.catch(() => []) : list;
      }),
    );
    const out: SourceObject[] = [];
    for (const list of lists) for (const object of list) if (listed(object, { namespace: opts.namespace })) out.push({ object });
    return out;
  }

  async watch(onChange: SourceListener, onError: (err: Error) => void): Promise<SourceWatch> {
    const { watchObjects } = await import('./watch.js');
    // Retries go to onError only (the control plane logs them): one line each.
    const watcher = await watchObjects(this.opts.connect ?? {}, [...(this.opts.kinds ?? WATCHED_KINDS)], onChange, onError, { ...this.opts.watch, ...(this.opts.log ? { log: this.opts.log } : {}) });
    const handle: SourceWatch = {
      stop: async () => {
        this.running.delete(handle);
        await watcher.stop();
      },
    };
    this.running.add(handle);
    return handle;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.running].map((w) => w.stop()));
  }
}
