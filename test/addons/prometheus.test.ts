// A real Prometheus (Debian's package) runs the rendered scrape configuration against test
// endpoints that serve Envoy-format metrics whose rates the test knows, and the controller's real
// metrics registry. Then: mesh stat through --prometheus-url matches the truth and the direct
// scrape; the route gates' PromQL and every dashboard query return the expected series.
// One Prometheus for the whole file; it waits on the API (ready, samples present), never on timers.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { prometheusConfig, SCRAPE_JOBS } from '../../src/manifests/addons.ts';
import { resolveValues } from '../../src/manifests/values.ts';
import { ControllerMetrics } from '../../src/controller/metrics.ts';
import { PrometheusClient, readingsAt } from '../../src/metrics/prometheus-api.ts';
import { PrometheusMetrics } from '../../src/route/metrics.ts';
import { validateStatOptions, type RawStatOptions, type StatReport } from '../../src/status/stat.ts';
import { runStat } from '../../src/commands/stat-run.ts';
import { collectEdges, validateEdgesOptions } from '../../src/status/edges.ts';
import { captureUi } from '../support/ui.ts';
import { fakeCluster } from '../stat/support/fake-cluster.ts';
import { concreteTargets, envoyAt, freePort, PROMETHEUS_MISSING, renderLegend, startPrometheus, waitUntil, type FakeEnvoy, type Flow, type RunningPrometheus } from './support.ts';

const CATALOG = 'outbound|80||catalog.shop.svc.cluster.local';
const WEB = 'outbound|8080||web.shop.svc.cluster.local';
/** 40% at 3 ms, 50% at 40 ms, 10% at 200 ms: with Envoy's buckets, p50 = 25 + 25 x 0.1/0.5 = 30, p95 = 100 + 150 x 0.05/0.1 = 175, p99 = 100 + 150 x 0.09/0.1 = 235. */
const DIST: [number, number][] = [[3, 0.4], [40, 0.5], [200, 0.1]];
const flow = (rps: number, failShare: number, latency: [number, number][], cxPerSec: number, tlsPerSec: number): Flow => ({ rps, failShare, latency, cxPerSec, tlsPerSec });

/** A pod as Kubernetes pod discovery describes it, and what its proxy serves. */
interface FakePod {
  name: string;
  ip: string;
  labels: Record<string, string>;
  phase?: string;
  controller: [kind: string, name: string];
  envoy?: FakeEnvoy;
}

// web calls catalog; legacy has no sidecar (must not be scraped); web-old has completed (must not
// be scraped); shop-gw is a gateway (its own job). Pod IPs are loopback addresses, one per pod.
const PODS: FakePod[] = [
  { name: 'web-5d9f7c6b8d-abcde', ip: '127.0.0.2', labels: { app: 'web', 'mesh.dev/proxy-version': '0.1.0' }, controller: ['ReplicaSet', 'web-5d9f7c6b8d'], envoy: { inbound: { 8080: flow(30, 0, [[8, 1]], 2, 1) }, outbound: { [CATALOG]: flow(50, 0.02, DIST, 1, 1) } } },
  { name: 'web-5d9f7c6b8d-fghij', ip: '127.0.0.3', labels: { app: 'web', 'mesh.dev/proxy-version': '0.1.0' }, controller: ['ReplicaSet', 'web-5d9f7c6b8d'], envoy: { inbound: { 8080: flow(30, 0, [[8, 1]], 2, 1) }, outbound: { [CATALOG]: flow(50, 0.02, DIST, 1, 1) } } },
  { name: 'catalog-7c9d8f6b5-k2m4p', ip: '127.0.0.4', labels: { app: 'catalog', 'mesh.dev/proxy-version': '0.1.0' }, controller: ['ReplicaSet', 'catalog-7c9d8f6b5'], envoy: { inbound: { 8080: flow(100, 0.05, DIST, 10, 10) } } },
  { name: 'catalog-7c9d8f6b5-q8r7s', ip: '127.0.0.5', labels: { app: 'catalog', 'mesh.dev/proxy-version': '0.1.0' }, controller: ['ReplicaSet', 'catalog-7c9d8f6b5'], envoy: { inbound: { 8080: flow(100, 0.05, DIST, 10, 10) } } },
  { name: 'legacy-6b7c8d9f4-zzzzz', ip: '127.0.0.6', labels: { app: 'legacy' }, controller: ['ReplicaSet', 'legacy-6b7c8d9f4'] },
  { name: 'web-5d9f7c6b8d-old00', ip: '127.0.0.7', labels: { app: 'web', 'mesh.dev/proxy-version': '0.1.0' }, phase: 'Succeeded', controller: ['ReplicaSet', 'web-5d9f7c6b8d'], envoy: { inbound: { 8080: flow(1000, 1, [[1, 1]], 1, 0) } } },
  { name: 'shop-gw-6d5c4b3a2-gw111', ip: '127.0.0.8', labels: { app: 'shop-gw', 'gateway.networking.k8s.io/gateway-name': 'shop-gw' }, controller: ['ReplicaSet', 'shop-gw-6d5c4b3a2'], envoy: { outbound: { [WEB]: flow(20, 0, [[8, 1]], 1, 1) } } },
];
const CONTROLLER = { name: 'mesh-controller-7f6d5c4b3-ctrl1', ip: '127.0.0.9' };
const SCRAPED = PODS.filter((p) => p.envoy && p.phase === undefined);

let prom: RunningPrometheus | undefined;
let ready = 0;
let dir = '';
const servers: Server[] = [];
const start = Date.now();
const metrics = new ControllerMetrics();

/** Bring the controller's real registry to what `t` seconds of steady work give (whole events only, as counters are). */
function advanceController(t: number): void {
  const want = (perSec: number) => Math.floor(perSec * t);
  const add = (have: number, perSec: number, fn: (n: number) => void) => {
    const n = want(perSec) - have;
    if (n > 0) fn(n);
  };
  metrics.connected.set({ type: 'sidecar', version: '1.32.3' }, 4);
  metrics.connected.set({ type: 'grpc', version: '1.14.1' }, 1);
  add(counts.cds, 100, (n) => { metrics.pushes.inc({ type: 'Cluster' }, n); counts.cds += n; });
  add(counts.eds, 200, (n) => { metrics.pushes.inc({ type: 'ClusterLoadAssignment' }, n); counts.eds += n; });
  add(counts.nack, 20, (n) => { metrics.nacks.inc({ type: 'ClusterLoadAssignment' }, n); counts.nack += n; });
  add(counts.sds, 40, (n) => { metrics.certsIssued.inc({ service: 'sds' }, n); counts.sds += n; });
  add(counts.csr, 10, (n) => { metrics.certsIssued.inc({ service: 'csr' }, n); counts.csr += n; });
  add(counts.certFail, 20, (n) => { metrics.certsFailed.inc({ service: 'csr', reason: 'unauthenticated' }, n); counts.certFail += n; });
  add(counts.lat, 200, (n) => { for (let i = 0; i < n; i++) metrics.pushLatency.observe({ type: 'ClusterLoadAssignment' }, 0.02); counts.lat += n; });
  add(counts.build, 40, (n) => { for (let i = 0; i < n; i++) metrics.buildSeconds.observe(0.003); counts.build += n; });
  add(counts.hook, 40, (n) => { for (let i = 0; i < n; i++) metrics.webhookLatency.observe({ outcome: 'injected' }, 0.03); counts.hook += n; });
  add(counts.hookFail, 20, (n) => { metrics.webhookFailures.inc({ reason: 'bad-request' }, n); counts.hookFail += n; });
}
const counts = { cds: 0, eds: 0, nack: 0, sds: 0, csr: 0, certFail: 0, lat: 0, build: 0, hook: 0, hookFail: 0 };

/** One loopback server per pod IP, all on `port`: a pod's proxy at /stats/prometheus, the controller at /metrics. */
async function listenAll(port: number): Promise<void> {
  const byIp = new Map(PODS.map((p) => [p.ip, p]));
  const handler = (ip: string) => createServer((req, res) => {
    const now = Date.now();
    const t = (now - start) / 1000;
    const pod = byIp.get(ip);
    if (pod?.envoy && req.url === '/stats/prometheus') return void res.end(envoyAt(pod.envoy, t, now));
    if (ip === CONTROLLER.ip && req.url === '/metrics') {
      advanceController(t);
      void metrics.registry.metrics().then((text) => res.end(text.split('\n').map((l) => (l && !l.startsWith('#') ? `${l} ${now}` : l)).join('\n')));
      return;
    }
    res.statusCode = 404;
    res.end('not here');
  });
  for (const ip of [...PODS.map((p) => p.ip), CONTROLLER.ip]) {
    const s = handler(ip);
    await new Promise<void>((resolve, reject) => s.once('error', reject).listen(port, ip, () => resolve()));
    servers.push(s);
  }
}

/**
 * Kubernetes pod discovery as file_sd target groups: the same __meta_kubernetes_* labels Prometheus
 * would give these pods, one target per container port (so the rendered relabelling must collapse them).
 */
function discovery(port: number): Record<string, unknown[]> {
  const meta = (p: { name: string; ip: string }, ns: string, labels: Record<string, string>, phase: string, controller: [string, string], portName: string) => ({
    __meta_kubernetes_namespace: ns,
    __meta_kubernetes_pod_name: p.name,
    __meta_kubernetes_pod_ip: p.ip,
    __meta_kubernetes_pod_phase: phase,
    __meta_kubernetes_pod_controller_kind: controller[0],
    __meta_kubernetes_pod_controller_name: controller[1],
    __meta_kubernetes_pod_container_port_name: portName,
    ...Object.fromEntries(Object.entries(labels).map(([k, v]) => [`__meta_kubernetes_pod_label_${k.replace(/[^a-zA-Z0-9_]/g, '_')}`, v])),
  });
  const pods = PODS.flatMap((p) => [
    { targets: [`${p.ip}:8080`], labels: meta(p, 'shop', p.labels, p.phase ?? 'Running', p.controller, 'http') },
    { targets: [`${p.ip}:15090`], labels: meta(p, 'shop', p.labels, p.phase ?? 'Running', p.controller, 'mesh-metrics') },
  ]);
  const cp = [
    { targets: [`${CONTROLLER.ip}:${port}`], labels: meta(CONTROLLER, 'mesh-system', { 'app.kubernetes.io/name': 'mesh-controller' }, 'Running', ['ReplicaSet', 'mesh-controller-7f6d5c4b3'], 'http-metrics') },
    { targets: [`${CONTROLLER.ip}:15012`], labels: meta(CONTROLLER, 'mesh-system', { 'app.kubernetes.io/name': 'mesh-controller' }, 'Running', ['ReplicaSet', 'mesh-controller-7f6d5c4b3'], 'grpc-xds-tls') },
  ];
  return { [SCRAPE_JOBS.sidecars]: pods, [SCRAPE_JOBS.gateways]: pods, [SCRAPE_JOBS.controlPlane]: cp };
}

before(async () => {
  if (PROMETHEUS_MISSING) return;
  dir = await mkdtemp(join(tmpdir(), 'mesh-prom-'));
  let port = 0;
  for (let attempt = 0; ; attempt++) {
    port = await freePort(PODS[0]!.ip);
    try {
      await listenAll(port);
      break;
    } catch (err) {
      for (const s of servers.splice(0)) s.close();
      if (attempt === 4) throw err;
    }
  }
  // The rendered configuration, with the proxies' stats port where the test serves them, pod
  // discovery swapped for the file-based discovery above and a 250 ms scrape interval; jobs, paths
  // and relabelling are the addon's own.
  const config = prometheusConfig(resolveValues({ sets: ['addons.prometheus.enabled=true', `proxy.statsPort=${port}`] })) as { global: Record<string, string>; scrape_configs: Record<string, unknown>[] };
  config.global = { scrape_interval: '500ms', scrape_timeout: '450ms', evaluation_interval: '1s' };
  const groups = discovery(port);
  for (const job of config.scrape_configs) {
    const name = job.job_name as string;
    assert.ok(job.kubernetes_sd_configs, `${name} discovers pods`);
    delete job.kubernetes_sd_configs;
    await writeFile(join(dir, `${name}.json`), JSON.stringify(groups[name]));
    job.file_sd_configs = [{ files: [join(dir, `${name}.json`)] }];
  }
  await writeFile(join(dir, 'prometheus.yml'), stringify(config, { aliasDuplicateObjects: false }));
  prom = await startPrometheus(join(dir, 'prometheus.yml'), join(dir, 'data'));
  // Enough history for the 4 s windows below, found at one instant T and every query evaluated at
  // T: every target has a scrape from before T - 4.5 s (its Envoy samples, stamped when our server
  // answered, then lie before T - 4 s, what `mesh stat` reads as its "before"), 8 or more in the
  // 4.5 s before T, and all of those up (a scrape that timed out on a busy machine marks its series
  // stale and leaves a gap a window would span). T trails the clock by a second so that what
  // Prometheus scrapes late still lands before it.
  await waitUntil(async () => {
    const at = (Date.now() - 1000) / 1000;
    const q = (expr: string) => prom!.api<{ data: { result: unknown[] } }>(`/api/v1/query?time=${at}&query=${encodeURIComponent(expr)}`);
    const all = await Promise.all([q('up offset 4500ms'), q('count_over_time(up[4500ms]) >= 8'), q('min_over_time(up[4500ms]) == 1')]);
    if (all.some((r) => r.data.result.length !== SCRAPED.length + 1)) return false;
    ready = at * 1000;
    return true;
  }, 60_000, () => `targets did not collect 4.5 s of samples, all up: ${prom!.log()}`);
});

after(async () => {
  await prom?.stop();
  for (const s of servers) s.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const skip = PROMETHEUS_MISSING;

interface Target {
  labels: Record<string, string>;
  health: string;
  scrapePool: string;
}

test('the rendered scrape jobs find each proxy once (per-port targets collapse), skip unmeshed and finished pods, and label namespace, pod and workload', { skip }, async () => {
  const r = await prom!.api<{ data: { activeTargets: Target[] } }>('/api/v1/targets?state=active');
  const got = r.data.activeTargets.map((t) => `${t.labels.job} ${t.labels.namespace}/${t.labels.pod} workload=${t.labels.workload} ${t.health}`).sort();
  assert.deepEqual(got, [
    'mesh-control-plane mesh-system/mesh-controller-7f6d5c4b3-ctrl1 workload=mesh-controller up',
    'mesh-gateways shop/shop-gw-6d5c4b3a2-gw111 workload=shop-gw up',
    'mesh-sidecars shop/catalog-7c9d8f6b5-k2m4p workload=catalog up',
    'mesh-sidecars shop/catalog-7c9d8f6b5-q8r7s workload=catalog up',
    'mesh-sidecars shop/web-5d9f7c6b8d-abcde workload=web up',
    'mesh-sidecars shop/web-5d9f7c6b8d-fghij workload=web up',
  ]);
});

// Kubernetes objects for mesh stat's inventory (selectors: app=NAME), the same pods as above.
function shopObjects(): Record<string, unknown>[] {
  const deploy = (name: string) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: 'shop' }, spec: { replicas: 2, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image: `${name}:1` }] } } } });
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
    deploy('web'), deploy('catalog'),
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'catalog', namespace: 'shop' }, spec: { selector: { app: 'catalog' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } },
    ...PODS.filter((p) => p.labels.app === 'web' || p.labels.app === 'catalog').map((p) => ({
      apiVersion: 'v1', kind: 'Pod',
      metadata: { name: p.name, namespace: 'shop', labels: p.labels },
      spec: { containers: [{ name: 'app', image: 'app:1' }, { name: 'mesh-proxy', image: 'envoy' }] },
      status: { phase: p.phase ?? 'Running', podIP: p.ip },
    })),
  ];
}

async function stat(raw: Partial<RawStatOptions>, now: () => number, sleep: (ms: number) => Promise<void>): Promise<StatReport> {
  const byName = new Map(PODS.map((p) => [p.name, p]));
  // The direct path reads the same proxies through the API server's pod proxy, at the test's clock.
  const cluster = fakeCluster(shopObjects(), (t) => ({ status: 200, body: envoyAt(byName.get(t.pod)!.envoy!, (now() - start) / 1000) }));
  const c = captureUi({ yes: true });
  await runStat(validateStatOptions({ resource: 'deploy', namespace: 'shop', allNamespaces: false, watch: false, output: 'json', ...raw }), c.ui, { cluster, now, sleep });
  return JSON.parse(c.out()) as StatReport;
}

/** Relative closeness: |a - b| <= tol x |b|. */
function near(actual: number | null | undefined, expected: number, tol: number, what: string): void {
  assert.ok(typeof actual === 'number' && Math.abs(actual - expected) <= tol * Math.abs(expected), `${what}: got ${actual}, expected ${expected} within ${tol * 100}%`);
}

test('readings from Prometheus carry each pod\'s scrape time, not the query instant (their windows are exact whatever the scrape phase)', { skip }, async () => {
  const client = new PrometheusClient(prom!.url);
  const q = ready / 1000;
  const up = await client.query('max by (namespace, pod) (timestamp(up{namespace="shop"}))', q);
  const scrapes = new Map(up.map((r) => [`${r.metric.namespace}/${r.metric.pod}`, Number(r.value[1]) * 1000]));
  const readings = await readingsAt(client, q, ['shop']);
  assert.ok(readings.size >= 4, `${readings.size} pods read`);
  for (const [pod, r] of readings) {
    assert.equal(r.at, scrapes.get(pod), pod);
    assert.ok(r.at < ready, `${pod}: read at the scrape before the instant, not at the instant`);
  }
});

test('mesh stat --prometheus-url reports RPS (within 5%), success rate and p50/p95/p99 (within 1%) of the truth, and the same as the direct scrape', { skip }, async () => {
  const viaProm = await stat({ prometheusUrl: prom!.url, window: '4s', windowExplicit: true }, () => ready, async () => undefined);
  let clock = Date.now();
  const direct = await stat({ sampleInterval: '2s' }, () => clock, async (ms) => { clock += ms; });
  assert.equal(viaProm.method.source, 'prometheus');
  assert.equal(direct.method.source, 'pod-proxy');
  // Truth per Deployment (two pods each): catalog 2 x 100 rps, 5% 5xx, DIST, all connections mTLS;
  // web 2 x 30 rps, no 5xx, all at 8 ms (p50 = 5 + 5 x 0.5, p95 = 5 + 5 x 0.95, p99 = 5 + 5 x 0.99), half the connections mTLS.
  const truth = {
    catalog: { rps: 200, success: 0.95, p50: 30, p95: 175, p99: 235, mtls: 1 },
    web: { rps: 60, success: 1, p50: 7.5, p95: 9.75, p99: 9.95, mtls: 0.5 },
  };
  for (const [report, how] of [[viaProm, 'prometheus'], [direct, 'direct']] as const) {
    assert.deepEqual(report.rows.map((r) => r.name), ['catalog', 'web'], how);
    for (const row of report.rows) {
      const want = truth[row.name as keyof typeof truth];
      const what = `${how} ${row.name}`;
      near(row.rps, want.rps, 0.05, `${what} rps`);
      near(row.successRate, want.success, 0.001, `${what} success`);
      near(row.latencyMs.p50, want.p50, 0.01, `${what} p50`);
      near(row.latencyMs.p95, want.p95, 0.01, `${what} p95`);
      near(row.latencyMs.p99, want.p99, 0.01, `${what} p99`);
      near(row.mtlsShare, want.mtls, 0.01, `${what} mTLS`);
    }
  }
  for (const [i, p] of viaProm.rows.entries()) {
    const d = direct.rows[i]!;
    near(p.rps, d.rps, 0.05, `${p.name}: prometheus vs direct rps`);
    near(p.successRate, d.successRate!, 0.001, `${p.name}: prometheus vs direct success`);
    near(p.latencyMs.p99, d.latencyMs.p99!, 0.01, `${p.name}: prometheus vs direct p99`);
  }
});

test('mesh edges --prometheus-url finds the same edges as the direct scrape, with the same counts (within one scrape) and mTLS', { skip }, async () => {
  const byName = new Map(PODS.map((p) => [p.name, p]));
  // Both read at the instant T every query here uses: Prometheus holds the latest sample at or before it.
  const read = async (at: number, prometheusUrl?: string) => {
    const cluster = fakeCluster(shopObjects(), (t) => (byName.get(t.pod)?.envoy ? { status: 200, body: envoyAt(byName.get(t.pod)!.envoy!, (at - start) / 1000) } : { status: 404, body: 'no such pod' }));
    return (await collectEdges(cluster, validateEdgesOptions({ resource: 'deploy', namespace: 'shop', allNamespaces: false, output: 'json', prometheusUrl }), { now: () => at })).edges;
  };
  const [viaProm, direct, secondBefore] = [await read(ready, prom!.url), await read(ready), await read(ready - 1000)];
  assert.deepEqual(viaProm.map((e) => `${e.src}->${e.dst}`), ['web->catalog']);
  assert.deepEqual(direct.map((e) => `${e.src}->${e.dst}`), ['web->catalog']);
  // Counts since the proxies started: Prometheus's latest sample before T is less than a second (two scrapes) old.
  assert.ok(viaProm[0]!.requests <= direct[0]!.requests && viaProm[0]!.requests >= secondBefore[0]!.requests, `requests ${viaProm[0]!.requests} between ${secondBefore[0]!.requests} and ${direct[0]!.requests}`);
  assert.equal(viaProm[0]!.mtlsShare, 1);
  assert.equal(viaProm[0]!.secured, 'yes');
});

test('the route gates\' PromQL (route show, canary --max-error-rate/--max-p99) reads the clients\' view of a Service from this Prometheus', { skip }, async () => {
  const s = await new PrometheusMetrics(prom!.url).backendStats('shop', 'catalog', 4, ready / 1000);
  // Two web pods each send 50 rps to catalog, 2% of them 5xx, latency DIST (p99 235 ms).
  assert.ok(s, 'stats for catalog');
  near(s.rps, 100, 0.05, 'rps');
  near(s.successRate, 0.98, 0.001, 'success');
  near(s.p99Ms, 235, 0.01, 'p99');
  assert.equal(await new PrometheusMetrics(prom!.url).backendStats('shop', 'nothing', 4, ready / 1000), undefined, 'a Service nobody calls has no data');
});

/** What each dashboard query must return: its series (by rendered legend) and their true values, with a tolerance. */
const EXPECTED: Record<string, { series: Record<string, number>; tol: number }> = {
  // Inbound over the mesh: web 2 x 30 rps at 8 ms, catalog 2 x 100 rps (5% 5xx) DIST.
  // Buckets of the 260 rps: <=5: 80, <=10: 140, <=50: 240, <=250: 260; p50 = 5 + 5 x 50/60, p95 = 100 + 150 x 7/20, p99 = 100 + 150 x 17.4/20.
  'mesh-overview/Requests/s/A': { series: { 'requests/s': 260 }, tol: 0.05 },
  'mesh-overview/Success rate/A': { series: { success: 250 / 260 }, tol: 0.001 },
  'mesh-overview/mTLS share/A': { series: { mTLS: 22 / 24 }, tol: 0.01 },
  'mesh-overview/Proxies scraped/A': { series: { 'mesh-sidecars': 4, 'mesh-gateways': 1 }, tol: 0 },
  'mesh-overview/Latency/A': { series: { p50: 5 + (5 * 50) / 60 }, tol: 0.01 },
  'mesh-overview/Latency/B': { series: { p95: 152.5 }, tol: 0.01 },
  'mesh-overview/Latency/C': { series: { p99: 230.5 }, tol: 0.01 },
  'mesh-overview/Requests/s by workload/A': { series: { 'shop/catalog': 200, 'shop/web': 60 }, tol: 0.05 },
  'mesh-overview/Success rate by workload/A': { series: { 'shop/catalog': 0.95, 'shop/web': 1 }, tol: 0.001 },
  'mesh-overview/p99 latency by workload/A': { series: { 'shop/catalog': 235, 'shop/web': 9.95 }, tol: 0.01 },
  // Service catalog, from its clients: 2 web pods x 50 rps, 2% 5xx, DIST, every connection mTLS.
  'mesh-service/Requests/s/A': { series: { 'requests/s': 100 }, tol: 0.05 },
  'mesh-service/Success rate/A': { series: { success: 0.98 }, tol: 0.001 },
  'mesh-service/mTLS share/A': { series: { mTLS: 1 }, tol: 0.01 },
  'mesh-service/Latency/A': { series: { p50: 30 }, tol: 0.01 },
  'mesh-service/Latency/B': { series: { p95: 175 }, tol: 0.01 },
  'mesh-service/Latency/C': { series: { p99: 235 }, tol: 0.01 },
  'mesh-service/Requests/s by client workload/A': { series: { 'shop/web': 100 }, tol: 0.05 },
  // Workload web: inbound 2 x 30 rps at 8 ms, half mTLS; outbound to catalog 2 x 50 rps, 2% 5xx.
  'mesh-workload/Inbound requests/s/A': { series: { 'requests/s': 60 }, tol: 0.05 },
  'mesh-workload/Inbound success rate/A': { series: { success: 1 }, tol: 0.001 },
  'mesh-workload/Inbound mTLS share/A': { series: { mTLS: 0.5 }, tol: 0.01 },
  'mesh-workload/Inbound latency/A': { series: { p50: 7.5 }, tol: 0.01 },
  'mesh-workload/Inbound latency/B': { series: { p95: 9.75 }, tol: 0.01 },
  'mesh-workload/Inbound latency/C': { series: { p99: 9.95 }, tol: 0.01 },
  'mesh-workload/Inbound requests/s by pod/A': { series: { 'web-5d9f7c6b8d-abcde': 30, 'web-5d9f7c6b8d-fghij': 30 }, tol: 0.05 },
  'mesh-workload/Outbound requests/s by destination/A': { series: { [CATALOG]: 100 }, tol: 0.05 },
  'mesh-workload/Outbound success rate by destination/A': { series: { [CATALOG]: 0.98 }, tol: 0.001 },
  // Controller: 4 sidecars and 1 gRPC client; pushes 100/s Cluster + 200/s ClusterLoadAssignment; 20 NACKs/s;
  // 40 + 10 certificates/s, 20 refused/s; every push 20 ms (bucket 10..25 ms: p50 = 17.5 ms,
  // p99 = 24.85 ms); every build 3 ms (1..5 ms: p50 3, p99 4.96); every webhook call 30 ms
  // (25..50 ms: p50 37.5, p99 49.75), 20 failures/s. Counters move in whole events per scrape,
  // hence the wider tolerance on rates.
  'mesh-control-plane/Connected proxies/A': { series: { proxies: 5 }, tol: 0 },
  'mesh-control-plane/Connected proxies by type and version/A': { series: { 'sidecar 1.32.3': 4, 'grpc 1.14.1': 1 }, tol: 0 },
  'mesh-control-plane/Certificates issued/s/A': { series: { 'issued/s': 50 }, tol: 0.1 },
  'mesh-control-plane/NACKs/s/A': { series: { 'NACKs/s': 20 }, tol: 0.1 },
  'mesh-control-plane/Pushes/s by type/A': { series: { Cluster: 100, ClusterLoadAssignment: 200 }, tol: 0.1 },
  'mesh-control-plane/NACKs/s by type/A': { series: { ClusterLoadAssignment: 20 }, tol: 0.1 },
  'mesh-control-plane/Push latency/A': { series: { p50: 0.0175 }, tol: 0.01 },
  'mesh-control-plane/Push latency/B': { series: { p99: 0.02485 }, tol: 0.01 },
  'mesh-control-plane/Snapshot build time/A': { series: { p50: 0.003 }, tol: 0.01 },
  'mesh-control-plane/Snapshot build time/B': { series: { p99: 0.00496 }, tol: 0.01 },
  'mesh-control-plane/Certificate failures/s by reason/A': { series: { 'csr unauthenticated': 20 }, tol: 0.1 },
  'mesh-control-plane/Webhook latency/A': { series: { p50: 0.0375 }, tol: 0.01 },
  'mesh-control-plane/Webhook latency/B': { series: { p99: 0.04975 }, tol: 0.01 },
  'mesh-control-plane/Webhook failures/s by reason/A': { series: { 'bad-request': 20 }, tol: 0.1 },
};

test('every query of every shipped dashboard runs on this Prometheus and returns exactly the expected series, at the true values', { skip }, async () => {
  const client = new PrometheusClient(prom!.url);
  const targets = concreteTargets({ 'mesh-overview': { namespace: '.*' }, 'mesh-service': { namespace: 'shop', service: 'catalog' }, 'mesh-workload': { namespace: 'shop', workload: 'web' } }, '4s');
  assert.deepEqual(targets.map((t) => t.key).sort(), Object.keys(EXPECTED).sort(), 'every dashboard query has an expectation here, and every expectation a query');
  for (const t of targets) {
    const want = EXPECTED[t.key]!;
    const result = await client.query(t.expr, ready / 1000);
    const got = Object.fromEntries(result.map((r) => [renderLegend(t.legendFormat, r.metric), Number(r.value[1])]));
    assert.deepEqual(Object.keys(got).sort(), Object.keys(want.series).sort(), `${t.key}: series of ${t.expr}`);
    for (const [legend, v] of Object.entries(want.series)) {
      if (want.tol === 0) assert.equal(got[legend], v, `${t.key} ${legend}`);
      else near(got[legend], v, want.tol, `${t.key} ${legend} (${t.expr})`);
    }
  }
});

