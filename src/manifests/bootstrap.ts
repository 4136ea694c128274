import {
  CONTROLLER_NAME,
  TOKEN_FILE,
  TOKEN_MOUNT_PATH,
  TRUST_BUNDLE_KEY,
  TRUST_BUNDLE_MOUNT_PATH,
} from '../constants.js';
import { usageError } from '../errors.js';
import { envoyStatsConfig } from '../metrics/stats-tags.js';
import type { Values, XdsMode } from './values.js';

/**
 * The Envoy bootstrap of an injected proxy, as pure data. `mesh inject` (src/manifests/inject.ts)
 * writes the inputs as flags of the mesh-init container (`bootstrapArgs`); at pod start
 * `mesh proxy-init --bootstrap-out` parses them back (`validateBootstrapFlags`), adds the pod's
 * identity from the downward-API env, and writes `envoyBootstrap(...)` as JSON for `envoy -c`.
 */

/**
 * A kubelet probe served by the proxy's readiness port: an HTTP probe is forwarded to the app; a
 * TCP probe (`tcp: true`) answers 200 while the proxy can connect to the app's port (Envoy's TCP
 * health check of a local cluster, read by the health_check filter) and 503 otherwise.
 */
export interface AppProbe {
  /** The path on the readiness port (`/app-health/<container>/<readyz|livez|startupz>`). */
  path: string;
  /** The app's port on 127.0.0.1. */
  port: number;
  /** The app's own probe path ('' for a TCP probe). */
  originalPath: string;
  https: boolean;
  headers: { name: string; value: string }[];
  /** A TCP probe: connect to the port, send nothing. */
  tcp?: boolean;
}

/** The pod the proxy runs in (the downward API's metadata.name, metadata.namespace, status.podIP, spec.serviceAccountName). */
export interface PodIdentity {
  name: string;
  namespace: string;
  ip: string;
  serviceAccount: string;
}

/** What the bootstrap depends on that `mesh inject` knows (from values and the pod's probes). */
export interface BootstrapSettings {
  /** The mesh version that injected the pod. */
  version: string;
  trustDomain: string;
  /** host:port of the control plane's TLS xDS port (controller.xdsTlsPort): the token goes in call metadata. */
  xdsAddress: string;
  /** ADS variant: `sotw` (api_type GRPC) or `delta` (DELTA_GRPC, incremental xDS). */
  xdsMode: XdsMode;
  adminPort: number;
  statsPort: number;
  readinessPort: number;
  probes: AppProbe[];
  /**
   * Set for the proxy of an ingress Gateway (in the pod's namespace): the node then says
   * PROXY_KIND=gateway and GATEWAY_NAME, and the control plane serves it that Gateway's config.
   */
  gateway?: string;
}

/** Everything envoyBootstrap needs. */
export interface BootstrapOptions extends BootstrapSettings {
  pod: PodIdentity;
}

/** The bootstrap settings `mesh inject` derives from the values, the injecting version and the rewritten probes. */
export function bootstrapSettings(values: Values, version: string, probes: AppProbe[]): BootstrapSettings {
  const p = values.proxy;
  return {
    version,
    trustDomain: values.trustDomain,
    xdsAddress: `${CONTROLLER_NAME}.${values.namespace}.svc:${values.controller.xdsTlsPort}`,
    xdsMode: p.xdsMode,
    adminPort: p.adminPort,
    statsPort: p.statsPort,
    readinessPort: p.readinessPort,
    probes,
  };
}

const ROUTER = { name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } };

function httpListener(name: string, port: number, routes: unknown[], filters: unknown[] = []): unknown {
  return {
    name,
    address: { socket_address: { address: '0.0.0.0', port_value: port } },
    filter_chains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: {
              '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
              stat_prefix: name,
              route_config: { name, virtual_hosts: [{ name, domains: ['*'], routes }] },
              http_filters: [...filters, ROUTER],
            },
          },
        ],
      },
    ],
  };
}

function localCluster(name: string, port: number, https: boolean): unknown {
  return {
    name,
    type: 'STATIC',
    connect_timeout: '1s',
    load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } }] }] },
    ...(https
      ? { transport_socket: { name: 'envoy.transport_sockets.tls', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext' } } }
      : {}),
  };
}

/** A local cluster whose one host is checked by connecting every second (a kubelet TCP probe, done by the proxy). */
function tcpCheckedCluster(name: string, port: number): unknown {
  return {
    ...(localCluster(name, port, false) as Record<string, unknown>),
    health_checks: [{ timeout: '1s', interval: '1s', unhealthy_threshold: 1, healthy_threshold: 1, tcp_health_check: {} }],
  };
}

/**
 * The Envoy bootstrap of one pod's proxy (pure, deterministic). The proxy reaches the control
 * plane's xDS Service over TLS (trust bundle ConfigMap) and presents its projected ServiceAccount
 * token; admin listens on localhost only.
 */
export function envoyBootstrap(o: BootstrapOptions): Record<string, unknown> {
  const appClusters = new Map<string, unknown>();
  const tcpFilters = o.probes.filter((pr) => pr.tcp).map((pr) => {
    const cluster = `app-tcp-${pr.port}`;
    appClusters.set(cluster, tcpCheckedCluster(cluster, pr.port));
    // Answers the probe path itself (no pass-through): 200 while the cluster's one host passes its TCP check.
    return {
      name: 'envoy.filters.http.health_check',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.filters.http.health_check.v3.HealthCheck',
        pass_through_mode: false,
        headers: [{ name: ':path', string_match: { exact: pr.path } }],
        cluster_min_healthy_percentages: { [cluster]: { value: 100 } },
      },
    };
  });
  const probeRoutes = o.probes.filter((pr) => !pr.tcp).map((pr) => {
    const cluster = `app-health-${pr.port}${pr.https ? '-tls' : ''}`;
    appClusters.set(cluster, localCluster(cluster, pr.port, pr.https));
    return {
      match: { path: pr.path },
      route: { cluster, prefix_rewrite: pr.originalPath, timeout: '10s' },
      ...(pr.headers.length ? { request_headers_to_add: pr.headers.map((h) => ({ header: { key: h.name, value: h.value }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' })) } : {}),
    };
  });
  const pod = o.pod;
  return {
    node: {
      id: `${pod.name}.${pod.namespace}`,
      cluster: `${pod.serviceAccount}.${pod.namespace}`,
      metadata: {
        MESH_VERSION: o.version,
        POD_NAME: pod.name,
        NAMESPACE: pod.namespace,
        POD_IP: pod.ip,
        SERVICE_ACCOUNT: pod.serviceAccount,
        TRUST_DOMAIN: o.trustDomain,
        ...(o.gateway ? { PROXY_KIND: 'gateway', GATEWAY_NAME: o.gateway } : {}),
      },
    },
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: o.adminPort } } },
    // Whole cluster names in `envoy_cluster_name` (src/metrics/stats-tags.ts).
    stats_config: envoyStatsConfig(),
    dynamic_resources: {
      ads_config: {
        api_type: o.xdsMode === 'delta' ? 'DELTA_GRPC' : 'GRPC',
        transport_api_version: 'V3',
        set_node_on_first_message_only: true,
        grpc_services: [
          {
            google_grpc: {
              target_uri: o.xdsAddress,
              stat_prefix: 'xds',
              channel_credentials: { ssl_credentials: { root_certs: { filename: `${TRUST_BUNDLE_MOUNT_PATH}/${TRUST_BUNDLE_KEY}` } } },
              credentials_factory_name: 'envoy.grpc_credentials.file_based_metadata',
              call_credentials: [
                {
                  from_plugin: {
                    name: 'envoy.grpc_credentials.file_based_metadata',
                    typed_config: {
                      '@type': 'type.googleapis.com/envoy.config.grpc_credential.v3.FileBasedMetadataConfig',
                      secret_data: { filename: `${TOKEN_MOUNT_PATH}/${TOKEN_FILE}` },
                      header_key: 'authorization',
                      header_prefix: 'Bearer ',
                    },
                  },
                },
              ],
            },
          },
        ],
      },
      cds_config: { ads: {}, resource_api_version: 'V3' },
      lds_config: { ads: {}, resource_api_version: 'V3' },
    },
    static_resources: {
      listeners: [
        httpListener('mesh-stats', o.statsPort, [{ match: { prefix: '/stats/prometheus' }, route: { cluster: 'mesh-admin' } }]),
        httpListener('mesh-readiness', o.readinessPort, [{ match: { path: '/healthz/ready' }, route: { cluster: 'mesh-admin', prefix_rewrite: '/ready' } }, ...probeRoutes], tcpFilters),
      ],
      clusters: [localCluster('mesh-admin', o.adminPort, false), ...[...appClusters.keys()].sort().map((k) => appClusters.get(k))],
    },
  };
}

/** The file `mesh proxy-init --bootstrap-out` writes: the bootstrap as JSON (Envoy picks the format by the .json suffix). */
export function bootstrapJson(o: BootstrapOptions): string {
  return JSON.stringify(envoyBootstrap(o), null, 2) + '\n';
}

// ---------------------------------------------------------------------------------------------
// The contract between `mesh inject` and `mesh proxy-init`: settings -> flags -> settings.

/** The raw bootstrap flag values of `mesh proxy-init`, as commander hands them over. */
export interface BootstrapFlags {
  bootstrapOut?: string;
  meshVersion?: string;
  trustDomain?: string;
  xdsAddress?: string;
  /** sotw (default) or delta. */
  xdsMode?: string;
  adminPort?: string;
  statsPort?: string;
  readinessPort?: string;
  /** JSON array of AppProbe. */
  appProbes?: string;
  /** The Gateway this proxy serves (an ingress gateway: bootstrap only, no redirect). */
  gatewayName?: string;
}

/** The `mesh proxy-init` arguments that make it write the bootstrap for `s` to `out` (what mesh inject puts on mesh-init). */
export function bootstrapArgs(s: BootstrapSettings, out: string): string[] {
  const args = [
    '--bootstrap-out', out,
    '--mesh-version', s.version,
    '--trust-domain', s.trustDomain,
    '--xds-address', s.xdsAddress,
    '--admin-port', String(s.adminPort),
    '--stats-port', String(s.statsPort),
    '--readiness-port', String(s.readinessPort),
  ];
  // Only when not the default, so pods injected before the switch existed keep identical arguments.
  if (s.xdsMode !== 'sotw') args.push('--xds-mode', s.xdsMode);
  if (s.probes.length) args.push('--app-probes', JSON.stringify(s.probes));
  if (s.gateway) args.push('--gateway-name', s.gateway);
  return args;
}

/** The downward-API env mesh inject gives mesh-init, variable -> field path. */
export const POD_ENV = { POD_NAME: 'metadata.name', POD_NAMESPACE: 'metadata.namespace', POD_IP: 'status.podIP', SERVICE_ACCOUNT: 'spec.serviceAccountName' } as const;

const HINT = 'mesh proxy-init --bootstrap-out runs in the mesh-init container with the arguments and env mesh inject writes';

function flagPort(flag: string, v: string | undefined): number {
  if (v === undefined || v === '') throw usageError(`${flag} is required with --bootstrap-out`, HINT);
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > 65535) throw usageError(`${flag} "${v}": not a port (1-65535)`);
  return n;
}

function isAppProbe(x: unknown): x is AppProbe {
  if (typeof x !== 'object' || x === null) return false;
  const p = x as Record<string, unknown>;
  return (
    typeof p.path === 'string' && p.path.startsWith('/') &&
    typeof p.port === 'number' && Number.isInteger(p.port) && p.port >= 1 && p.port <= 65535 &&
    typeof p.originalPath === 'string' &&
    typeof p.https === 'boolean' &&
    (p.tcp === undefined || typeof p.tcp === 'boolean') &&
    Array.isArray(p.headers) && p.headers.every((h: unknown) => typeof h === 'object' && h !== null && typeof (h as Record<string, unknown>).name === 'string' && typeof (h as Record<string, unknown>).value === 'string')
  );
}

/**
 * Validate the bootstrap flags of `mesh proxy-init` and the pod identity in `env` (POD_NAME,
 * POD_NAMESPACE, POD_IP, SERVICE_ACCOUNT). Returns undefined without --bootstrap-out; throws a
 * usage error naming the flag or variable (exit 2).
 */
export function validateBootstrapFlags(f: BootstrapFlags, env: Readonly<Record<string, string | undefined>>): { out: string; options: BootstrapOptions } | undefined {
  const keys = ['meshVersion', 'trustDomain', 'xdsAddress', 'xdsMode', 'adminPort', 'statsPort', 'readinessPort', 'appProbes', 'gatewayName'] as const;
  const set = keys.filter((k) => f[k] !== undefined).map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
  if (f.bootstrapOut === undefined) {
    if (set.length) throw usageError(`${set[0]} needs --bootstrap-out PATH`, HINT);
    return undefined;
  }
  if (f.bootstrapOut === '') throw usageError('--bootstrap-out: empty path');
  const need = (flag: string, v: string | undefined): string => {
    if (v === undefined || v === '') throw usageError(`${flag} is required with --bootstrap-out`, HINT);
    return v;
  };
  const xdsAddress = need('--xds-address', f.xdsAddress);
  if (!/^[^\s:]+:\d+$/.test(xdsAddress)) throw usageError(`--xds-address "${xdsAddress}": not HOST:PORT`);
  const xdsMode = f.xdsMode ?? 'sotw';
  if (xdsMode !== 'sotw' && xdsMode !== 'delta') throw usageError(`--xds-mode "${xdsMode}": not sotw or delta`);
  let probes: AppProbe[] = [];
  if (f.appProbes !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(f.appProbes);
    } catch {
      parsed = undefined;
    }
    if (!Array.isArray(parsed) || !parsed.every(isAppProbe)) {
      throw usageError('--app-probes: not a JSON array of {path, port, originalPath, https, headers}', HINT);
    }
    probes = parsed;
  }
  const fromEnv = (name: keyof typeof POD_ENV): string => {
    const v = env[name];
    if (v === undefined || v === '') throw usageError(`environment variable ${name} is not set (the pod's ${POD_ENV[name]})`, HINT);
    return v;
  };
  if (f.gatewayName !== undefined && !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(f.gatewayName)) throw usageError(`--gateway-name "${f.gatewayName}": not a Gateway name`);
  return {
    out: f.bootstrapOut,
    options: {
      ...(f.gatewayName ? { gateway: f.gatewayName } : {}),
      version: need('--mesh-version', f.meshVersion),
      trustDomain: need('--trust-domain', f.trustDomain),
      xdsAddress,
      xdsMode,
      adminPort: flagPort('--admin-port', f.adminPort),
      statsPort: flagPort('--stats-port', f.statsPort),
      readinessPort: flagPort('--readiness-port', f.readinessPort),
      probes,
      pod: { name: fromEnv('POD_NAME'), namespace: fromEnv('POD_NAMESPACE'), ip: fromEnv('POD_IP'), serviceAccount: fromEnv('SERVICE_ACCOUNT') },
    },
  };
}
