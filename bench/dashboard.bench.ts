// `mesh dashboard` with a 500-service mesh: how long Debian's Chromium takes to show the graph
// (navigation to drawn graph), and what the server costs (CPU per second, RSS) while 5 pages listen
// to live updates. The mesh is 500 Services, each selecting one Deployment with one meshed pod
// whose proxy calls the next two Services (1,000 traffic edges, 500 selects edges); the proxies'
// Envoy stats are served through a Cluster's pod proxy, read the way `mesh stat` reads them.
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { MemorySource } from '../src/cluster/source.ts';
import type { KubeObject, ProxyResponse, ProxyTarget } from '../src/cluster/types.ts';
import { DashboardHub } from '../src/dashboard/hub.ts';
import { startDashboardServer } from '../src/dashboard/server.ts';
import { fakeCluster } from '../test/support/fake-cluster.ts';
import { envoyText } from '../test/stat/support/envoy.ts';
import { buildBundle, CHROMIUM } from '../test/dashboard/support.ts';
import { median, type Benchmark, type BenchResult } from './harness.ts';

// Callbacks passed to page.evaluate run in the browser; this file is compiled without the DOM library.
declare const document: any;

const SERVICES = 500;
const NAMESPACES = 10;
const PAGES = 5;
const REFRESH_MS = 2000;
const MEASURE_MS = 10_000;
const RENDER_TARGET_MS = 2000;

export function mesh(): KubeObject[] {
  const out: KubeObject[] = [];
  for (let n = 0; n < NAMESPACES; n++) out.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `ns${n}` } });
  for (let i = 0; i < SERVICES; i++) {
    const ns = `ns${i % NAMESPACES}`;
    const app = `svc${i}`;
    out.push({ apiVersion: 'v1', kind: 'Service', metadata: { name: app, namespace: ns }, spec: { selector: { app }, ports: [{ name: 'http', port: 8080, targetPort: 8080 }] } });
    out.push({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: app, namespace: ns }, spec: { selector: { matchLabels: { app } }, template: { metadata: { labels: { app } }, spec: { containers: [{ name: app, image: 'x' }] } } } });
    out.push({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `${app}-0`, namespace: ns, labels: { app, 'mesh.dev/proxy-version': '0.1.0' } }, spec: { containers: [{ name: app, image: 'x', ports: [{ containerPort: 8080 }] }, { name: 'mesh-proxy', image: 'envoy' }] }, status: { phase: 'Running' } });
  }
  return out;
}

/** Stats of pod svcI-0 at its n-th scrape: it answers 10 requests a scrape and sends 5 to each of the next two Services. */
function stats(pod: string, n: number): string {
  const i = Number(/^svc(\d+)-0$/.exec(pod)?.[1] ?? 0);
  const next = (k: number) => { const j = (i + k) % SERVICES; return `outbound|8080||svc${j}.ns${j % NAMESPACES}.svc.cluster.local`; };
  const side = (requests: number) => ({ requests, failures: Math.floor(requests / 50), latencies: Array(Math.min(requests, 50)).fill(12), cxActive: 1, cxTotal: 1 + n, tls: 1 + n });
  return envoyText({ inbound: { 8080: side(10 * n) }, outbound: { [next(1)]: side(5 * n), [next(2)]: side(5 * n) }, listener: { cxActive: 1, cxTotal: 1 + n, tls: 1 + n } });
}

export const benchmark: Benchmark = {
  name: 'dashboard',
  async run(): Promise<BenchResult[]> {
    if (!existsSync(CHROMIUM)) return [{ name: `skipped: ${CHROMIUM} is not installed`, value: 0, unit: '' }];
    const { chromium } = await import('playwright-core');
    const { dir } = await buildBundle('assets-bench');
    const scrapes = new Map<string, number>();
    const cluster = fakeCluster({
      contextName: 'bench',
      proxyGet: async (t: ProxyTarget): Promise<ProxyResponse> => {
        const n = scrapes.get(t.pod) ?? 0;
        scrapes.set(t.pod, n + 1);
        return { status: 200, body: stats(t.pod, n) };
      },
    });
    const source = new MemorySource(mesh());
    // Page loads are timed against a hub with metrics read (two scrapes) and no refresh during the load.
    const still = new DashboardHub({ mode: 'live', source, cluster, metrics: { kind: 'pods', concurrency: 16 }, actions: false, refreshMs: 3_600_000 });
    await still.start();
    await still.refresh();
    await still.refresh();
    const stillServer = await startDashboardServer({ hub: still, port: 0, assetsDir: dir });
    const hub = new DashboardHub({ mode: 'live', source, cluster, metrics: { kind: 'pods', concurrency: 16 }, actions: false, refreshMs: REFRESH_MS });
    await hub.start();
    const server = await startDashboardServer({ hub, port: 0, assetsDir: dir });
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--headless=new', '--disable-gpu'] });
    try {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      // Warm up once (the browser's cache of the bundle), then time fresh page loads with traffic edges.
      const warm = await context.newPage();
      await warm.goto(stillServer.url);
      await warm.waitForFunction(() => Number(document.getElementById('graph')?.dataset.edges ?? 0) >= 1500, undefined, { timeout: 30_000 });
      await warm.close();
      const renders: number[] = [];
      const graphMs: number[] = [];
      let nodes = 0;
      let edges = 0;
      const taskMs: number[] = [];
      const wallTaskMs: number[] = [];
      for (let i = 0; i < 3; i++) {
        const page = await context.newPage();
        // The renderer's main-thread task time (CPU spent parsing, scripting, layout and paint) is
        // what the page costs, apart from how busy the machine is; wall time is reported beside it.
        const cdp = await context.newCDPSession(page);
        await cdp.send('Performance.enable');
        await page.goto(stillServer.url);
        await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
        // The page's own clock: navigation start to the graph drawn and the tables filled.
        renders.push(Number(/ready (\d+)/.exec((await page.getAttribute('body', 'data-timings')) ?? '')?.[1]));
        const { metrics } = await cdp.send('Performance.getMetrics');
        const metric = (name: string) => (metrics.find((m) => m.name === name)?.value ?? NaN) * 1000;
        taskMs.push(metric('ThreadTime'));
        wallTaskMs.push(metric('TaskDuration'));
        nodes = Number(await page.getAttribute('#graph', 'data-nodes'));
        edges = Number(await page.getAttribute('#graph', 'data-edges'));
        graphMs.push(Number(await page.getAttribute('#graph', 'data-first-render-ms')));
        await page.close();
      }
      const dataBytes = (await (await fetch(`${server.origin}/api/data`, { headers: { authorization: `Bearer ${new URL(server.url).searchParams.get('token')}` } })).text()).length;
      // The server's cost with 5 pages listening: CPU of this process (the server, hub and scrapes; the browser is another process).
      const pages = [];
      for (let i = 0; i < PAGES; i++) {
        const p = await context.newPage();
        await p.goto(server.url);
        await p.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
        pages.push(p);
      }
      const cpu0 = process.cpuUsage();
      const t0 = Date.now();
      const updates0 = await Promise.all(pages.map((p) => p.evaluate(() => Number(document.body.dataset.updates ?? 0))));
      await new Promise((r) => setTimeout(r, MEASURE_MS));
      const cpu = process.cpuUsage(cpu0);
      const seconds = (Date.now() - t0) / 1000;
      const updates = (await Promise.all(pages.map((p) => p.evaluate(() => Number(document.body.dataset.updates ?? 0))))).map((u, i) => u - updates0[i]!);
      const rssMiB = process.memoryUsage().rss / 1024 / 1024;
      return [
        { name: `${SERVICES}-service graph shown (${nodes} nodes, ${edges} edges): navigation to drawn`, value: median(renders), unit: 'ms', target: { max: RENDER_TARGET_MS }, pass: median(renders) <= RENDER_TARGET_MS, detail: `median of ${renders.length}: ${renders.join(', ')} ms (the page's clock); load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores` },
        { name: 'the same, CPU of the page\'s main thread', value: median(taskMs), unit: 'ms', detail: `ThreadTime ${taskMs.map((x) => x.toFixed(0)).join(', ')} ms; its tasks' wall time ${wallTaskMs.map((x) => x.toFixed(0)).join(', ')} ms` },
        { name: 'of which graph build and layout (cytoscape, in the page)', value: median(graphMs), unit: 'ms', detail: graphMs.join(', ') + ' ms' },
        { name: `data API response, ${SERVICES} services`, value: dataBytes / 1024, unit: 'KiB' },
        { name: `server CPU with ${PAGES} pages listening (refresh ${REFRESH_MS / 1000}s, ${SERVICES} pods scraped)`, value: ((cpu.user + cpu.system) / 1e6 / seconds) * 100, unit: '% of a core', detail: `${updates.join('/')} updates per page in ${seconds.toFixed(1)} s` },
        { name: 'server RSS (bench process: server, hub, fake cluster)', value: rssMiB, unit: 'MiB' },
      ];
    } finally {
      await browser.close();
      await Promise.all([server.close(), stillServer.close()]);
      await Promise.all([hub.stop(), still.stop()]);
    }
  },
};
