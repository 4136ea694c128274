// Generated fake sidecars for the tests that compare two ways of reading a page (the scrape
// filter, the fast text reader): a deterministic variety of ports, clusters (odd names too),
// response-flag counters, rate limits, idle sides, and the stats a real sidecar prints beside them.
import { EGRESS_BLOCKED_CLUSTER } from '../../../src/constants.ts';
import type { EnvoyStat } from '../../support/envoy-stats.ts';
import type { FakeProxy, FakeSide } from './envoy.ts';

/** Internal names of the failure counters mesh reads, by scope: every FLAG_STATS metric, found by tag extraction. */
const FLAG_SUFFIXES = {
  cluster: ['upstream_cx_none_healthy', 'upstream_cx_connect_fail', 'upstream_cx_connect_timeout', 'upstream_rq_pending_overflow', 'upstream_cx_overflow', 'upstream_rq_retry_limit_exceeded', 'upstream_rq_timeout', 'upstream_cx_destroy_remote_with_active_rq'],
  http: ['no_route', 'rbac.denied', 'local_rate_limit.rate_limited', 'downstream_cx_destroy_remote_active_rq'],
};

/** Stats a real sidecar prints beside the ones mesh reads: other cluster, HCM, listener and server stats, per-worker and per-code ones. */
function noise(clusters: readonly string[], ports: readonly number[], seed: number): EnvoyStat[] {
  const out: EnvoyStat[] = [];
  const c = (name: string, value = seed) => out.push({ name, type: 'counter', value });
  for (const cl of clusters) {
    for (const s of ['upstream_cx_destroy', 'upstream_cx_rx_bytes_total', 'upstream_rq_retry', 'membership_healthy', 'lb_healthy_panic', 'upstream_rq_completed', 'upstream_rq_404', 'ssl.connection_error', 'ssl.ciphers.TLS_AES_128_GCM_SHA256', 'outlier_detection.ejections_active', 'internal.upstream_rq_2xx', 'external.upstream_rq_5xx']) c(`cluster.${cl}.${s}`);
    out.push({ name: `cluster.${cl}.upstream_cx_length_ms`, type: 'histogram', values: [seed, 2 * seed] });
  }
  for (const p of ports) {
    for (const s of ['downstream_rq_active', 'downstream_cx_destroy', 'downstream_rq_completed', 'downstream_rq_200', 'rq_direct_response', 'rbac.allowed', 'rbac.shadow_denied', 'user_agent.ios.downstream_rq_total', 'rs_too_large']) c(`http.inbound_${p}.${s}`);
    c(`listener.0.0.0.0_15006.http.inbound_${p}.downstream_rq_2xx`);
    out.push({ name: `http.inbound_${p}.downstream_cx_length_ms`, type: 'histogram', values: [seed] });
  }
  for (const s of ['worker_0.downstream_cx_active', 'worker_1.downstream_cx_total', 'downstream_cx_destroy', 'ssl.connection_error', 'no_filter_chain_match']) c(`listener.0.0.0.0_15006.${s}`);
  c('listener.[__1]_15006.downstream_cx_total');
  for (const s of ['listener_manager.worker_0.dispatcher.loop_duration_us', 'server.memory_allocated', 'runtime.load_success', 'cluster_manager.cds.update_success', 'http.admin.downstream_rq_total', 'http.prometheus.downstream_rq_xx', 'tcp.inbound_9000.downstream_cx_total', 'vhost.inbound.vcluster.other.upstream_rq_total', 'http1.dropped_headers_with_underscores']) c(s);
  return out;
}

/** A deterministic variety of proxies: ports, clusters (odd names too), flags, rate limits, idle sides. */
export function proxies(): FakeProxy[] {
  const out: FakeProxy[] = [];
  // (Host names outside .svc.cluster.local are cut at their first dot by the cluster-name extractor
  // test/support/envoy-stats.ts assumes, as by Istio's, so their metric names differ: not used here.)
  const clusterNames = ['outbound|8080||web.shop.svc.cluster.local', 'outbound|80|v2|catalog.shop.svc.cluster.local', 'outbound|443||api.payments.svc.cluster.local', EGRESS_BLOCKED_CLUSTER, 'xds-grpc', 'outbound|9000||upstream_rq_total.odd.svc.cluster.local'];
  for (let i = 0; i < 12; i++) {
    const side = (k: number, scope: 'cluster' | 'http'): FakeSide => ({
      requests: (i * 7 + k * 13) % 50,
      failures: (i + k) % 4,
      latencies: Array.from({ length: (i + k) % 6 }, (_, j) => (j * 37 + i) % 400),
      cxActive: (i + k) % 3,
      cxTotal: (i * k) % 9,
      tls: (i * k) % 5,
      ...(scope === 'http' && i % 3 === 0 ? { rateLimited: i } : {}),
      flags: Object.fromEntries(FLAG_SUFFIXES[scope].filter((_, j) => (i + j + k) % 3 === 0).map((f, j) => [f, j + i])),
    });
    const ports = [8080, 9000, 15021].slice(0, 1 + (i % 3));
    const clusters = clusterNames.slice(0, i % (clusterNames.length + 1));
    const p: FakeProxy = {
      inbound: Object.fromEntries(ports.map((port, k) => [port, side(k, 'http')])),
      outbound: Object.fromEntries(clusters.map((c, k) => [c, side(k, 'cluster')])),
      ...(i % 4 === 3 ? {} : { listener: { cxActive: i, cxTotal: 2 * i, tls: i } }),
      extra: noise(clusters, ports, i + 1),
    };
    out.push(p);
  }
  return out;
}

