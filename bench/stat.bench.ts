// `mesh stat deploy -A` over 2,000 meshed pods, each pod proxy request delayed 20 ms by the test API
// server: measures how the bounded parallel scrape (default 64 in flight) hides that latency.
// Issue 22's goal: at most 3 s, the 1 s between the two scrapes included. The fake sidecars answer
// the way Envoy's admin does (test/support/envoy-stats.ts): mesh's `filter=` cuts each page to the
// stats it reads, so the client reads what a real sidecar would send it.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startApiServer } from '../test/support/kube.ts';
import { envoyPage } from '../test/stat/support/envoy.ts';
import type { EnvoyStat } from '../test/support/envoy-stats.ts';
import { DEFAULT_CONCURRENCY } from '../src/metrics/scrape.ts';
import { median, type Benchmark, type BenchResult } from './harness.ts';

const MESH = fileURLToPath(new URL('../bin/mesh', import.meta.url));
const PODS = Number(process.env.MESH_BENCH_STAT_PODS ?? 2000);
/** Issue 22's goal (seconds), for the default concurrency with API latency. */
const GOAL_S = 3;
const NAMESPACES = 5; // x 10 deployments, PODS / 50 pods each
const DEPLOYS_PER_NS = 10;
const LATENCY_MS = 20;
const SAMPLE = '1s';
const RUNS = 3;

function objects(): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const perDeploy = PODS / NAMESPACES / DEPLOYS_PER_NS;
  for (let n = 0; n < NAMESPACES; n++) {
    const ns = `ns${n}`;
    out.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    for (let d = 0; d < DEPLOYS_PER_NS; d++) {
      const app = `app${d}`;
      out.push({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: app, namespace: ns }, spec: { selector: { matchLabels: { app } }, template: { metadata: { labels: { app } }, spec: { containers: [{ name: app, image: 'x' }] } } } });
      for (let p = 0; p < perDeploy; p++) {
        out.push({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `${app}-${p}`, namespace: ns, labels: { app, 'mesh.dev/proxy-version': '0.1.0' } }, spec: { containers: [{ name: app, image: 'x' }, { name: 'mesh-proxy', image: 'envoy' }] }, status: { phase: 'Running' } });
      }
    }
  }
  return out;
}

function run(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, [MESH, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c) => (err += c));
    child.on('exit', (code) => (code === 0 ? resolve(Number(process.hrtime.bigint() - t0) / 1e6) : reject(new Error(`mesh ${args.join(' ')} exited ${code}: ${err}`))));
  });
}

export const benchmark: Benchmark = {
  name: 'stat',
  async run(): Promise<BenchResult[]> {
    const kube = await startApiServer({ seed: objects() });
    // A proxy with 20 outbound clusters and 1,000 other stats (~100 KB), like a small real sidecar.
    const outbound = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`outbound|8080||svc${i}.ns0.svc.cluster.local`, { requests: 1000 + i, failures: i, latencies: [1, 2, 5, 9, 30], cxActive: 1, cxTotal: 2, tls: 2 }]));
    // Real sidecars print a thousand or more stats mesh never reads; its filter must leave them out.
    const noise: EnvoyStat[] = Array.from({ length: 1000 }, (_, i) => ({ name: `cluster.outbound|8080||svc${i % 20}.ns0.svc.cluster.local.internal_stat_${i}`, type: 'counter', value: i }));
    let pageBytes = 0;
    const proxy = (n: number) => ({ inbound: { 8080: { requests: 100 + n, latencies: [1, 3, 7, 12, 40] } }, outbound, listener: { cxActive: 2, cxTotal: 10, tls: 10 }, extra: noise });
    const wholeBytes = envoyPage(proxy(0)).body.length;
    // Each pod's counters grow between its scrapes; pods share their pages (rendering the same page
    // for every request was the fake's cost, not a sidecar's).
    const perPod = new Map<string, number>();
    const pages = new Map<string, { status: number; body: string }>();
    kube.server.setPodProxy('*', '*', (req) => {
      const k = `${req.namespace}/${req.pod}`;
      const n = perPod.get(k) ?? 0;
      perPod.set(k, n + 1);
      let page = pages.get(`${n} ${req.query}`);
      if (!page) pages.set(`${n} ${req.query}`, (page = envoyPage(proxy(n), req.query)));
      pageBytes = page.body.length;
      return page;
    });
    const env = { ...process.env, HOME: '/nonexistent-home', KUBECONFIG: kube.kubeconfigPath, NO_COLOR: '1' };
    const out: BenchResult[] = [];
    try {
      for (const [latency, concurrency] of [[LATENCY_MS, DEFAULT_CONCURRENCY], [LATENCY_MS, 16], [0, DEFAULT_CONCURRENCY]] as const) {
        kube.server.latencyMs = latency;
        const xs: number[] = [];
        for (let i = 0; i < RUNS; i++) xs.push(await run(['stat', 'deploy', '-A', '--sample-interval', SAMPLE, ...(concurrency === DEFAULT_CONCURRENCY ? [] : ['--concurrency', String(concurrency)])], env));
        const ms = median(xs);
        const goal = latency === LATENCY_MS && concurrency === DEFAULT_CONCURRENCY ? { target: { max: GOAL_S } } : {};
        out.push({ name: `mesh stat deploy -A, ${PODS} pods, ${latency} ms/request, --concurrency ${concurrency}${concurrency === DEFAULT_CONCURRENCY ? ' (default)' : ''}`, value: ms / 1000, unit: 's', detail: `median of ${RUNS}; includes the ${SAMPLE} between each pod's two scrapes; ${PODS * 2} pod proxy GETs of ${(pageBytes / 1024).toFixed(0)} KiB (the whole page: ${(wholeBytes / 1024).toFixed(0)} KiB)`, ...goal });
      }
    } finally {
      await kube.stop();
    }
    return out;
  },
};
