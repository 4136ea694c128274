import { egressPlan, EGRESS_BLOCKED_CLUSTER } from '../model/egress.js';
import type { MeshModel } from '../model/types.js';
import type { ProxyTelemetry } from './observability.js';

// The sidecar's egress: ExternalService hosts as DNS clusters with outbound filter chains (HTTP by
// Host, TLS by SNI, TCP by port), and under registry-only a default chain to a named, endpoint-less
// cluster, so refused calls show as `cluster.BlockedByRegistryOnly.*` stats and, when the proxy
// logs, in access logs (response flag UH). What goes where is decided by model/egress.ts, which
// `mesh check` reads too.

/** An Envoy message as plain JSON-shaped data (as in translate.ts). */
type Msg = { [key: string]: unknown };

const T = {
  hcm: 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
  router: 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
  tcpProxy: 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
  upstreamTls: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
} as const;

/** Where sidecars find the public CA roots to verify external hosts with TLS origination (the Envoy image's system bundle). */
export const SYSTEM_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

const TEN_SECONDS = { seconds: 10, nanos: 0 };

/** Outbound cluster name of an external host's port (Istio-style, as for Services). */
export function externalClusterName(host: string, port: number): string {
  return `outbound|${port}||${host}`;
}

/** The proxy's access log and tracing settings (observability.ts), as every other chain gets them. */
type Telemetry = Pick<ProxyTelemetry, 'hcm' | 'tcp'>;

function tcpProxy(statPrefix: string, cluster: string, telemetry: Telemetry): Msg {
  return { name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': T.tcpProxy, stat_prefix: statPrefix, cluster, ...telemetry.tcp } };
}

/** What the sidecar's outbound listener gains from egress control. */
export interface EgressResources {
  clusters: Msg[];
  chains: Msg[];
  /** The listener needs the TLS inspector (SNI chains). */
  tlsInspector: boolean;
  /** The default chain's filters: passthrough (allow-any) or the blocked cluster (registry-only). */
  defaultChain: Msg;
}

/** Egress resources of a sidecar (pure). With no ExternalService and allow-any, only the passthrough default chain. */
export function egressResources(model: MeshModel, telemetry: Telemetry): EgressResources {
  const plan = egressPlan(model);
  const clusters: Msg[] = [];
  const chains: Msg[] = [];
  const registryOnly = model.registryOnly === true;
  const fallback = registryOnly ? EGRESS_BLOCKED_CLUSTER : 'PassthroughCluster';
  for (const e of plan.entries) {
    const name = externalClusterName(e.host, e.port);
    const c: Msg = {
      name,
      // One DNS name per cluster: LOGICAL_DNS connects to the first address DNS returns, as Envoy advises for large web services.
      type: 'LOGICAL_DNS',
      dns_lookup_family: 'V4_PREFERRED',
      connect_timeout: TEN_SECONDS,
      load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: e.host, port_value: e.targetPort } } } }] }] },
    };
    if (e.tlsOrigination) {
      c.transport_socket = {
        name: 'envoy.transport_sockets.tls',
        typed_config: {
          '@type': T.upstreamTls,
          sni: e.host,
          common_tls_context: { validation_context: { trusted_ca: { filename: SYSTEM_CA_BUNDLE }, match_typed_subject_alt_names: [{ san_type: 'DNS', matcher: { exact: e.host } }] } },
        },
      };
    }
    clusters.push(c);
  }
  const tlsInspector = plan.ports.some((p) => p.protocol === 'tls');
  for (const p of plan.ports) {
    const entries = plan.entries.filter((e) => e.port === p.port);
    if (p.protocol === 'http') {
      const vhosts: Msg[] = entries.map((e) => ({ name: `${e.host}:${e.port}`, domains: [e.host, `${e.host}:${e.port}`], routes: [{ name: 'default', match: { prefix: '/' }, route: { cluster: externalClusterName(e.host, e.port), timeout: { seconds: 0, nanos: 0 } } }] }));
      vhosts.push({ name: registryOnly ? 'blocked-by-registry-only' : 'passthrough', domains: ['*'], routes: [{ name: registryOnly ? 'blocked-by-registry-only' : 'passthrough', match: { prefix: '/' }, route: { cluster: fallback, timeout: { seconds: 0, nanos: 0 } } }] });
      const hcm: Msg = {
        '@type': T.hcm,
        stat_prefix: `outbound_external_${p.port}`,
        route_config: { name: `external|${p.port}`, virtual_hosts: vhosts },
        http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': T.router } }],
        ...telemetry.hcm,
        use_remote_address: { value: false },
      };
      chains.push({ name: `external|${p.port}|http`, filter_chain_match: { destination_port: { value: p.port }, ...(tlsInspector ? { transport_protocol: 'raw_buffer' } : {}) }, filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: hcm }] });
    } else if (p.protocol === 'tls') {
      for (const e of entries) {
        chains.push({ name: `external|${p.port}|${e.host}`, filter_chain_match: { destination_port: { value: p.port }, server_names: [e.host], transport_protocol: 'tls' }, filters: [tcpProxy(`outbound_external_${e.host}_${p.port}`, externalClusterName(e.host, p.port), telemetry)] });
      }
    } else {
      const [e] = entries;
      if (e) chains.push({ name: `external|${p.port}|tcp`, filter_chain_match: { destination_port: { value: p.port } }, filters: [tcpProxy(`outbound_external_${e.host}_${p.port}`, externalClusterName(e.host, p.port), telemetry)] });
    }
  }
  if (registryOnly) clusters.push({ name: EGRESS_BLOCKED_CLUSTER, type: 'STATIC', connect_timeout: TEN_SECONDS });
  return { clusters, chains, tlsInspector, defaultChain: { name: registryOnly ? 'blocked-by-registry-only' : 'passthrough', filters: [tcpProxy(fallback, fallback, telemetry)] } };
}
