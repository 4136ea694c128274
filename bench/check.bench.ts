import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { analyze, type SourcedObject } from '../src/analyzers/index.ts';
import { median, ratioResult, type Benchmark, type BenchResult } from './harness.ts';

const MESH = fileURLToPath(new URL('../bin/mesh', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const APPS = 10_000; // x 5 objects = 50,000
const RUNS = 5;
/** Issue 22's goal: `mesh check -f` at most 1.5x the js-yaml parse-and-print floor of the same files. */
const FLOOR_GOAL = 1.5;
/** The floor: read every file of the directory, js-yaml loadAll, dump each document. */
const FLOOR = `import yaml from 'js-yaml';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
const dir = process.argv[1];
let n = 0;
for (const f of readdirSync(dir).sort()) n += yaml.loadAll(readFileSync(join(dir, f), 'utf8')).map((d) => yaml.dump(d)).join('---\\n').length;
process.stdout.write(String(n));`;

/** APPS apps of five objects each, spread over 20 namespaces, with a few deliberate findings. */
export function objects(): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < APPS; i++) {
    const ns = `team-${i % 20}`;
    const app = `app-${i}`;
    out.push(
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: app, namespace: ns } },
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: app, namespace: ns },
        spec: {
          selector: { matchLabels: { app } },
          template: {
            metadata: { labels: { app }, annotations: i % 97 === 0 ? { 'mesh.dev/proxy-cpus': '1' } : {} },
            spec: { serviceAccountName: app, containers: [{ name: 'main', image: 'x:1', env: [{ name: 'NEXT', value: `http://app-${(i + 20) % APPS}.team-${(i + 20) % 20}.svc.cluster.local:8080` }] }] },
          },
        },
      },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: app, namespace: ns }, spec: { selector: { app }, ports: [{ name: i % 50 === 0 ? 'web' : 'http', port: 8080 }] } },
      {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: { name: app, namespace: ns },
        spec: { parentRefs: [{ group: '', kind: 'Service', name: app, port: 8080 }], rules: [{ backendRefs: [{ name: app, port: 8080, weight: 90 }, { name: i % 100 === 0 ? `${app}-v2` : app, port: 8080, weight: 10 }] }] },
      },
      {
        apiVersion: 'mesh.dev/v1alpha1',
        kind: 'AuthorizationPolicy',
        metadata: { name: app, namespace: ns },
        spec: { selector: { matchLabels: { app } }, rules: [{ from: [{ source: { principals: [`cluster.local/ns/team-${((i + APPS - 20) % APPS) % 20}/sa/app-${(i + APPS - 20) % APPS}`] } }] }] },
      },
    );
  }
  return out;
}

export const benchmark: Benchmark = {
  name: 'mesh check',
  async run(): Promise<BenchResult[]> {
    const objs = objects();
    const dir = mkdtempSync(join(tmpdir(), 'mesh-check-bench-'));
    const perFile = objs.length / 10;
    for (let f = 0; f < 10; f++) writeFileSync(join(dir, `part-${f}.yaml`), objs.slice(f * perFile, (f + 1) * perFile).map((o) => stringify(o)).join('---\n'));
    const results: BenchResult[] = [];
    // In process: the analyzers alone (index + every analyzer + suppression + sort).
    const sourced: SourcedObject[] = objs.map((o, i) => ({ object: structuredClone(o) as SourcedObject['object'], location: { file: 'x.yaml', line: i + 1 } }));
    const xs: number[] = [];
    let findings = 0;
    for (let r = 0; r < RUNS; r++) {
      const t0 = performance.now();
      findings = analyze(sourced).findings.length;
      xs.push(performance.now() - t0);
    }
    results.push({ name: `analyze ${objs.length} objects (in process)`, value: median(xs), unit: 'ms', detail: `${findings} findings, median of ${RUNS}` });
    // End to end: node start, read and parse 10 YAML files, analyze, render JSON; against the
    // floor of merely parsing and printing the same files, interleaved.
    const env = { ...process.env, HOME: '/nonexistent-home', KUBECONFIG: '' };
    const e2e: number[] = [];
    const floor: number[] = [];
    for (let i = 0; i <= RUNS; i++) {
      const f = timeAllowFail(['--input-type=module', '-e', FLOOR, dir], env);
      const c = timeAllowFail([MESH, 'check', '-f', dir, '-o', 'json'], env);
      if (i === 0) continue; // warms the file cache
      floor.push(f);
      e2e.push(c);
    }
    results.push(ratioResult(`mesh check -f (${objs.length} objects, end to end) vs js-yaml loadAll+dump`, median(e2e), median(floor), FLOOR_GOAL, `median of ${RUNS} each, interleaved; node start-up, reading and parsing 10 files included`));
    results.push(...(await liveBench()));
    return results;
  },
};

/** Wall time of `node ARGS`; `mesh check` exits 1 on the deliberate findings, which is fine here. */
function timeAllowFail(args: string[], env: NodeJS.ProcessEnv): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env, cwd: ROOT });
  if (r.status !== 0 && r.status !== 1) throw new Error(`node ${args.slice(0, 3).join(' ')} exited ${r.status}: ${r.stderr.toString().slice(0, 500)}`);
  return performance.now() - t0;
}

/**
 * Full live check (post-install catalog) against the test API server with 20 ms added to every
 * request: 200 injected pods in 10 namespaces, checks in parallel with shared, memoised reads.
 */
async function liveBench(): Promise<BenchResult[]> {
  const { startApiServer } = await import('../test/support/kube.ts');
  const { connect } = await import('../src/cluster/index.ts');
  const { makeLiveContext } = await import('../src/checks/context.ts');
  const { postInstallCatalog, runChecks } = await import('../src/checks/index.ts');
  const { VERSION } = await import('../src/version.ts');
  const seed: Record<string, unknown>[] = [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'mesh-system' } }];
  const ready = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] };
  seed.push({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'mesh-controller-1', namespace: 'mesh-system', labels: { 'app.kubernetes.io/name': 'mesh-controller', 'app.kubernetes.io/version': VERSION } }, spec: { containers: [{ name: 'c', image: 'x' }] }, status: ready });
  const proxies: unknown[] = [];
  for (let n = 0; n < 10; n++) {
    const ns = `team-${n}`;
    seed.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'mesh.dev/inject': 'enabled' } } });
    for (let i = 0; i < 20; i++) {
      const app = `app-${i}`;
      seed.push({ apiVersion: 'v1', kind: 'Service', metadata: { name: app, namespace: ns }, spec: { selector: { app }, ports: [{ name: 'http', port: 80 }] } });
      seed.push({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `${app}-0`, namespace: ns, labels: { app, 'mesh.dev/proxy-version': VERSION } }, spec: { containers: [{ name: 'app', image: 'x' }, { name: 'mesh-proxy', image: 'envoy' }] }, status: ready });
      proxies.push({ id: `sidecar~${app}-0.${ns}`, kind: 'sidecar', pod: `${app}-0`, namespace: ns, connected: true, streams: [{ streamId: 1, types: { 'type.googleapis.com/envoy.config.cluster.v3.Cluster': { sentVersion: '1', ackedVersion: '1' } } }] });
    }
  }
  const cluster = await startApiServer({ seed });
  try {
    cluster.server.setPodProxy('mesh-system', '*', () => ({ body: JSON.stringify({ generation: 1, ready: true, proxies }), contentType: 'application/json' }));
    cluster.server.latencyMs = 20;
    const xs: number[] = [];
    let requests = 0;
    for (let r = 0; r < RUNS; r++) {
      const c = await connect({ kubeconfig: cluster.kubeconfigPath });
      const before = cluster.server.requests.length;
      const t0 = performance.now();
      await runChecks(postInstallCatalog(), makeLiveContext(c, { version: VERSION, dnsPodTimeoutMs: 200, pollMs: 50 }), undefined, { timeoutMs: 20_000 });
      xs.push(performance.now() - t0);
      requests = cluster.server.requests.length - before;
    }
    const catalog = postInstallCatalog().length;
    return [{ name: `full live check (${catalog} checks, 200 pods, +20 ms per request)`, value: median(xs), unit: 'ms', detail: `${requests} API requests per run, median of ${RUNS}; includes the DNS lookup pod wait (200 ms)` }];
  } finally {
    await cluster.stop();
  }
}
