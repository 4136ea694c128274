// The dashboard without a browser: the size budget of the page and of the data API for the example
// shop (docs/dashboard.md states both), flag validation, and the pure data model (health colours,
// canary percents, traffic edges from two proxy readings).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { MESH_BIN, runMeshInProcess } from '../support/cli.ts';
import { startDashboard, type RunningDashboard } from '../../src/dashboard/start.ts';
import { buildDashboard, healthOf } from '../../src/dashboard/model.ts';
import { validateDashboardOptions } from '../../src/commands/dashboard-run.ts';
import { DEFAULT_CONTROLLER } from '../../src/status/controller-debug.ts';
import { readProxy } from '../../src/metrics/envoy.ts';
import { parsePrometheusText } from '../../src/metrics/prometheus.ts';
import type { KubeObject } from '../../src/cluster/types.ts';
import { buildBundle, SHOP, shopStats } from './support.ts';

/** The budgets docs/dashboard.md states. */
const BUDGET = { bundleBytes: 600 * 1024, bundleGzipBytes: 200 * 1024, shopDataBytes: 16 * 1024 };

let assets: { dir: string; sizes: Record<string, number> };
let offline: RunningDashboard;

before(async () => {
  assets = await buildBundle('assets-budget');
  offline = await startDashboard({ files: [SHOP], address: '127.0.0.1', port: 0, open: false, allowActions: false, windowSeconds: 60, refreshMs: 1000, concurrency: 4, controller: DEFAULT_CONTROLLER }, { assetsDir: assets.dir });
});

after(async () => {
  await offline?.stop();
});

test('the page fits its size budget (everything bundled: no CDN)', () => {
  const files = ['index.html', 'app.js', 'app.css'];
  const total = files.reduce((n, f) => n + assets.sizes[f]!, 0);
  const gzip = files.reduce((n, f) => n + gzipSync(readFileSync(join(assets.dir, f))).length, 0);
  assert.ok(total <= BUDGET.bundleBytes, `page ${total} bytes, budget ${BUDGET.bundleBytes}`);
  assert.ok(gzip <= BUDGET.bundleGzipBytes, `page ${gzip} bytes gzipped, budget ${BUDGET.bundleGzipBytes}`);
  const html = readFileSync(join(assets.dir, 'index.html'), 'utf8');
  const js = readFileSync(join(assets.dir, 'app.js'), 'utf8');
  assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//, 'no resource from another origin');
  assert.match(js, /cytoscape/i, 'the graph library is in the bundle');
});

test('the data API answers for the example shop within its budget, only with the token, with security headers', async () => {
  const origin = offline.server.origin;
  const token = new URL(offline.url).searchParams.get('token')!;
  assert.equal((await fetch(`${origin}/api/data`)).status, 401);
  assert.equal((await fetch(`${origin}/api/data`, { headers: { authorization: 'Bearer nope' } })).status, 401);
  const res = await fetch(`${origin}/api/data`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/);
  assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
  const body = await res.text();
  assert.ok(body.length <= BUDGET.shopDataBytes, `data ${body.length} bytes, budget ${BUDGET.shopDataBytes}`);
  const { data, csrf } = JSON.parse(body);
  assert.equal(data.mode, 'offline');
  assert.equal(csrf, null, 'no CSRF token: nothing to change');
  assert.equal(data.nodes.length, 9);
  assert.equal((await fetch(`${origin}/api/routes/shop/catalog/promote`, { method: 'POST', headers: { authorization: `Bearer ${token}`, origin } })).status, 404, 'read-only');
});

test('flags: a non-IP --address, a bad --port, -f with --allow-actions or --prometheus-url, and -o are usage errors', async () => {
  await assert.rejects(validateDashboardOptions({ address: 'localhost' }), /--address localhost is not an IP address/);
  await assert.rejects(validateDashboardOptions({ port: '70000' }), /--port 70000/);
  await assert.rejects(validateDashboardOptions({ filename: ['k8s/'], allowActions: true }), /--allow-actions needs a cluster/);
  await assert.rejects(validateDashboardOptions({ filename: ['k8s/'], prometheusUrl: 'http://127.0.0.1:9090' }), /--prometheus-url needs a cluster/);
  await assert.rejects(validateDashboardOptions({ refresh: '1ms' }), /--refresh 1ms is out of range/);
  const ok = await validateDashboardOptions({ namespace: 'shop', refresh: '5s' });
  assert.deepEqual([ok.address, ok.port, ok.open, ok.allowActions, ok.refreshMs, ok.namespace], ['127.0.0.1', 0, true, false, 5000, 'shop']);
  const r = await runMeshInProcess(['dashboard', '-o', 'json']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /takes no -o/);
  const a = await runMeshInProcess(['dashboard', '-A']);
  assert.equal(a.code, 2);
});

function pod(name: string, app: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'shop', labels: { app, 'mesh.dev/proxy-version': '0.1.0' } }, spec: { containers: [{ name: app, ports: [{ name: 'http', containerPort: 8080 }] }, { name: 'mesh-proxy' }] }, status: { phase: 'Running' } };
}
const deploy = (name: string, labels: Record<string, string>): KubeObject => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: 'shop' }, spec: { selector: { matchLabels: labels }, template: { metadata: { labels }, spec: {} } } });
const svc = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'shop' }, spec: { selector: { app: name }, ports: [{ port: 8080, targetPort: 'http' }] } });

test('the model: traffic edges and node metrics from two readings, coloured by success rate', () => {
  const objects = [deploy('frontend', { app: 'frontend' }), deploy('catalog', { app: 'catalog' }), svc('frontend'), svc('catalog'), pod('frontend-1', 'frontend'), pod('catalog-v2-1', 'catalog')];
  const reading = (p: string, n: number, at: number) => ({ reading: readProxy(parsePrometheusText(shopStats(p, n))), at });
  const before = new Map([['shop/frontend-1', reading('frontend-1', 0, 0)], ['shop/catalog-v2-1', reading('catalog-v2-1', 0, 0)]]);
  const afterR = new Map([['shop/frontend-1', reading('frontend-1', 2, 2000)], ['shop/catalog-v2-1', reading('catalog-v2-1', 2, 2000)]]);
  const { data, point } = buildDashboard(objects, { mode: 'live', source: 'test', actions: false, now: 5000, readings: { before, after: afterR } });
  const edge = data.edges.find((e) => e.kind === 'traffic')!;
  assert.deepEqual([edge.source, edge.target, edge.metrics!.rps, edge.metrics!.successRate, edge.metrics!.mtls, edge.health], ['deploy/shop/frontend', 'svc/shop/catalog', 50, 1, 1, 'ok']);
  const catalog = data.nodes.find((n) => n.id === 'svc/shop/catalog')!;
  assert.deepEqual([catalog.metrics!.rps, catalog.metrics!.successRate, catalog.health], [10, 0.9, 'bad']);
  assert.equal(data.metricsAt, 5000);
  assert.deepEqual(Object.keys(point!.nodes).sort(), ['deploy/shop/catalog', 'deploy/shop/frontend', 'svc/shop/catalog', 'svc/shop/frontend']);
  assert.deepEqual([healthOf({ rps: 1, successRate: 0.995, p99Ms: 1, mtls: 1 }), healthOf({ rps: 1, successRate: 0.96, p99Ms: 1, mtls: 1 }), healthOf(undefined)], ['ok', 'warn', 'unknown']);
});

test('bin/mesh dashboard -f examples/shop --no-open: prints the URL on stdout, serves it with the token only, stops on SIGINT with exit 0', async () => {
  const child = spawn(process.execPath, [MESH_BIN, 'dashboard', '-f', SHOP, '--no-open'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => void (stderr += String(c)));
  let stdout = '';
  for await (const chunk of child.stdout) {
    stdout += String(chunk);
    if (stdout.includes('\n')) break;
  }
  const url = stdout.trim();
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}$/);
  const u = new URL(url);
  assert.equal((await fetch(`${u.origin}/api/data`)).status, 401);
  assert.equal((await fetch(url, { redirect: 'manual' })).status, 303);
  assert.match(stderr, /offline from .*examples\/shop, read-only/);
  child.kill('SIGINT');
  const [code] = await once(child, 'exit');
  assert.equal(code, 0, stderr);
});
