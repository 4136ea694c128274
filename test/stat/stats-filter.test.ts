// The filter mesh sends with its scrapes (src/metrics/stats-filter.ts) must select exactly the
// stats mesh reads: stat, edges and the dashboard read proxies through readProxy, so a reading of
// the filtered page must equal the reading of the whole page, and the filtered page must hold no
// family mesh does not read. Pages come from test/support/envoy-stats.ts, which applies the
// filter to internal stat names as Envoy's admin does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isEnvoyMetricWanted, readProxy } from '../../src/metrics/envoy.ts';
import { parsePrometheusText } from '../../src/metrics/prometheus.ts';
import { FLAG_STATS } from '../../src/metrics/response-flags.ts';
import { PROXY_SCRAPE_PATH, proxyScrapePath } from '../../src/metrics/scrape.ts';
import { ENVOY_STATS_FILTER } from '../../src/metrics/stats-filter.ts';
import { prometheusPage, re2Filter, statsQuery, tagExtract } from '../support/envoy-stats.ts';
import { envoyStats } from './support/envoy.ts';
import { proxies } from './support/generated.ts';
import { fakeCluster } from './support/fake-cluster.ts';
import { CATALOG_CLUSTER, shopObjects, shopProxy } from './support/shop.ts';
import { validateStatOptions, type RawStatOptions } from '../../src/status/stat.ts';
import { collectStat } from '../../src/status/stat-fetch.ts';
import { collectEdges, validateEdgesOptions } from '../../src/status/edges.ts';

const QUERY = PROXY_SCRAPE_PATH.split('?')[1]!;

const reading = (text: string) => readProxy(parsePrometheusText(text, 'test', isEnvoyMetricWanted));

test('the filter is RE2 Envoy accepts, sent URL-encoded as filter= on /stats/prometheus', () => {
  assert.ok(re2Filter(ENVOY_STATS_FILTER), 'no lookaround or backreference (Envoy answers 400 "Invalid re2 regex" for them)');
  assert.equal(statsQuery(QUERY).filter, ENVOY_STATS_FILTER);
  assert.equal(PROXY_SCRAPE_PATH.split('?')[0], '/stats/prometheus');
  assert.equal(prometheusPage([], 'filter=a(?=b)').status, 400, 'the model refuses what RE2 refuses');
});

test('every failure counter mesh reads is one the fake proxies print (so the comparison covers them)', () => {
  const printed = new Set(proxies().flatMap((p) => envoyStats(p).map((s) => tagExtract(s.name).metric)));
  for (const name of Object.keys(FLAG_STATS)) assert.ok(printed.has(name), name);
});

test('a reading of the filtered page equals the reading of the whole page, for every proxy', () => {
  for (const [i, p] of proxies().entries()) {
    const stats = envoyStats(p);
    const whole = prometheusPage(stats).body;
    const filtered = prometheusPage(stats, QUERY);
    assert.equal(filtered.status, 200);
    assert.deepEqual(reading(filtered.body), reading(whole), `proxy ${i}`);
    assert.ok(filtered.body.length < whole.length / 2, `proxy ${i}: ${filtered.body.length} of ${whole.length} bytes`);
  }
});

test('the filtered page holds only what mesh reads: wanted families of outbound clusters, inbound_PORT managers and the inbound listener', () => {
  for (const p of proxies()) {
    for (const { name, labels } of parsePrometheusText(prometheusPage(envoyStats(p), QUERY).body)) {
      const family = name.replace(/_(?:bucket|sum|count)$/, '');
      // The one superset stats-filter.ts names: a cluster name may hold dots, so the breakdowns
      // Envoy keeps under `cluster.C.internal.` / `external.` also match.
      if (/^envoy_cluster_(?:internal|external)_upstream_rq_xx$/.test(family)) continue;
      assert.ok(isEnvoyMetricWanted(family), family);
      const scope = labels.envoy_cluster_name ?? labels.envoy_http_conn_manager_prefix ?? labels.envoy_listener_address;
      assert.match(scope ?? '', /^(?:outbound\|.*|BlockedByRegistryOnly|inbound_\d+|0\.0\.0\.0_15006)$/, `${name} ${JSON.stringify(labels)}`);
    }
  }
});

test('a scrape for one side of a reading: that side as the whole page gives it, the other side empty', () => {
  const query = (side: 'inbound' | 'outbound') => proxyScrapePath(side).split('?')[1]!;
  for (const [i, p] of proxies().entries()) {
    const stats = envoyStats(p);
    const whole = reading(prometheusPage(stats).body);
    const inbound = reading(prometheusPage(stats, query('inbound')).body);
    const outbound = reading(prometheusPage(stats, query('outbound')).body);
    assert.deepEqual([inbound.inboundPorts, inbound.inboundListener, inbound.outbound.size], [whole.inboundPorts, whole.inboundListener, 0], `proxy ${i} inbound`);
    assert.deepEqual([outbound.outbound, outbound.inboundPorts.size, outbound.inboundListener.cxTotal], [whole.outbound, 0, 0], `proxy ${i} outbound`);
  }
});

/** The shop with failure counters, its sidecars answering the query as Envoy would (or ignoring it: whole pages). */
function shop(honourQuery: boolean) {
  const scrapes = new Map<string, number>();
  const cluster = fakeCluster(shopObjects(), (t, path) => {
    const n = scrapes.get(t.pod) ?? 0;
    scrapes.set(t.pod, n + 1);
    const p = shopProxy(t.pod, n);
    if (t.pod.startsWith('catalog')) p.inbound![8080]!.flags = { 'rbac.denied': 5 * (n + 1), no_route: n };
    if (t.pod.startsWith('web')) p.outbound![CATALOG_CLUSTER]!.flags = { upstream_cx_none_healthy: 2 * (n + 1), upstream_rq_pending_overflow: n + 1 };
    p.extra = [{ name: 'cluster.BlockedByRegistryOnly.upstream_cx_none_healthy', type: 'counter', value: 3 * n }];
    return prometheusPage(envoyStats(p), honourQuery ? (path.split('?')[1] ?? '') : '');
  });
  let clock = 1_000_000;
  return { cluster, now: () => clock, sleep: async (ms: number) => { clock += ms; } };
}

test('mesh stat and mesh edges give the same report from filtered pages as from whole pages', async () => {
  const base: RawStatOptions = { resource: 'deploy', namespace: 'shop', allNamespaces: false, watch: false, output: 'json' };
  for (const raw of [{}, { resource: 'deploy/web', to: 'svc/catalog' }, { resource: 'deploy/catalog', from: 'deploy/web' }, { resource: 'svc/catalog' }, { resource: 'ns', namespace: undefined, allNamespaces: true }]) {
    const opts = validateStatOptions({ ...base, ...raw });
    const [filtered, whole] = await Promise.all([collectStat(opts, shop(true), undefined), collectStat(opts, shop(false), undefined)]);
    assert.deepEqual(filtered.report.rows, whole.report.rows, JSON.stringify(raw));
    assert.ok(filtered.report.rows.some((r) => r.requests > 0), JSON.stringify(raw));
  }
  const eo = validateEdgesOptions({ resource: 'deploy', namespace: 'shop', allNamespaces: false, output: 'json' });
  const [fe, we] = await Promise.all([collectEdges(shop(true).cluster, eo), collectEdges(shop(false).cluster, eo)]);
  assert.deepEqual(fe.edges, we.edges);
  assert.ok(fe.edges.some((e) => e.errors.length > 0));
});

test('the model of the admin page: usedonly leaves out stats never written, keeps a gauge that went back to 0', () => {
  const page = prometheusPage([
    { name: 'cluster.outbound|80||a.b.svc.cluster.local.upstream_rq_total', type: 'counter', value: 0 },
    { name: 'cluster.outbound|80||a.b.svc.cluster.local.upstream_cx_active', type: 'gauge', value: 0, used: true },
    { name: 'http.inbound_8080.downstream_rq_total', type: 'counter', value: 4 },
    { name: 'http.inbound_8080.downstream_rq_time', type: 'histogram', values: [] },
  ], 'usedonly').body;
  assert.equal(page, '# TYPE envoy_http_downstream_rq_total counter\nenvoy_http_downstream_rq_total{envoy_http_conn_manager_prefix="inbound_8080"} 4\n# TYPE envoy_cluster_upstream_cx_active gauge\nenvoy_cluster_upstream_cx_active{envoy_cluster_name="outbound|80||a.b.svc.cluster.local"} 0\n');
});
