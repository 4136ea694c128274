// The CLI against the test Kubernetes API server: pods serve Envoy stats through the API server's
// pod proxy subresource, exactly the path `mesh stat` takes on a real cluster. Most cases run the
// CLI in-process (no process start); an exit 3 and an exit 2 run the built bin/mesh.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { loadedAny, runMesh, runMeshInProcess, runMeshTraced } from '../support/cli.ts';
import { startApiServer, type TestCluster } from '../support/kube.ts';
import { parsePrometheusText } from '../../src/metrics/prometheus.ts';
import { envoyStatsFilter } from '../../src/metrics/stats-filter.ts';
import { shopObjects, shopProxyText } from './support/shop.ts';

let kube: TestCluster;
const scrapes = new Map<string, number>();
/** The query string of each pod proxy request (what the sidecar would be asked). */
const queries: string[] = [];
let prom: Server;
let promUrl: string;
const promQueries: URLSearchParams[] = [];

before(async () => {
  kube = await startApiServer({ seed: [...shopObjects(), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'plain' } }, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'solo', namespace: 'plain', labels: { app: 'solo' } }, spec: { containers: [{ name: 'solo', image: 'solo' }] }, status: { phase: 'Running' } }] });
  kube.server.setPodProxy('*', '*', (req) => {
    if (req.port !== '15090' || req.path !== '/stats/prometheus') return { status: 404, body: 'not found' };
    const k = `${req.namespace}/${req.pod}`;
    const n = scrapes.get(k) ?? 0;
    scrapes.set(k, n + 1);
    queries.push(req.query);
    return shopProxyText(req.pod, n, req.query);
  });
  // A stand-in Prometheus: the CLI asks for the counters at now-30s and at now; the first get the
  // counters of scrape 0, the second those of scrape 1. Which is which is judged against the time
  // the query arrives (half the window back), not a time fixed when the file started: under load
  // the test can run more than 30 s after before(), and both queries would then look like "now".
  prom = createServer((req, res) => {
    const q = new URL(req.url ?? '/', 'http://x').searchParams;
    promQueries.push(q);
    const n = Number(q.get('time')) < Date.now() / 1000 - 15 ? 0 : 1;
    const result = ['web-1', 'web-2', 'catalog-1', 'catalog-2'].flatMap((pod) =>
      parsePrometheusText(shopProxyText(pod, n)).map((s) => ({ metric: { __name__: s.name, ...s.labels, namespace: 'shop', pod }, value: [Number(q.get('time')), String(s.value)] })));
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }));
  });
  await new Promise<void>((r) => prom.listen(0, '127.0.0.1', r));
  promUrl = `http://127.0.0.1:${(prom.address() as { port: number }).port}`;
});

after(async () => {
  await kube?.stop();
  await new Promise((r) => prom?.close(r));
});

const mesh = (args: string[]) => runMeshInProcess([...args, '--kubeconfig', kube.kubeconfigPath]);

test('mesh stat deploy -n shop -o json: counter deltas between two scrapes through the pod proxy', async () => {
  scrapes.clear();
  const r = await mesh(['stat', 'deploy', '-n', 'shop', '--sample-interval', '300ms', '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.method.source, 'pod-proxy');
  const catalog = report.rows.find((x: { name: string }) => x.name === 'catalog');
  assert.deepEqual([catalog.requests, catalog.failures, catalog.successRate], [120, 6, 0.95]);
  assert.deepEqual(catalog.latencyMs, { p50: 37.5, p95: 48.75, p99: 49.75 });
  assert.ok(catalog.rps > 0);
  assert.equal(scrapes.get('shop/catalog-1'), 2);
  assert.equal(scrapes.get('shop/legacy-1'), undefined, 'pods without a proxy are not scraped');
  const paths = kube.server.requests.filter((q) => q.path.includes('/proxy/')).map((q) => q.path);
  assert.ok(paths.includes('/api/v1/namespaces/shop/pods/catalog-1:15090/proxy/stats/prometheus'), paths.join('\n'));
  assert.match(r.stderr, /method: proxies' \/stats\/prometheus via the API server, two scrapes 0\.3s apart/);
  // The sidecars were asked for the stats these rows read only (what the pods served), and the
  // query came through the API server intact.
  assert.ok(queries.length > 0 && queries.every((q) => new URLSearchParams(q).get('filter') === envoyStatsFilter('inbound')), queries[0]);
});

test('mesh stat ns -A and -o wide: a row per namespace with a NAMESPACE column', async () => {
  const r = await mesh(['stat', 'ns', '-A', '--sample-interval', '200ms', '-o', 'wide']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0]!, /^NAMESPACE\s+NAME\s+MESHED\s+SUCCESS\s+RPS\s+LATENCY_P50\s+LATENCY_P95\s+LATENCY_P99\s+TCP_CONN\s+MTLS\s+DIRECTION\s+REQUESTS\s+FAILED\s+RATE_LIMITED\s+UNREACHABLE\s+ERRORS$/);
  assert.match(r.stdout, /\nshop\s+shop\s+5\/6\s+95\.00%\s+\S+\s+37\.5ms\s+48\.8ms\s+49\.8ms\s+6\s+100%\s+inbound\s+120\s+6\s+4\s+0\s+-\n/);
  assert.match(r.stdout, /\nplain\s+plain\s+0\/1\s+-/);
});

test('mesh stat deploy/web --to svc/catalog through the CLI', async () => {
  const r = await mesh(['stat', 'deploy/web', '-n', 'shop', '--to', 'svc/catalog', '--sample-interval', '200ms', '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const row = JSON.parse(r.stdout).rows[0];
  assert.deepEqual([row.direction, row.requests, row.failures, row.latencyMs.p50, row.mtlsShare], ['outbound', 40, 2, 7.5, 1]);
});

test('RBAC forbids pods/proxy: exit 3, naming the permission; up to the first scrape no YAML writer or whole client library is loaded', async () => {
  kube.server.auth.deny({ verbs: ['get'], apiGroups: [''], resources: ['pods/proxy'] });
  try {
    const r = await runMeshTraced(['stat', 'deploy', '-n', 'shop', '--sample-interval', '100ms', '--kubeconfig', kube.kubeconfigPath]);
    assert.equal(r.code, 3, r.stderr);
    // What `mesh stat` loads before it scrapes is its start-up time (docs/bench.md).
    assert.ok(r.modules.some((u) => u.endsWith('/dist/metrics/scrape.js')), 'it got as far as scraping');
    assert.equal(loadedAny(r.modules, ['@kubernetes/client-node/dist/index', 'yaml/', 'js-yaml/', '@grpc/']), undefined);
    assert.equal(r.modules.find((u) => u.includes('/dist/manifests/')), undefined);
    assert.match(r.stderr, /error: not allowed to read proxy metrics through the API server: "get" on "pods\/proxy" in namespace shop is forbidden/);
    assert.match(r.stderr, /hint: ask for RBAC "get" on "pods\/proxy"/);
  } finally {
    kube.server.auth.clearDenies();
  }
});

test('no proxies in the namespace: a table of "-" and a hint to inject, exit 0', async () => {
  // A short interval: the default 2 s between the (empty) scrapes would only slow the test.
  const r = await mesh(['stat', 'deploy', '-n', 'plain', '--sample-interval', '100ms']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'No resources found in this namespace.\n');
  const pods = await mesh(['stat', 'pod', '-n', 'plain', '--sample-interval', '100ms']);
  assert.match(pods.stdout, /solo\s+0\/1\s+-\s+-/);
  assert.match(pods.stderr, /no proxies found: no running meshed pods in namespace plain; inject workloads with "mesh inject"/);
});

test('metrics unreachable: proxies not answering give exit 1 and what to check', async () => {
  kube.server.setPodProxy('shop', 'catalog-1', () => ({ status: 503, body: JSON.stringify({ kind: 'Status', message: 'error trying to reach service: dial tcp 10.0.0.1:15090: connect: connection refused' }) }));
  kube.server.setPodProxy('shop', 'catalog-2', () => ({ status: 503, body: 'connection refused' }));
  try {
    const r = await mesh(['stat', 'deploy/catalog', '-n', 'shop', '--sample-interval', '100ms']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /error: metrics unreachable: none of the 2 meshed pods answered \(shop\/catalog-1: HTTP 503: error trying to reach service/);
    assert.match(r.stderr, /hint: check the proxies listen on :15090/);
  } finally {
    kube.server.setPodProxy('shop', 'catalog-1', undefined);
    kube.server.setPodProxy('shop', 'catalog-2', undefined);
  }
});

test('--prometheus-url: counters at now-window and now from the HTTP API, same math (120 requests / 30 s)', async () => {
  const r = await mesh(['stat', 'deploy/catalog', '-n', 'shop', '--prometheus-url', promUrl, '--window', '30s', '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.method.source, 'prometheus');
  assert.equal(report.method.intervalSeconds, 30);
  const row = report.rows[0];
  assert.deepEqual([row.rps, row.successRate, row.latencyMs.p50], [4, 0.95, 37.5]);
  const queries = promQueries.slice(-4).map((q) => q.get('query')!);
  assert.ok(queries.some((q) => /^\{__name__=~"envoy_http_downstream_rq_total\|.*",namespace=~"shop"\}$/.test(q)), queries.join('\n'));
});

test('without --prometheus-url, the installed mesh\'s metrics.prometheusUrl (mesh-config) is read; without it, the pods', async () => {
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'mesh-config', namespace: 'mesh-system' }, data: { 'values.yaml': `metrics:\n  prometheusUrl: ${promUrl}\n` } };
  assert.equal((await kube.request('POST', '/api/v1/namespaces', { body: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'mesh-system' } }) })).status, 201);
  assert.equal((await kube.request('POST', '/api/v1/namespaces/mesh-system/configmaps', { body: JSON.stringify(cm) })).status, 201);
  try {
    const r = await mesh(['stat', 'deploy/catalog', '-n', 'shop', '--window', '30s', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.method.source, 'prometheus');
    assert.equal(report.method.prometheusUrl, new URL(promUrl).toString());
    assert.deepEqual([report.rows[0].rps, report.rows[0].successRate], [4, 0.95]);
  } finally {
    assert.equal((await kube.request('DELETE', '/api/v1/namespaces/mesh-system/configmaps/mesh-config')).status, 200);
  }
  const direct = await mesh(['stat', 'deploy/catalog', '-n', 'shop', '--sample-interval', '100ms', '-o', 'json']);
  assert.equal(JSON.parse(direct.stdout).method.source, 'pod-proxy');
});

test('mesh edges deploy -n shop -o wide through the CLI', async () => {
  const r = await mesh(['edges', 'deploy', '-n', 'shop', '-o', 'wide']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /web\s+catalog\s+shop\s+shop\s+√\s+spiffe:\/\/cluster\.local\/ns\/shop\/sa\/web\s+spiffe:\/\/cluster\.local\/ns\/shop\/sa\/catalog/);
});

test('mesh proxy-config offline (-f) needs no cluster and uses the controller translation', async () => {
  const r = await runMeshInProcess(['proxy-config', 'cluster', 'frontend', '-n', 'shop', '-f', 'examples/shop']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /outbound\|8080\|\|catalog\.shop\.svc\.cluster\.local\s+catalog\.shop\.svc\.cluster\.local\s+8080\s+outbound\s+EDS/);
  const secret = await runMeshInProcess(['proxy-config', 'secret', 'frontend.shop', '-f', 'examples/shop', '-o', 'json']);
  assert.deepEqual(JSON.parse(secret.stdout).secrets.map((s: { name: string }) => s.name), ['ROOTCA', 'default']);
  const missing = await runMesh(['proxy-config', 'all', 'nope', '-n', 'shop', '-f', 'examples/shop']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no Pod or workload named nope in namespace shop/);
});
