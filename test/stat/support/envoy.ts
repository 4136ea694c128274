// Fake sidecars' /stats/prometheus: a FakeProxy says what traffic a proxy saw; envoyStats turns it
// into the internal stats a real Envoy would hold for mesh's sidecar config (inbound HTTP
// connection managers `inbound_PORT`, outbound clusters `outbound|PORT||FQDN`, the inbound
// listener on 0.0.0.0:15006), and test/support/envoy-stats.ts renders them the way Envoy's admin
// does, query (`filter`, `usedonly`) included.
import { prometheusPage, type EnvoyStat } from '../../support/envoy-stats.ts';

export { ENVOY_BUCKETS } from '../../support/envoy-stats.ts';

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
  /**
   * Failure counters by the stat's name inside its scope (`upstream_cx_none_healthy`,
   * `rbac.denied`, ...): what Envoy counts for response flags (src/metrics/response-flags.ts).
   */
  flags?: Record<string, number>;
}

export interface FakeProxy {
  /** Inbound HTTP per application port. */
  inbound?: Record<number, FakeSide>;
  /** Outbound per cluster name (outbound|PORT||FQDN). */
  outbound?: Record<string, FakeSide>;
  /** Inbound listener connections. */
  listener?: { cxActive: number; cxTotal: number; tls: number };
  /** More stats (noise a real sidecar prints, or what a test needs beside the above). */
  extra?: readonly EnvoyStat[];
}

const counter = (name: string, value: number): EnvoyStat => ({ name, type: 'counter', value });
const gauge = (name: string, value: number): EnvoyStat => ({ name, type: 'gauge', value });

/** The internal stats of a fake proxy, with the neighbours a real sidecar prints beside them. */
export function envoyStats(p: FakeProxy): EnvoyStat[] {
  const S: EnvoyStat[] = [];
  for (const [c, s] of Object.entries(p.outbound ?? {})) {
    const at = `cluster.${c}.`;
    const ok = s.requests - (s.failures ?? 0);
    S.push(gauge(`${at}upstream_cx_active`, s.cxActive ?? 0), counter(`${at}upstream_cx_total`, s.cxTotal ?? 0), counter(`${at}ssl.handshake`, s.tls ?? 0));
    S.push(counter(`${at}upstream_rq_total`, s.requests), counter(`${at}upstream_rq_2xx`, ok), counter(`${at}upstream_rq_5xx`, s.failures ?? 0));
    // Per status code (envoy_cluster_upstream_rq{envoy_response_code=...}): printed, never read.
    S.push(counter(`${at}upstream_rq_200`, ok), counter(`${at}upstream_rq_503`, s.failures ?? 0), counter(`${at}upstream_rq_completed`, s.requests));
    for (const [f, n] of Object.entries(s.flags ?? {})) S.push(counter(`${at}${f}`, n));
    S.push({ name: `${at}upstream_rq_time`, type: 'histogram', values: s.latencies ?? [] });
  }
  S.push(gauge('cluster.prometheus_stats.upstream_cx_active', 1), counter('cluster.prometheus_stats.upstream_rq_total', 4242));
  for (const [port, s] of Object.entries(p.inbound ?? {})) {
    const at = `http.inbound_${port}.`;
    S.push(gauge(`${at}downstream_cx_active`, s.cxActive ?? 0), counter(`${at}downstream_cx_total`, s.cxTotal ?? 0), counter(`${at}downstream_cx_ssl_total`, s.tls ?? 0));
    S.push(counter(`${at}downstream_rq_total`, s.requests));
    for (const cls of [1, 2, 3, 4, 5]) S.push(counter(`${at}downstream_rq_${cls}xx`, cls === 5 ? (s.failures ?? 0) : cls === 2 ? s.requests - (s.failures ?? 0) : 0));
    // The local rate limit's stat_prefix is `http.inbound_PORT.rate_limit` (src/xds/policy.ts).
    if (s.rateLimited !== undefined) S.push(counter(`${at}rate_limit.http_local_rate_limit.rate_limited`, s.rateLimited));
    for (const [f, n] of Object.entries(s.flags ?? {})) S.push(counter(`${at}${f}`, n));
    S.push({ name: `${at}downstream_rq_time`, type: 'histogram', values: s.latencies ?? [] });
  }
  S.push(gauge('http.prometheus.downstream_cx_active', 1), counter('http.prometheus.downstream_rq_total', 4242));
  if (p.listener) {
    S.push(gauge('listener.0.0.0.0_15006.downstream_cx_active', p.listener.cxActive), counter('listener.0.0.0.0_15006.downstream_cx_total', p.listener.cxTotal), counter('listener.0.0.0.0_15006.ssl.handshake', p.listener.tls));
    S.push(gauge('listener.0.0.0.0_15090.downstream_cx_active', 1));
  }
  S.push(gauge('server.uptime', 3600));
  if (p.extra) S.push(...p.extra);
  return S;
}

/** A fake proxy's `/stats/prometheus` answer to `query` (the raw query string, without `?`). */
export function envoyPage(p: FakeProxy, query = ''): { status: number; body: string } {
  return prometheusPage(envoyStats(p), query);
}

/** Prometheus text for a fake proxy, with the noise a real Envoy prints around it (no query). */
export function envoyText(p: FakeProxy): string {
  return envoyPage(p).body;
}
