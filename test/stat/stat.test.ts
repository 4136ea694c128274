import { captureUi } from '../support/ui.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateStatOptions, type RawStatOptions, type StatReport } from '../../src/status/stat.ts';
import { runStat } from '../../src/commands/stat-run.ts';
import type { MeshError } from '../../src/errors.ts';
import type { ProxyResponse, ProxyTarget } from '../../src/cluster/types.ts';
import { fakeCluster } from './support/fake-cluster.ts';
import { shopObjects, shopProxyText } from './support/shop.ts';

const base: RawStatOptions = { resource: 'deploy', namespace: 'shop', allNamespaces: false, watch: false, output: 'table' };

test('validateStatOptions: table of accepted and rejected flags', () => {
  const ok: [Partial<RawStatOptions>, (o: ReturnType<typeof validateStatOptions>) => boolean][] = [
    [{}, (o) => o.resource.kind === 'deploy' && o.namespace === 'shop' && o.source === 'pods' && o.sampleSeconds === 2 && o.windowSeconds === 60],
    [{ resource: 'deployments/web' }, (o) => o.resource.kind === 'deploy' && o.resource.name === 'web'],
    [{ resource: 'ns', allNamespaces: true }, (o) => o.namespace === undefined],
    [{ namespace: undefined }, (o) => o.namespace === undefined && !o.allNamespaces],
    [{ window: '30s', windowExplicit: true }, (o) => o.sampleSeconds === 30, ],
    [{ sampleInterval: '500ms' }, (o) => o.sampleSeconds === 0.5],
    [{ prometheusUrl: 'http://127.0.0.1:9090', window: '5m', windowExplicit: true }, (o) => o.source === 'prometheus' && o.windowSeconds === 300 && o.sampleSeconds === 2],
    [{ to: 'svc/catalog' }, (o) => o.to?.kind === 'svc' && o.to.name === 'catalog'],
    [{ concurrency: '4' }, (o) => o.concurrency === 4],
  ];
  for (const [raw, check] of ok) assert.ok(check(validateStatOptions({ ...base, ...raw })), JSON.stringify(raw));
  const bad: [Partial<RawStatOptions>, RegExp][] = [
    [{ resource: undefined }, /name what to show/],
    [{ resource: 'jobs' }, /KIND\[\/NAME\]/],
    [{ resource: 'deploy/a/b' }, /KIND\[\/NAME\]/],
    [{ resource: 'deploy/web', allNamespaces: true }, /across all namespaces/],
    [{ from: 'deploy/a', to: 'svc/b' }, /--from and --to/],
    [{ to: 'cronjob/x' }, /--to "cronjob\/x"/],
    [{ window: 'soon' }, /not a duration/],
    [{ window: '0s' }, /out of range/],
    [{ window: '1m', windowExplicit: true, sampleInterval: '2s' }, /both set/],
    [{ prometheusUrl: 'ftp://x' }, /http or https/],
    [{ prometheusUrl: 'not a url' }, /not a URL/],
    [{ concurrency: '0' }, /--concurrency/],
  ];
  for (const [raw, re] of bad) assert.throws(() => validateStatOptions({ ...base, ...raw }), (e: MeshError) => e.exitCode === 2 && re.test(e.message), JSON.stringify(raw));
});

test('--window and --sample-interval read the one duration grammar (a bare number names the unit to add)', () => {
  assert.equal(validateStatOptions({ ...base, window: '1h30m', prometheusUrl: 'http://p:9090' }).windowSeconds, 5400);
  assert.equal(validateStatOptions({ ...base, sampleInterval: '250ms' }).sampleSeconds, 0.25);
  for (const [raw, re] of [[{ window: '5' }, /^--window 5: add a unit, e.g. 5s or 5m$/], [{ sampleInterval: 'm5' }, /^--sample-interval "m5" is not a duration$/]] as const) {
    assert.throws(() => validateStatOptions({ ...base, ...raw }), (e: MeshError) => e.exitCode === 2 && re.test(e.message), JSON.stringify(raw));
  }
});

/** A shop cluster whose proxies count their scrapes; a fake clock the sleeps advance. */
function setup(overrides: (t: ProxyTarget, n: number) => ProxyResponse | undefined = () => undefined) {
  const scrapes = new Map<string, number>();
  const cluster = fakeCluster(shopObjects(), (t, path) => {
    assert.equal(path.split('?')[0], '/stats/prometheus');
    assert.equal(t.port, 15090);
    const n = scrapes.get(t.pod) ?? 0;
    scrapes.set(t.pod, n + 1);
    return overrides(t, n) ?? { status: 200, body: shopProxyText(t.pod, n, path.split('?')[1]) };
  });
  let clock = 1_000_000;
  const deps = { cluster, now: () => clock, sleep: async (ms: number) => { clock += ms; } };
  const c = captureUi({ yes: true });
  return { deps, ui: c.ui, scrapes, text: () => ({ stdout: c.out(), stderr: c.err() }) };
}

async function json(raw: Partial<RawStatOptions>, s = setup()): Promise<StatReport> {
  await runStat(validateStatOptions({ ...base, output: 'json', ...raw }), s.ui, s.deps);
  return JSON.parse(s.text().stdout) as StatReport;
}

test('stat deploy: per-workload inbound numbers from two scrapes 2 s apart (hand-computed)', async () => {
  const r = await json({});
  assert.equal(r.method.source, 'pod-proxy');
  assert.equal(r.method.intervalSeconds, 2);
  assert.deepEqual(r.rows.map((x) => x.name), ['catalog', 'legacy', 'web']);
  const catalog = r.rows[0]!;
  // Two pods, each +60 requests (3 failed) in 2 s; all 120 new requests took 40 ms (bucket 25..50).
  assert.equal(catalog.rps, 60);
  assert.equal(catalog.successRate, 0.95);
  assert.deepEqual(catalog.latencyMs, { p50: 37.5, p95: 48.75, p99: 49.75 });
  assert.equal(catalog.tcpConnections, 6);
  assert.equal(catalog.mtlsShare, 1);
  assert.deepEqual([catalog.pods, catalog.meshedPods, catalog.unreachablePods], [2, 2, 0]);
  const legacy = r.rows[1]!;
  assert.deepEqual([legacy.meshedPods, legacy.pods, legacy.successRate, legacy.mtlsShare], [0, 1, null, null]);
  const web = r.rows[2]!;
  assert.equal(web.pods, 3, 'the finished pod is selected too');
  assert.equal(web.rps, 0);
  assert.equal(web.successRate, null, 'no requests: no success rate');
});

test('stat deploy/web --to svc/catalog: what web sent, from the client proxies', async () => {
  const r = await json({ resource: 'deploy/web', to: 'svc/catalog' });
  assert.equal(r.rows.length, 1);
  const w = r.rows[0]!;
  assert.equal(w.direction, 'outbound');
  assert.equal(w.rps, 20);
  assert.equal(w.successRate, 0.95);
  assert.equal(w.latencyMs.p50, 7.5, '40 requests at 8 ms: rank 20 of 40 in (5,10]');
  assert.equal(w.tcpConnections, 2);
  assert.equal(w.mtlsShare, 1);
});

test('stat deploy/catalog --from deploy/web equals web --to catalog; svc rows use the target port', async () => {
  const from = (await json({ resource: 'deploy/catalog', from: 'deploy/web' })).rows[0]!;
  assert.equal(from.rps, 20);
  assert.equal(from.successRate, 0.95);
  const svc = (await json({ resource: 'svc/catalog' })).rows[0]!;
  assert.equal(svc.rps, 60, 'targetPort "http" resolves to container port 8080');
  assert.equal(svc.tcpConnections, 6);
});

test('stat ns -A: one row per namespace, table with NAMESPACE column; unmeshed and finished pods not scraped', async () => {
  const s = setup();
  await runStat(validateStatOptions({ ...base, resource: 'ns', allNamespaces: true }), s.ui, s.deps);
  const { stdout, stderr } = s.text();
  const lines = stdout.trim().split('\n');
  assert.match(lines[0]!, /^NAMESPACE\s+NAME\s+MESHED\s+SUCCESS\s+RPS\s+LATENCY_P50\s+LATENCY_P95\s+LATENCY_P99\s+TCP_CONN\s+MTLS$/);
  assert.match(lines.find((l) => l.startsWith('shop'))!, /^shop\s+shop\s+5\/6\s+95\.00%\s+60\.0\s+37\.5ms\s+48\.8ms\s+49\.8ms\s+6\s+100%$/);
  assert.match(lines.find((l) => l.startsWith('other'))!, /^other\s+other\s+1\/1\s+100\.00%\s+3\.5\s+0\.75ms\s/);
  assert.match(stderr, /method: proxies' \/stats\/prometheus via the API server, two scrapes 2s apart/);
  assert.equal(s.scrapes.get('legacy-1'), undefined);
  assert.equal(s.scrapes.get('web-old'), undefined);
  assert.equal(s.scrapes.get('catalog-1'), 2);
});

test('-o wide adds direction, counts, rate-limited requests and unreachable pods', async () => {
  const s = setup();
  await runStat(validateStatOptions({ ...base, resource: 'deploy/catalog', output: 'wide' }), s.ui, s.deps);
  // Two pods, each +2 requests refused by the local rate limit (429) in the window.
  assert.match(s.text().stdout, /DIRECTION\s+REQUESTS\s+FAILED\s+RATE_LIMITED\s+UNREACHABLE\s+ERRORS\n.*inbound\s+120\s+6\s+4\s+0\s+-\n$/);
});

test('a pod proxy 403 is exit 3 naming get pods/proxy and the namespace', async () => {
  const s = setup((t) => (t.pod === 'catalog-2' ? { status: 403, body: JSON.stringify({ kind: 'Status', message: 'pods "catalog-2" is forbidden: User "dev" cannot get resource "pods/proxy"' }) } : undefined));
  await assert.rejects(runStat(validateStatOptions(base), s.ui, s.deps), (e: MeshError) => e.exitCode === 3 && /"get" on "pods\/proxy" in namespace shop/.test(e.message) && /auth can-i get pods\/proxy -n shop/.test(e.hint ?? ''));
});

test('one unreachable proxy: a warning naming it, its row counts the others', async () => {
  const s = setup((t) => (t.pod === 'catalog-2' ? { status: 503, body: JSON.stringify({ kind: 'Status', message: 'error trying to reach service: connection refused' }) } : undefined));
  const r = await json({ resource: 'deploy/catalog' }, s);
  assert.equal(r.rows[0]!.unreachablePods, 1);
  assert.equal(r.rows[0]!.rps, 30);
  assert.match(r.warnings.join('\n'), /1 of 2 meshed pods could not be read/);
  assert.match(r.warnings.join('\n'), /shop\/catalog-2: HTTP 503: error trying to reach service/);
});

test('every proxy unreachable: "metrics unreachable" with a hint to check :15090', async () => {
  const s = setup(() => ({ status: 503, body: 'connection refused' }));
  await assert.rejects(runStat(validateStatOptions(base), s.ui, s.deps), (e: MeshError) => e.exitCode === 1 && /metrics unreachable/.test(e.message) && /15090/.test(e.hint ?? ''));
});

test('no proxies: rows with "-" and a warning saying how to inject', async () => {
  const s = setup();
  await runStat(validateStatOptions({ ...base, resource: 'deploy/legacy' }), s.ui, s.deps);
  const { stdout, stderr } = s.text();
  assert.match(stdout, /legacy\s+0\/1\s+-\s+-\s+-\s+-\s+-\s+-\s+-/);
  assert.match(stderr, /no proxies found.*mesh inject/);
});

test('a named resource that does not exist is a usage error naming it', async () => {
  const s = setup();
  await assert.rejects(runStat(validateStatOptions({ ...base, resource: 'deploy/nope' }), s.ui, s.deps), (e: MeshError) => e.exitCode === 2 && /Deployment "nope" not found in namespace shop/.test(e.message));
});

test('-w refreshes: each refresh is one more scrape compared with the previous one', async () => {
  const s = setup();
  await runStat(validateStatOptions({ ...base, resource: 'deploy/catalog', watch: true }), s.ui, { ...s.deps, maxRefreshes: 3 });
  assert.equal(s.scrapes.get('catalog-1'), 4, 'two scrapes for the first table, then one per refresh');
  const tables = s.text().stdout.split('\n\n');
  assert.equal(tables.length, 3);
  for (const t of tables) assert.match(t, /catalog\s+2\/2\s+95\.00%\s+60\.0/);
});

test('without -n the kubeconfig context namespace is used, as kubectl does', async () => {
  const s = setup();
  const r = await json({ namespace: undefined, resource: 'deploy/catalog' }, { ...s, deps: { ...s.deps, cluster: { ...s.deps.cluster, defaultNamespace: 'shop' } } });
  assert.equal(r.rows[0]!.namespace, 'shop');
  assert.equal(r.rows[0]!.requests, 120);
});

test('--prometheus-url that does not answer: exit 3 naming the URL and how to reach it', async () => {
  const { createServer } = await import('node:net');
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  const s = setup();
  await assert.rejects(runStat(validateStatOptions({ ...base, prometheusUrl: `http://127.0.0.1:${port}` }), s.ui, s.deps), (e: MeshError) => e.exitCode === 3 && /cannot reach Prometheus at http:\/\/127\.0\.0\.1/.test(e.message) && /port-forward/.test(e.hint ?? ''));
});
