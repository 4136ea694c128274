// Builds /stats/prometheus text the way Envoy prints it (metric and label names after Envoy's
// default tag extraction, histograms in milliseconds with Envoy's default buckets), so tests can
// serve "proxies" whose counters they control.

/** Envoy's default histogram bucket bounds (ms). */
export const ENVOY_BUCKETS = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];

export interface FakeSide {
  requests: number;
  /** 5xx responses (counted in requests too). */
  failures?: number;
  /** Latency of each request in ms; its length need not equal `requests` (buckets are what matter). */
  latencies?: number[];
  cxActive?: number;
  cxTotal?: number;
  tls?: number;
  /** Requests the local rate limit refused (inbound only; no series when undefined, as without a rate limit). */
  rateLimited?: number;
}

export interface FakeProxy {
  /** Inbound HTTP per application port. */
  inbound?: Record<number, FakeSide>;
  /** Outbound per cluster name (outbound|PORT||FQDN). */
  outbound?: Record<string, FakeSide>;
  /** Inbound listener connections. */
  listener?: { cxActive: number; cxTotal: number; tls: number };
}

function histogram(name: string, labels: string, latencies: number[]): string[] {
  const out: string[] = [];
  let sum = 0;
  for (const le of ENVOY_BUCKETS) out.push(`${name}_bucket{${labels},le="${le}"} ${latencies.filter((v) => v <= le).length}`);
  for (const v of latencies) sum += v;
  out.push(`${name}_bucket{${labels},le="+Inf"} ${latencies.length}`);
  out.push(`${name}_sum{${labels}} ${sum}`);
  out.push(`${name}_count{${labels}} ${latencies.length}`);
  return out;
}

/** Prometheus text for a fake proxy, with the noise a real Envoy prints around it. */
export function envoyText(p: FakeProxy): string {
  const L: string[] = [];
  const inbound = Object.entries(p.inbound ?? {});
  const outbound = Object.entries(p.outbound ?? {});
  L.push('# TYPE envoy_cluster_upstream_cx_active gauge');
  for (const [c, s] of outbound) L.push(`envoy_cluster_upstream_cx_active{envoy_cluster_name="${c}"} ${s.cxActive ?? 0}`);
  L.push('envoy_cluster_upstream_cx_active{envoy_cluster_name="prometheus_stats"} 1');
  L.push('# TYPE envoy_cluster_upstream_cx_total counter');
  for (const [c, s] of outbound) L.push(`envoy_cluster_upstream_cx_total{envoy_cluster_name="${c}"} ${s.cxTotal ?? 0}`);
  L.push('# TYPE envoy_cluster_ssl_handshake counter');
  for (const [c, s] of outbound) L.push(`envoy_cluster_ssl_handshake{envoy_cluster_name="${c}"} ${s.tls ?? 0}`);
  L.push('# TYPE envoy_cluster_upstream_rq_total counter');
  for (const [c, s] of outbound) L.push(`envoy_cluster_upstream_rq_total{envoy_cluster_name="${c}"} ${s.requests}`);
  L.push('envoy_cluster_upstream_rq_total{envoy_cluster_name="prometheus_stats"} 4242');
  L.push('# TYPE envoy_cluster_upstream_rq_xx counter');
  for (const [c, s] of outbound) {
    L.push(`envoy_cluster_upstream_rq_xx{envoy_response_code_class="2",envoy_cluster_name="${c}"} ${s.requests - (s.failures ?? 0)}`);
    L.push(`envoy_cluster_upstream_rq_xx{envoy_response_code_class="5",envoy_cluster_name="${c}"} ${s.failures ?? 0}`);
  }
  L.push('# TYPE envoy_http_downstream_cx_active gauge');
  for (const [port, s] of inbound) L.push(`envoy_http_downstream_cx_active{envoy_http_conn_manager_prefix="inbound_${port}"} ${s.cxActive ?? 0}`);
  L.push('envoy_http_downstream_cx_active{envoy_http_conn_manager_prefix="prometheus"} 1');
  L.push('# TYPE envoy_http_downstream_cx_total counter');
  for (const [port, s] of inbound) L.push(`envoy_http_downstream_cx_total{envoy_http_conn_manager_prefix="inbound_${port}"} ${s.cxTotal ?? 0}`);
  L.push('# TYPE envoy_http_downstream_cx_ssl_total counter');
  for (const [port, s] of inbound) L.push(`envoy_http_downstream_cx_ssl_total{envoy_http_conn_manager_prefix="inbound_${port}"} ${s.tls ?? 0}`);
  L.push('# TYPE envoy_http_downstream_rq_total counter');
  for (const [port, s] of inbound) L.push(`envoy_http_downstream_rq_total{envoy_http_conn_manager_prefix="inbound_${port}"} ${s.requests}`);
  L.push('envoy_http_downstream_rq_total{envoy_http_conn_manager_prefix="prometheus"} 4242');
  L.push('# TYPE envoy_http_rate_limit_http_local_rate_limit_rate_limited counter');
  for (const [port, s] of inbound) if (s.rateLimited !== undefined) L.push(`envoy_http_rate_limit_http_local_rate_limit_rate_limited{envoy_http_conn_manager_prefix="inbound_${port}"} ${s.rateLimited}`);
  L.push('# TYPE envoy_http_downstream_rq_xx counter');
  for (const [port, s] of inbound) {
    for (const cls of ['1', '2', '3', '4', '5']) {
      const v = cls === '5' ? (s.failures ?? 0) : cls === '2' ? s.requests - (s.failures ?? 0) : 0;
      L.push(`envoy_http_downstream_rq_xx{envoy_response_code_class="${cls}",envoy_http_conn_manager_prefix="inbound_${port}"} ${v}`);
    }
  }
  if (p.listener) {
    L.push('# TYPE envoy_listener_downstream_cx_active gauge');
    L.push(`envoy_listener_downstream_cx_active{envoy_listener_address="0.0.0.0_15006"} ${p.listener.cxActive}`);
    L.push(`envoy_listener_downstream_cx_active{envoy_listener_address="0.0.0.0_15090"} 1`);
    L.push('# TYPE envoy_listener_downstream_cx_total counter');
    L.push(`envoy_listener_downstream_cx_total{envoy_listener_address="0.0.0.0_15006"} ${p.listener.cxTotal}`);
    L.push('# TYPE envoy_listener_ssl_handshake counter');
    L.push(`envoy_listener_ssl_handshake{envoy_listener_address="0.0.0.0_15006"} ${p.listener.tls}`);
  }
  L.push('# TYPE envoy_server_uptime gauge', 'envoy_server_uptime{} 3600');
  L.push('# TYPE envoy_cluster_upstream_rq_time histogram');
  for (const [c, s] of outbound) L.push(...histogram('envoy_cluster_upstream_rq_time', `envoy_cluster_name="${c}"`, s.latencies ?? []));
  L.push('# TYPE envoy_http_downstream_rq_time histogram');
  for (const [port, s] of inbound) L.push(...histogram('envoy_http_downstream_rq_time', `envoy_http_conn_manager_prefix="inbound_${port}"`, s.latencies ?? []));
  return L.join('\n') + '\n';
}
