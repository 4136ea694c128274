// `mesh dashboard` in a real browser: Debian's headless Chromium driven by playwright-core (never a
// downloaded browser), against the example shop on the test API server with proxies serving Envoy
// stats through the pod proxy (live), and against examples/ on disk (offline). One browser for
// the file; pages are reused. Screenshots of each view go to .test-output/dashboard/.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { runMeshInProcess } from '../support/cli.ts';
import type { Kubelet, TestCluster } from '../support/kube.ts';
import { startDashboard, type DashboardOptions, type RunningDashboard } from '../../src/dashboard/start.ts';
import { DEFAULT_CONTROLLER } from '../../src/status/controller-debug.ts';
import { buildBundle, CHROMIUM, HAVE_CHROMIUM, OUT, SHOP, startShopCluster } from './support.ts';

// Callbacks passed to page.evaluate run in the browser; this file is compiled without the DOM library.
declare const document: any;
declare const window: any;

const skip = HAVE_CHROMIUM ? false : `${CHROMIUM} is not installed (apt-get install chromium; .ci/run installs it)`;
const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const base: DashboardOptions = { address: '127.0.0.1', port: 0, open: false, allowActions: false, windowSeconds: 60, refreshMs: 250, concurrency: 8, controller: DEFAULT_CONTROLLER };

let browser: Browser;
let context: BrowserContext;
let page: Page;
let kube: TestCluster;
let kubelet: Kubelet;
let assets: string;
let live: RunningDashboard;
let actions: RunningDashboard;
let offline: RunningDashboard;
const consoleErrors: string[] = [];
const logs: string[] = [];

before(async () => {
  if (skip) return;
  const { chromium } = await import('playwright-core');
  const [bundle, shop, b] = await Promise.all([
    buildBundle('assets-browser'),
    startShopCluster(),
    chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--headless=new', '--disable-gpu'] }),
  ]);
  assets = bundle.dir;
  ({ kube, kubelet } = shop);
  browser = b;
  // A controller replica whose /debug/syncz (the format src/xds/syncz.ts defines) reports a synced
  // frontend proxy with its certificate and a catalog-v2 proxy whose last route push was NACKed.
  const pods = ((await kube.request('GET', '/api/v1/namespaces/shop/pods')).json.items as { metadata: { name: string } }[]).map((p) => p.metadata.name);
  const frontend = pods.find((p) => p.startsWith('frontend'))!;
  const v2 = pods.find((p) => p.startsWith('catalog-v2'))!;
  kube.server.seed([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'mesh-system' } }, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'mesh-controller-0', namespace: 'mesh-system', labels: { 'app.kubernetes.io/name': 'mesh-controller' } }, spec: { containers: [{ name: 'controller', image: 'mesh' }] }, status: { phase: 'Running' } }]);
  kube.server.setPodProxy('mesh-system', 'mesh-controller-0', (req) => (req.path === '/debug/syncz' ? JSON.stringify(syncz(frontend, v2)) : { status: 404, body: 'no such proxy' }));
  // The canary route, made the way users make it.
  const r = await runMeshInProcess(['--kubeconfig', kube.kubeconfigPath, '-n', 'shop', 'route', 'canary', 'catalog', '--canary', 'catalog-v2', '--stable', 'catalog-v1', '--weight', '10']);
  assert.equal(r.code, 0, r.stderr);
  const deps = { connect: { kubeconfig: kube.kubeconfigPath }, assetsDir: assets, log: (l: string) => void logs.push(l) };
  [live, actions, offline] = await Promise.all([
    startDashboard(base, deps),
    startDashboard({ ...base, allowActions: true }, deps),
    startDashboard({ ...base, files: [SHOP] }, { assetsDir: assets }),
  ]);
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => void consoleErrors.push(e.message));
});

after(async () => {
  await browser?.close();
  await Promise.all([live?.stop(), actions?.stop(), offline?.stop()]);
  kubelet?.stop();
  await kube?.stop();
});

const types = (nackRoutes: boolean) => Object.fromEntries(['clusters', 'listeners', 'routes', 'endpoints', 'secrets'].map((t) => {
  const url = `type.googleapis.com/envoy.${t === 'clusters' ? 'config.cluster.v3.Cluster' : t === 'listeners' ? 'config.listener.v3.Listener' : t === 'routes' ? 'config.route.v3.RouteConfiguration' : t === 'endpoints' ? 'config.endpoint.v3.ClusterLoadAssignment' : 'extensions.transport_sockets.tls.v3.Secret'}`;
  const nack = nackRoutes && t === 'routes';
  return [url, { names: [], wildcard: true, sentVersion: nack ? '8' : '7', sentNonce: nack ? 'n8' : 'n7', ackedVersion: '7', pushes: 3, ...(nack ? { lastNack: { version: '8', nonce: 'n8', message: 'route catalog: duplicate domain', at: '2026-01-01T00:00:00Z' } } : {}) }];
}));
function syncz(frontend: string, v2: string) {
  const proxy = (pod: string, nack: boolean, sa: string) => ({
    id: `sidecar~${pod}.shop`, kind: 'sidecar', namespace: 'shop', pod, connected: true, snapshotVersion: nack ? '8' : '7',
    streams: [{ streamId: 1, mode: 'sotw', node: { id: `sidecar~${pod}.shop`, kind: 'sidecar', namespace: 'shop', pod }, connectedAt: '2026-01-01T00:00:00Z', types: types(nack) }],
    identity: { authenticated: true, transport: 'tls', spiffeId: `spiffe://cluster.local/ns/shop/sa/${sa}` },
    certificate: { serial: '01', notBefore: new Date(Date.now() - 3_600_000).toISOString(), notAfter: new Date(Date.now() + 23 * 3_600_000).toISOString(), renewAt: new Date(Date.now() + 11 * 3_600_000).toISOString(), renewing: true, issued: 1 },
  });
  return { generation: 3, ready: true, proxies: [proxy(frontend, false, 'frontend'), proxy(v2, true, 'catalog')] };
}

async function open(d: RunningDashboard): Promise<void> {
  await page.goto(d.url);
  await page.waitForSelector('body[data-ready="true"]');
}

async function tab(name: string): Promise<void> {
  await page.click(`#tab-${name}`);
  await page.waitForSelector(`#view-${name}:not([hidden])`);
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(OUT, `${name}.png`), fullPage: true });
}

/** axe-core in the page: no serious or critical violation. Evaluated through the DevTools protocol, so the page's CSP stays on. */
async function axe(what: string): Promise<void> {
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const r = await (window as { axe: { run: (ctx: unknown, o: unknown) => Promise<{ violations: { id: string; impact: string; help: string; nodes: unknown[] }[] }> } }).axe.run(document, { resultTypes: ['violations'] });
    return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.help} x${v.nodes.length}`);
  });
  assert.deepEqual(violations, [], `${what}: accessibility violations`);
}

const rowText = (selector: string) => page.$$eval(selector, (rows) => rows.map((r) => [...(r as any).cells].map((c: any) => c.textContent ?? '')));

describe('mesh dashboard in Chromium', { skip }, () => {
  test('no token, a wrong token or a foreign Host header: refused; the URL token becomes a cookie', async () => {
    const origin = live.server.origin;
    assert.equal((await fetch(`${origin}/`)).status, 401);
    assert.equal((await fetch(`${origin}/api/data`)).status, 401);
    assert.equal((await fetch(`${origin}/api/events?token=wrong`)).status, 401);
    const first = await fetch(live.url, { redirect: 'manual' });
    assert.equal(first.status, 303);
    assert.equal(first.headers.get('location'), '/');
    const cookie = first.headers.get('set-cookie') ?? '';
    assert.match(cookie, /HttpOnly; SameSite=Strict/);
    const withCookie = await fetch(`${origin}/api/data`, { headers: { cookie: cookie.split(';')[0]! } });
    assert.equal(withCookie.status, 200);
    // A page on another name that resolves here (DNS rebinding) sends its own Host: refused.
    const rebound = await new Promise<number>((resolve, reject) => {
      httpGet(`${origin}/api/data`, { headers: { cookie: cookie.split(';')[0]!, host: `evil.example:${live.server.port}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject);
    });
    assert.equal(rebound, 421);
  });

  test('live: the graph shows the shop\'s Services and workloads, the canary split and measured traffic with mTLS', async () => {
    await open(live);
    const edge = 'deploy/shop/frontend>svc/shop/catalog';
    // Traffic edges appear once two scrapes made a window (refresh 250 ms): wait on the DOM.
    await page.waitForFunction((id) => document.querySelector(`tr[data-edge="${id}"] td:nth-child(4)`)?.textContent !== '-' && document.querySelector(`tr[data-edge="${id}"]`) !== null, edge, { timeout: 10_000 });
    const nodes = (await rowText('#nodes tbody tr')).map((r) => `${r[1]} ${r[0]}`).sort();
    assert.deepEqual(nodes, ['deploy catalog-v1', 'deploy catalog-v2', 'deploy frontend', 'sts redis', 'svc catalog', 'svc catalog-v1', 'svc catalog-v2', 'svc frontend', 'svc redis']);
    assert.equal(await page.getAttribute('#graph', 'data-nodes'), '9');
    const edges = Object.fromEntries((await rowText('#edges tbody tr')).map((r) => [`${r[0]} -> ${r[1]}`, r.slice(2)]));
    assert.deepEqual(Object.keys(edges).sort(), [
      'deploy/shop/frontend -> svc/shop/catalog',
      'svc/shop/catalog -> deploy/shop/catalog-v1', 'svc/shop/catalog -> deploy/shop/catalog-v2',
      'svc/shop/catalog -> svc/shop/catalog-v1', 'svc/shop/catalog -> svc/shop/catalog-v2',
      'svc/shop/catalog-v1 -> deploy/shop/catalog-v1', 'svc/shop/catalog-v2 -> deploy/shop/catalog-v2',
      'svc/shop/frontend -> deploy/shop/frontend', 'svc/shop/redis -> sts/shop/redis',
    ]);
    assert.equal(edges['svc/shop/catalog -> svc/shop/catalog-v1']![0], 'route 90%');
    assert.equal(edges['svc/shop/catalog -> svc/shop/catalog-v2']![0], 'route 10%');
    assert.equal(edges['svc/shop/catalog-v1 -> deploy/shop/catalog-v1']![0], 'selects');
    const traffic = edges['deploy/shop/frontend -> svc/shop/catalog']!;
    assert.equal(traffic[0], 'traffic');
    assert.ok(Number(traffic[1]) > 0, `rps ${traffic[1]}`);
    // 20 ms requests land in Envoy's (10, 25] ms bucket: p99 interpolates inside it, as histogram_quantile does.
    assert.deepEqual([traffic[2], traffic[4]], ['100%', 'mTLS']);
    assert.equal(await page.$$eval(`tr[data-edge="${edge}"] .lock svg`, (s) => s.length), 1, 'a padlock');
    const p99 = Number(/^([\d.]+) ms$/.exec(traffic[3]!)?.[1]);
    assert.ok(p99 > 10 && p99 <= 25, traffic[3]);
    assert.equal(await page.getAttribute('#graph', 'data-edges'), String(Object.keys(edges).length));
    // catalog-v2 answers 10% 5xx: red.
    const v2 = await page.$eval('tr[data-node="deploy/shop/catalog-v2"] td:nth-child(5)', (td) => [td.textContent, td.className]);
    assert.deepEqual(v2, ['90.0%', 'health-bad']);
    await shot('graph-live');
    await axe('graph');
  });

  test('live: the service page\'s time series grow over SSE without a reload', async () => {
    await page.evaluate(() => void ((window as unknown as { marker: number }).marker = 1));
    await page.click('tr[data-node="svc/shop/catalog"] button');
    await page.waitForSelector('#service:not([hidden])');
    await page.waitForFunction(() => Number(document.getElementById('chart-rps')?.dataset.points ?? 0) >= 3, undefined, { timeout: 10_000 });
    assert.match(await page.textContent('#service-now') ?? '', /rps, \d+(\.\d)?% success, p99/);
    assert.equal(await page.evaluate(() => (window as unknown as { marker?: number }).marker), 1, 'same page, no reload');
    await shot('service-live');
  });

  test('live: a canary weight changed through the API shows within 2 s, without reload; no actions without --allow-actions', async () => {
    await tab('routes');
    const cell = '[data-route="shop/catalog"] [data-backend="catalog-v2"] .weight';
    assert.match(await page.textContent(cell) ?? '', /catalog-v2 10%/);
    assert.equal(await page.$$eval('[data-action]', (b) => b.length), 0, 'no promote/rollback buttons when read-only');
    const route = (await kube.request('GET', '/apis/gateway.networking.k8s.io/v1/namespaces/shop/httproutes/catalog')).json;
    const rules = route.spec.rules as { backendRefs: { name: string; weight: number }[] }[];
    const split = rules.find((r) => r.backendRefs.length === 2)!;
    for (const b of split.backendRefs) b.weight = 50;
    const started = Date.now();
    const put = await kube.request('PUT', '/apis/gateway.networking.k8s.io/v1/namespaces/shop/httproutes/catalog', { body: JSON.stringify(route), headers: { 'content-type': 'application/json' } });
    assert.equal(put.status, 200, put.body);
    await page.waitForFunction((sel) => /catalog-v2 50%/.test(document.querySelector(sel)?.textContent ?? ''), cell, { timeout: 2000 });
    assert.ok(Date.now() - started < 2000);
    assert.equal(await page.evaluate(() => (window as unknown as { marker?: number }).marker), 1, 'same page, no reload');
    // The API has no action either.
    const cookie = (await context.cookies(live.server.origin)).map((c) => `${c.name}=${c.value}`).join('; ');
    const post = await fetch(`${live.server.origin}/api/routes/shop/catalog/promote`, { method: 'POST', headers: { cookie, origin: live.server.origin } });
    assert.equal(post.status, 404);
    await shot('routes-live');
    await axe('routes');
  });

  test('live: proxies with their xDS sync state (a NACK shown with its message), certificates per identity', async () => {
    await tab('proxies');
    // Workload pods are named by the stand-in kubelet (frontend-HASH-HASH): compare on the workload.
    const rows = (await rowText('#proxies tbody tr')).map((r) => [r[0]!.replace(/-[a-z0-9]+-[a-z0-9]+\.shop$/, ''), r[2], r[3], r[5]].join(' | ')).sort();
    assert.deepEqual(rows, [
      'catalog-v1 | NOT CONNECTED | - | -',
      'catalog-v1 | NOT CONNECTED | - | -',
      'catalog-v2 | NACKED: RDS 8: route catalog: duplicate domain | 8 | mesh-controller-0',
      'frontend | NOT CONNECTED | - | -',
      'frontend | SYNCED | 7 | mesh-controller-0',
      'redis-0.shop | NOT CONNECTED | - | -',
    ]);
    await shot('proxies-live');
    await tab('findings');
    await shot('findings-live');
    await tab('certs');
    const certs = (await rowText('#certs tbody tr')).map((r) => `${r[0]} ${r[1]} ${r[4]}`);
    assert.deepEqual(certs, ['spiffe://cluster.local/ns/shop/sa/catalog 1 23.0 h', 'spiffe://cluster.local/ns/shop/sa/frontend 1 23.0 h']);
    await shot('certificates-live');
    await axe('proxies, findings, certificates');
  });

  test('with --allow-actions: promote asks first, needs the CSRF token and this Origin, and changes the route', async () => {
    await open(actions);
    await tab('routes');
    const buttons = await page.$$eval('[data-route="shop/catalog"] [data-action]', (b) => b.map((x) => x.textContent));
    assert.deepEqual(buttons, ['Promote', 'Roll back']);
    const origin = actions.server.origin;
    const cookie = (await context.cookies(origin)).map((c) => `${c.name}=${c.value}`).join('; ');
    const { csrf } = (await (await fetch(`${origin}/api/data`, { headers: { cookie } })).json()) as { csrf: string };
    const path = `${origin}/api/routes/shop/catalog/promote`;
    assert.equal((await fetch(path, { method: 'POST', headers: { cookie, origin } })).status, 403, 'no CSRF token');
    assert.equal((await fetch(path, { method: 'POST', headers: { cookie, origin: 'http://evil.example', 'x-mesh-csrf': csrf } })).status, 403, 'foreign Origin');
    await page.click('[data-route="shop/catalog"] [data-action="promote"]');
    await page.waitForSelector('#confirm[open]');
    await shot('confirm-promote');
    await page.click('#confirm-no');
    assert.match((await kube.request('GET', '/apis/gateway.networking.k8s.io/v1/namespaces/shop/httproutes/catalog')).body, /"weight":50/, 'cancel changes nothing');
    await page.click('[data-route="shop/catalog"] [data-action="promote"]');
    await page.click('#confirm-yes');
    await page.waitForFunction(() => /catalog-v2 100%/.test(document.querySelector('[data-route="shop/catalog"] [data-backend="catalog-v2"] .weight')?.textContent ?? ''), undefined, { timeout: 5000 });
    assert.match(await page.textContent('[data-route="shop/catalog"]') ?? '', /Promoted/);
  });

  test('offline (-f examples/shop): topology, routes, findings, identities and the computed proxy config; no metrics', async () => {
    await open(offline);
    assert.match(await page.textContent('#status') ?? '', /offline: files .*examples\/shop/);
    assert.equal(await page.getAttribute('#graph', 'data-nodes'), '9');
    const edges = (await rowText('#edges tbody tr')).map((r) => `${r[0]} -> ${r[1]} ${r[2]}`).sort();
    assert.deepEqual(edges, [
      'svc/shop/catalog -> deploy/shop/catalog-v1 selects', 'svc/shop/catalog -> deploy/shop/catalog-v2 selects',
      'svc/shop/catalog-v1 -> deploy/shop/catalog-v1 selects', 'svc/shop/catalog-v2 -> deploy/shop/catalog-v2 selects',
      'svc/shop/frontend -> deploy/shop/frontend selects', 'svc/shop/redis -> sts/shop/redis selects',
    ]);
    await shot('graph-offline');
    await axe('offline graph');
    await tab('proxies');
    assert.deepEqual((await rowText('#proxies tbody tr')).map((r) => `${r[0]} ${r[2]}`), ['deploy/catalog-v1 OFFLINE', 'deploy/catalog-v2 OFFLINE', 'deploy/frontend OFFLINE', 'sts/redis OFFLINE']);
    await page.click('#proxies tbody tr:nth-child(3) button');
    await page.waitForFunction(() => document.getElementById('config')?.dataset.proxy === 'sidecar~frontend.shop');
    const config = JSON.parse((await page.textContent('#config')) ?? '{}') as { clusters: { name: string }[] };
    assert.ok(config.clusters.some((c) => c.name === 'outbound|8080||catalog.shop.svc.cluster.local'), 'the computed clusters of frontend');
    await shot('proxy-config-offline');
    await axe('proxy config');
    await tab('certs');
    assert.deepEqual((await rowText('#certs tbody tr')).map((r) => `${r[0]} ${r[2]}`), ['spiffe://cluster.local/ns/shop/sa/catalog issued at run time', 'spiffe://cluster.local/ns/shop/sa/default issued at run time', 'spiffe://cluster.local/ns/shop/sa/frontend issued at run time']);
    await shot('certificates-offline');
    await tab('findings');
    await shot('findings-offline');
  });

  test('no console errors in any of it', () => {
    assert.deepEqual(consoleErrors, []);
  });
});
