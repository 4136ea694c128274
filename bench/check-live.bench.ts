// `mesh check` (the plain live run: the post-install catalog) end to end, as a user runs it: the
// built CLI against the test API server holding a healthy mesh installation and 5,000 meshed pods,
// with 20 ms added to every API request. Issue 22's goal: at most 3 s.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../src/cluster/types.ts';
import { injectObject } from '../src/manifests/inject.ts';
import { resolveValues } from '../src/manifests/values.ts';
import { VERSION } from '../src/version.ts';
import type { TestCluster } from '../test/support/kube.ts';
import { median, type Benchmark, type BenchResult } from './harness.ts';

const MESH = fileURLToPath(new URL('../bin/mesh', import.meta.url));
const CRDS = fileURLToPath(new URL('../templates/crds.yaml', import.meta.url));
const NAMESPACES = 50;
const DEPLOYS_PER_NS = 20;
const REPLICAS = Number(process.env.MESH_BENCH_CHECK_REPLICAS ?? 5); // 50 x 20 x 5 = 5,000 pods
const LATENCY_MS = 20;
/** Issue 22's goal (seconds). */
const GOAL_S = 3;
const RUNS = 3;

type Obj = Record<string, unknown>;
/** What a real API server returns on every pod (the writers of its spec and status), about 1 KiB. */
const MANAGED_FIELDS = [
  { manager: 'kube-controller-manager', operation: 'Update', apiVersion: 'v1', time: '2026-01-01T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:generateName': {}, 'f:labels': { '.': {}, 'f:app': {}, 'f:pod-template-hash': {} }, 'f:ownerReferences': { '.': {}, 'k:{"uid":"x"}': {} } }, 'f:spec': { 'f:containers': { 'k:{"name":"main"}': { '.': {}, 'f:image': {}, 'f:name': {}, 'f:ports': {}, 'f:resources': {} } }, 'f:serviceAccountName': {} } } },
  { manager: 'kubelet', operation: 'Update', apiVersion: 'v1', time: '2026-01-01T00:00:05Z', fieldsType: 'FieldsV1', subresource: 'status', fieldsV1: { 'f:status': { 'f:conditions': { 'k:{"type":"Ready"}': { '.': {}, 'f:lastProbeTime': {}, 'f:status': {}, 'f:type': {} } }, 'f:containerStatuses': {}, 'f:hostIP': {}, 'f:phase': {}, 'f:podIP': {}, 'f:podIPs': {}, 'f:startTime': {} } } },
];
const ready = (ip: string) => ({ phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: 'True' }] });
const ipOf = (n: number, d: number, r: number) => `10.${n}.${d}.${r + 10}`;

/**
 * The meshed applications: per namespace (labelled for injection) DEPLOYS_PER_NS apps, each a
 * ServiceAccount, a Deployment whose template the real injector rewrote, its ReplicaSet, REPLICAS
 * running pods with the sidecar, a Service, its EndpointSlice, an HTTPRoute (GAMMA) and an
 * AuthorizationPolicy; one TrafficPolicy per namespace. Returns the objects and the pods' syncz entries.
 */
export function applications(): { objects: Obj[]; proxies: Obj[] } {
  const values = resolveValues();
  const objects: Obj[] = [];
  const proxies: Obj[] = [];
  const notAfter = new Date(Date.now() + 86_400_000).toISOString();
  const notBefore = new Date(Date.now() - 3_600_000).toISOString();
  for (let n = 0; n < NAMESPACES; n++) {
    const ns = `team-${n}`;
    objects.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'mesh.dev/inject': 'enabled' } } });
    for (let d = 0; d < DEPLOYS_PER_NS; d++) {
      const app = `app-${d}`;
      const labels = { app, 'app.kubernetes.io/name': app, 'app.kubernetes.io/part-of': ns };
      const deploy: KubeObject = {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: app, namespace: ns, labels },
        spec: {
          replicas: REPLICAS,
          selector: { matchLabels: { app } },
          template: {
            metadata: { labels },
            spec: {
              serviceAccountName: app,
              containers: [
                {
                  name: 'main',
                  image: `registry.example.com/${ns}/${app}:1.4.2`,
                  ports: [{ name: 'http', containerPort: 8080 }],
                  env: [{ name: 'NEXT', value: `http://app-${(d + 1) % DEPLOYS_PER_NS}.${ns}.svc.cluster.local:8080` }, { name: 'LOG_LEVEL', value: 'info' }],
                  resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
                  readinessProbe: { httpGet: { path: '/ready', port: 8080 }, periodSeconds: 5 },
                },
              ],
            },
          },
        },
      };
      const injected = injectObject(deploy, values, { nativeSidecar: false, namespaceLabels: { 'mesh.dev/inject': 'enabled' } }).object;
      const template = (injected.spec as { template: { metadata: Obj; spec: Obj } }).template;
      const hash = `${(n * 131 + d * 7).toString(16).padStart(6, '0')}7f9c`;
      const rsName = `${app}-${hash}`;
      objects.push({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: app, namespace: ns } });
      objects.push({ ...injected, status: { replicas: REPLICAS, readyReplicas: REPLICAS, availableReplicas: REPLICAS } });
      objects.push({
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: { name: rsName, namespace: ns, labels: { ...labels, 'pod-template-hash': hash }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: app, uid: `uid-${ns}-${app}`, controller: true }] },
        spec: { replicas: REPLICAS, selector: { matchLabels: { app, 'pod-template-hash': hash } }, template },
        status: { replicas: REPLICAS, readyReplicas: REPLICAS },
      });
      const endpoints: Obj[] = [];
      for (let r = 0; r < REPLICAS; r++) {
        const pod = `${rsName}-${r.toString(36).padStart(5, 'x')}`;
        const meta = template.metadata as { labels: Obj; annotations?: Obj };
        objects.push({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { ...meta, name: pod, namespace: ns, labels: { ...meta.labels, 'pod-template-hash': hash }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rsName, uid: `uid-${ns}-${rsName}`, controller: true }], managedFields: MANAGED_FIELDS },
          spec: { ...template.spec, nodeName: `node-${(n * DEPLOYS_PER_NS + d + r) % 40}` },
          status: ready(ipOf(n, d, r)),
        });
        endpoints.push({ addresses: [ipOf(n, d, r)], conditions: { ready: true }, targetRef: { kind: 'Pod', name: pod, namespace: ns } });
        proxies.push({
          id: `sidecar~${ipOf(n, d, r)}~${pod}.${ns}`,
          kind: 'sidecar',
          namespace: ns,
          pod,
          connected: true,
          certificate: { serial: `${n}${d}${r}`, notBefore, notAfter, renewing: false },
          streams: [{ streamId: 1, connectedAt: notBefore, types: { 'type.googleapis.com/envoy.config.cluster.v3.Cluster': { sentVersion: '7', ackedVersion: '7' }, 'type.googleapis.com/envoy.config.listener.v3.Listener': { sentVersion: '7', ackedVersion: '7' } } }],
        });
      }
      objects.push({ apiVersion: 'v1', kind: 'Service', metadata: { name: app, namespace: ns, labels }, spec: { selector: { app }, clusterIP: `10.96.${n}.${d + 10}`, ports: [{ name: 'http', port: 8080, targetPort: 8080 }] } });
      objects.push({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: `${app}-abcde`, namespace: ns, labels: { 'kubernetes.io/service-name': app } }, addressType: 'IPv4', endpoints, ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] });
      objects.push({
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: { name: app, namespace: ns },
        spec: { parentRefs: [{ group: '', kind: 'Service', name: app, port: 8080 }], rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ name: app, port: 8080 }], timeouts: { request: '5s' } }] },
      });
      const caller = `app-${(d + DEPLOYS_PER_NS - 1) % DEPLOYS_PER_NS}`;
      objects.push({ apiVersion: 'mesh.dev/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name: app, namespace: ns }, spec: { selector: { matchLabels: { app } }, action: 'ALLOW', rules: [{ from: [{ source: { principals: [`cluster.local/ns/${ns}/sa/${caller}`] } }] }] } });
    }
    objects.push({ apiVersion: 'mesh.dev/v1alpha1', kind: 'TrafficPolicy', metadata: { name: 'defaults', namespace: ns }, spec: { targetRefs: [{ group: '', kind: 'Service', name: 'app-0' }], timeouts: { connect: '2s' }, outlierDetection: { consecutive5xx: 5, interval: '10s', baseEjectionTime: '30s' } } });
  }
  return { objects, proxies };
}

/** The mesh's own CRDs as install applies them (templates/crds.yaml), labelled with this version. */
function meshCrds(): Obj[] {
  return parseAllDocuments(readFileSync(CRDS, 'utf8'))
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null && o.kind === 'CustomResourceDefinition')
    .map((o) => ({ ...o, metadata: { ...(o.metadata as Obj), labels: { ...((o.metadata as Obj).labels as Obj), 'app.kubernetes.io/version': VERSION } } }));
}

/**
 * The longest chain of requests one after another (each started after the previous one's answer):
 * a lower bound of the run's wall time from request latency alone. Greedy by earliest end.
 */
export function requestChain(records: readonly { startMs?: number; endMs?: number; path: string; query: string }[]): { length: number; paths: string[] } {
  const done = records.filter((r) => r.startMs !== undefined && r.endMs !== undefined).sort((a, b) => a.endMs! - b.endMs!);
  const paths: string[] = [];
  let end = -Infinity;
  for (const r of done) {
    if (r.startMs! < end) continue;
    paths.push(r.path);
    end = r.endMs!;
  }
  return { length: paths.length, paths };
}

/** One `mesh check` run: wall ms, user+sys CPU seconds (from /usr/bin/time), exit code and the -o json report. */
function run(env: NodeJS.ProcessEnv, extra: string[] = []): Promise<{ ms: number; cpu: number; code: number; report: { checks: { id: string; status: string; reason?: string; message: string }[] } }> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', ['-f', 'CPU %U %S', process.execPath, ...extra, MESH, 'check', '-o', 'json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    child.on('exit', (code) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      const m = /CPU ([\d.]+) ([\d.]+)\s*$/.exec(err);
      try {
        resolve({ ms, cpu: m ? Number(m[1]) + Number(m[2]) : NaN, code: code ?? -1, report: JSON.parse(out) });
      } catch {
        reject(new Error(`mesh check exited ${code} without a JSON report: ${err.slice(0, 2000)}`));
      }
    });
  });
}

/**
 * The test API server with the installation and the applications loaded, the real injection
 * webhook behind the mesh-controller Service and the controller's /debug/syncz answering for every
 * proxy, 20 ms added to every request. `stop` closes both servers.
 */
export async function startMeshCluster(): Promise<{ kube: TestCluster; pods: number; loadMs: number; stop: () => Promise<void> }> {
  const { healthy, roots } = await import('../test/check/live-support.ts');
  const { generateRoot } = await import('../src/pki/index.ts');
  const { servingCerts } = await import('../test/support/apiserver/certs.ts');
  const { startApiServer } = await import('../test/support/kube.ts');
  const { gatewayApiCrds } = await import('../test/support/gateway-api.ts');
  const { startWebhook } = await import('../src/controller/webhook.ts');
  roots.ROOT_PEM = (await generateRoot({ trustDomain: 'cluster.local', ttl: '8760h' })).certPem;
  roots.WEBHOOK = await servingCerts();
  const apps = applications();
  // healthy(): the installed control plane (namespace, controller Deployment and pod, webhook
  // Service, EndpointSlice and configuration, root CA, trust bundle, cluster DNS) with one app.
  const base = healthy().filter((o) => o.kind !== 'CustomResourceDefinition');
  const t0 = performance.now();
  // The installation goes through create (CRDs register their kinds); the 20,000-odd application
  // objects go straight into the store.
  const kube = await startApiServer({ seed: [...meshCrds(), ...gatewayApiCrds(), ...base, ...apps.objects.filter((o) => o.kind === 'Namespace')] as Obj[] });
  kube.server.load(apps.objects.filter((o) => o.kind !== 'Namespace'));
  const loadMs = performance.now() - t0;
  const { server: hook, port } = await startWebhook(roots.WEBHOOK, { host: '127.0.0.1', port: 0 }, { values: () => Promise.resolve(resolveValues()), nativeSidecar: () => false, namespaceLabels: () => Promise.resolve(undefined) });
  kube.server.webhookServices.set('mesh-system/mesh-controller', `https://127.0.0.1:${port}`);
  const proxies = [...apps.proxies, { id: 'sidecar~10.0.0.9~web-1.shop', kind: 'sidecar', namespace: 'shop', pod: 'web-1', connected: true, certificate: { notAfter: new Date(Date.now() + 86_400_000).toISOString() }, streams: [{ streamId: 1, types: {} }] }];
  const syncz = JSON.stringify({ generation: 7, ready: true, proxies });
  kube.server.setPodProxy('mesh-system', '*', (req) => (req.path === '/debug/syncz' ? { body: syncz, contentType: 'application/json' } : { status: 404, body: 'not found' }));
  kube.server.requestHistory = 100_000;
  kube.server.latencyMs = LATENCY_MS;
  const pods = apps.objects.filter((o) => o.kind === 'Pod').length + 1;
  return {
    kube,
    pods,
    loadMs,
    stop: async () => {
      hook.close();
      hook.closeAllConnections();
      await kube.stop();
    },
  };
}

export const benchmark: Benchmark = {
  name: 'mesh check (live)',
  async run(): Promise<BenchResult[]> {
    const { kube, pods, loadMs, stop } = await startMeshCluster();
    const env = { ...process.env, HOME: '/nonexistent-home', KUBECONFIG: kube.kubeconfigPath, NO_COLOR: '1' };
    const out: BenchResult[] = [];
    try {
      const runs: Awaited<ReturnType<typeof run>>[] = [];
      let requests = 0;
      let chain = { length: 0, paths: [] as string[] };
      for (let i = 0; i < RUNS; i++) {
        const from = kube.server.requests.length;
        const count = kube.server.requestCount;
        const r = await run(env);
        requests = kube.server.requestCount - count;
        chain = requestChain(kube.server.requests.slice(from));
        const bad = r.report.checks.filter((c) => c.reason === 'timeout' || c.reason === 'error' || c.reason === 'unreachable');
        if (bad.length) throw new Error(`mesh check could not run every check: ${bad.map((c) => `${c.id}: ${c.message}`).join('; ')}`);
        runs.push(r);
      }
      const verdicts = runs[0]!.report.checks.map((c) => c.status);
      const summary = ['pass', 'warn', 'fail', 'skip'].map((s) => `${verdicts.filter((v) => v === s).length} ${s}`).join(', ');
      const ms = median(runs.map((r) => r.ms));
      const cpu = median(runs.map((r) => r.cpu));
      // Pages of one list one after another print once, with their count.
      const steps = chain.paths.reduce<{ path: string; n: number }[]>((acc, p) => (acc.at(-1)?.path === p ? (acc.at(-1)!.n++, acc) : [...acc, { path: p, n: 1 }]), []);
      process.stderr.write(`check-live: ${chain.length} requests one after another: ${steps.map((x) => (x.n > 1 ? `${x.path} x${x.n}` : x.path)).join(' -> ')}\n`);
      out.push({
        name: `mesh check, ${pods} meshed pods, ${LATENCY_MS} ms/request`,
        value: ms / 1000,
        unit: 's',
        target: { max: GOAL_S },
        detail: `median of ${RUNS}; CLI CPU ${cpu.toFixed(2)} s (user+sys); ${requests} API requests, ${chain.length} one after another; exit ${runs[0]!.code} (${summary}); server loaded in ${(loadMs / 1000).toFixed(1)} s`,
      });
    } finally {
      await stop();
    }
    return out;
  },
};
