// The Prometheus names and labels mesh reads come from the tag extraction the proxies' bootstrap
// configures (src/metrics/stats-tags.ts). These tests run the rendered bootstrap's stats_config
// through test/support/envoy-stats.ts, which models Envoy's extractors, and read the page with
// mesh's own reader: outbound cluster names must arrive whole, or `mesh stat --to`, `mesh edges`,
// the route gates and the dashboards lose every outbound series.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { bootstrapSettings, envoyBootstrap } from '../../src/manifests/bootstrap.ts';
import { resolveValues } from '../../src/manifests/values.ts';
import { isEnvoyMetricWanted, parseClusterName, readProxy } from '../../src/metrics/envoy.ts';
import { parsePrometheusText } from '../../src/metrics/prometheus.ts';
import { strictCheckJson } from '../../src/xds/encode.ts';
import { envoyRoot, protoDepsDir } from '../../src/xds/protos.ts';
import { validateRules } from '../support/pgv.ts';
import { ENVOY_DEFAULT_TAG_NAMES, extractorsFor, prometheusPage, tagExtract, type EnvoyStat } from '../support/envoy-stats.ts';

type StatsConfig = { use_all_default_tags: boolean; stats_tags: { tag_name: string; regex?: string }[] };
const boot = envoyBootstrap({ ...bootstrapSettings(resolveValues({}), '0.1.0', []), pod: { name: 'web-1', namespace: 'shop', ip: '10.0.0.7', serviceAccount: 'web' } }) as { stats_config: StatsConfig };
const extractors = extractorsFor(boot.stats_config);
const CATALOG = 'outbound|8080||catalog.shop.svc.cluster.local';

test('the bootstrap stats_config is valid Envoy config and names only tags Envoy has a default regex for', () => {
  const root = envoyRoot();
  root.loadSync(join(protoDepsDir(), 'envoy-api', 'envoy/config/bootstrap/v3/bootstrap.proto'), { keepCase: true });
  root.resolveAll();
  assert.deepEqual(strictCheckJson('envoy.config.metrics.v3.StatsConfig', boot.stats_config), []);
  assert.deepEqual(validateRules('envoy.config.metrics.v3.StatsConfig', boot.stats_config), []);
  assert.equal(boot.stats_config.use_all_default_tags, false, 'a second envoy.cluster_name extractor would lose to the default one');
  for (const t of boot.stats_config.stats_tags) if (!t.regex) assert.ok(ENVOY_DEFAULT_TAG_NAMES.has(t.tag_name), `${t.tag_name}: Envoy rejects a tag without regex it has no default for`);
});

test('outbound cluster stats keep the whole cluster name in envoy_cluster_name (Envoy\'s default would cut it at the first dot)', () => {
  const name = `cluster.${CATALOG}.upstream_rq_5xx`;
  assert.deepEqual(tagExtract(name, extractors), { metric: 'envoy_cluster_upstream_rq_xx', labels: `envoy_cluster_name="${CATALOG}",envoy_response_code_class="5"` });
  // Why the bootstrap says so: under Envoy's defaults the FQDN lands in the metric name.
  assert.equal(tagExtract(name, extractorsFor(undefined)).metric, 'envoy_cluster_shop_svc_cluster_local_upstream_rq_xx');
  // Names without an in-cluster FQDN stop at the first dot, as before.
  assert.match(tagExtract('cluster.BlockedByRegistryOnly.upstream_rq_total', extractors).labels, /envoy_cluster_name="BlockedByRegistryOnly"/);
  assert.match(tagExtract('cluster.mesh-admin.upstream_cx_total', extractors).labels, /envoy_cluster_name="mesh-admin"/);
  assert.deepEqual(parseClusterName(CATALOG), { port: 8080, service: 'catalog', namespace: 'shop', subset: '' });
});

test('mesh reads inbound and outbound traffic from a page printed under the bootstrap\'s tag extraction', () => {
  const stats: EnvoyStat[] = [
    { name: `cluster.${CATALOG}.upstream_rq_total`, type: 'counter', value: 40 },
    { name: `cluster.${CATALOG}.upstream_rq_5xx`, type: 'counter', value: 4 },
    { name: `cluster.${CATALOG}.upstream_rq_2xx`, type: 'counter', value: 36 },
    { name: 'http.inbound_8080.downstream_rq_total', type: 'counter', value: 10 },
    { name: 'http.inbound_8080.downstream_rq_2xx', type: 'counter', value: 10 },
    { name: 'listener.0.0.0.0_15006.downstream_cx_total', type: 'counter', value: 3 },
  ];
  const r = readProxy(parsePrometheusText(prometheusPage(stats).body, 'test', isEnvoyMetricWanted));
  assert.deepEqual([...r.outbound.keys()], [CATALOG]);
  assert.equal(r.outbound.get(CATALOG)!.requests, 40);
  assert.equal(r.outbound.get(CATALOG)!.failures, 4);
  assert.equal(r.inboundPorts.get(8080)!.requests, 10);
  assert.equal(r.inboundListener.cxTotal, 3);
});
