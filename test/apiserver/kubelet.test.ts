// The kubelet/controller stand-in: workloads get ready pods and status, Services get endpoints.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { execa } from 'execa';
import { startApiServer, startKubelet, type Kubelet, type TestCluster } from '../support/kube.ts';

const kubectlMissing = !!spawnSync('kubectl', ['version', '--client']).error;
let c: TestCluster;
let kubelet: Kubelet;
before(async () => {
  c = await startApiServer();
  kubelet = startKubelet(c.server, { nodes: ['node-a', 'node-b'], notReadySelector: 'ready=never' });
});
after(async () => {
  kubelet.stop();
  await c.stop();
});

const deploy = (name: string, replicas: number, image = 'app:1', labels: Record<string, string> = {}) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: 'default' },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name, ...labels } }, spec: { containers: [{ name: 'app', image, ports: [{ name: 'http', containerPort: 8080 }] }] } },
  },
});
const get = (group: string, kind: string, name: string, ns: string | undefined = 'default') => c.server.store.get(c.server.resource(group, kind), ns, name) as any;
const pods = (selector: (p: any) => boolean) => c.server.store.list(c.server.resource('', 'Pod'), 'default').filter(selector) as any[];

test('a Deployment gets a ReplicaSet, ready pods with IPs and owner references, and a complete status', { timeout: 20_000 }, async () => {
  c.server.seed([deploy('web', 3)]);
  await kubelet.idle();
  const d = get('apps', 'Deployment', 'web');
  assert.equal(d.status.observedGeneration, 1);
  assert.equal(d.status.readyReplicas, 3);
  assert.equal(d.status.updatedReplicas, 3);
  assert.equal(d.status.availableReplicas, 3);
  assert.deepEqual(d.status.conditions.map((x: any) => `${x.type}=${x.status}/${x.reason}`), ['Available=True/MinimumReplicasAvailable', 'Progressing=True/NewReplicaSetAvailable']);
  const ps = pods((p) => p.metadata.labels.app === 'web');
  assert.equal(ps.length, 3);
  for (const p of ps) {
    assert.match(p.status.podIP, /^10\.244\.\d+\.\d+$/);
    assert.equal(p.status.phase, 'Running');
    assert.ok(p.metadata.labels['pod-template-hash']);
    assert.equal(p.metadata.ownerReferences[0].kind, 'ReplicaSet');
    assert.ok(['node-a', 'node-b'].includes(p.spec.nodeName));
  }
  assert.equal(new Set(ps.map((p) => p.status.podIP)).size, 3, 'distinct IPs');
});

test('a template change rolls out a new ReplicaSet and scales the old one to zero', { timeout: 20_000 }, async () => {
  const before = get('apps', 'Deployment', 'web');
  c.server.seed([deploy('web', 3, 'app:2')]);
  await kubelet.idle();
  const d = get('apps', 'Deployment', 'web');
  assert.equal(d.metadata.generation, before.metadata.generation + 1);
  assert.equal(d.status.observedGeneration, d.metadata.generation);
  const rss = c.server.store.list(c.server.resource('apps', 'ReplicaSet'), 'default') as any[];
  assert.deepEqual(rss.map((r) => r.spec.replicas).sort(), [0, 3]);
  assert.ok(pods((p) => p.metadata.labels.app === 'web').every((p) => p.spec.containers[0].image === 'app:2'));
});

test('pods matching notReadySelector run but never become ready; the Deployment stays unavailable', { timeout: 20_000 }, async () => {
  c.server.seed([deploy('slow', 2, 'app:1', { ready: 'never' })]);
  await kubelet.idle();
  const d = get('apps', 'Deployment', 'slow');
  assert.equal(d.status.readyReplicas, undefined);
  assert.equal(d.status.updatedReplicas, 2);
  assert.equal(d.status.conditions.find((x: any) => x.type === 'Available').status, 'False');
  assert.ok(pods((p) => p.metadata.labels.app === 'slow').every((p) => p.status.conditions.find((x: any) => x.type === 'Ready').status === 'False'));
  kubelet.setReady(() => true);
  await kubelet.idle();
  assert.equal(get('apps', 'Deployment', 'slow').status.readyReplicas, 2);
});

test('a rollout that cannot become ready fails after progressDeadlineSeconds, as kubectl rollout status reports', { timeout: 20_000 }, async () => {
  const d = deploy('stuck', 1, 'app:1', { ready: 'never' });
  (d.spec as any).progressDeadlineSeconds = 1;
  kubelet.setReady((p) => (p.metadata.labels as Record<string, string> | undefined)?.ready !== 'never');
  c.server.seed([d]);
  const progressing = () => get('apps', 'Deployment', 'stuck')?.status?.conditions?.find((x: any) => x.type === 'Progressing');
  await c.server.until(() => progressing()?.reason === 'ProgressDeadlineExceeded', undefined, 'the progress deadline');
  assert.equal(progressing().status, 'False');
  if (!kubectlMissing) {
    const r = await execa('kubectl', ['--kubeconfig', c.kubeconfigPath, 'rollout', 'status', 'deployment/stuck', '--timeout=10s'], { env: { HOME: '/nonexistent', PATH: process.env.PATH ?? '' }, extendEnv: false, reject: false });
    assert.equal(r.exitCode, 1);
    assert.match(r.stderr, /deployment "stuck" exceeded its progress deadline/);
  }
});

test('Services get Endpoints and an EndpointSlice from the selected pods, with named target ports resolved', { timeout: 20_000 }, async () => {
  c.server.seed([{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } }]);
  await kubelet.idle();
  const ep = get('', 'Endpoints', 'web');
  assert.equal(ep.subsets[0].addresses.length, 3);
  assert.deepEqual(ep.subsets[0].ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  const slices = c.server.api.list(c.server.resource('discovery.k8s.io', 'EndpointSlice'), 'default', { labelSelector: 'kubernetes.io/service-name=web' }).items as any[];
  assert.equal(slices.length, 1);
  assert.equal(slices[0].endpoints.length, 3);
  assert.ok(slices[0].endpoints.every((e: any) => e.conditions.ready === true && /^10\.244\./.test(e.addresses[0])));
  c.server.seed([deploy('web', 1, 'app:2')]);
  await kubelet.idle();
  assert.equal(get('', 'Endpoints', 'web').subsets[0].addresses.length, 1, 'endpoints follow scale-down');
});

test('StatefulSets get ordinal pods and DaemonSets one pod per node', { timeout: 20_000 }, async () => {
  c.server.seed([
    { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db', namespace: 'default' }, spec: { replicas: 2, serviceName: 'db', selector: { matchLabels: { app: 'db' } }, template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image: 'pg' }] } } } },
    { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'agent' } }, template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'a', image: 'agent' }] } } } },
  ]);
  await kubelet.idle();
  assert.deepEqual(pods((p) => p.metadata.labels.app === 'db').map((p) => p.metadata.name).sort(), ['db-0', 'db-1']);
  assert.equal(get('apps', 'StatefulSet', 'db').status.readyReplicas, 2);
  assert.deepEqual(pods((p) => p.metadata.labels.app === 'agent').map((p) => p.spec.nodeName).sort(), ['node-a', 'node-b']);
  assert.equal(get('apps', 'DaemonSet', 'agent').status.numberReady, 2);
});

test('native sidecar init containers run and count as ready; other init containers completed', { timeout: 20_000 }, async () => {
  c.server.seed([{ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'sidecar', namespace: 'default' }, spec: { initContainers: [{ name: 'init', image: 'i' }, { name: 'proxy', image: 'p', restartPolicy: 'Always' }], containers: [{ name: 'app', image: 'a' }] } }]);
  await kubelet.idle();
  const p = get('', 'Pod', 'sidecar');
  assert.deepEqual(p.status.initContainerStatuses.map((s: any) => `${s.name}:${Object.keys(s.state)[0]}:${s.ready}`), ['init:terminated:true', 'proxy:running:true']);
});

test('Jobs run their pods to completion and become Complete', { timeout: 20_000 }, async () => {
  c.server.seed([{ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'migrate', namespace: 'default' }, spec: { completions: 2, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'm', image: 'm' }] } } } }]);
  await kubelet.idle();
  const job = get('batch', 'Job', 'migrate');
  assert.equal(job.status.succeeded, 2);
  assert.ok(job.status.conditions.some((x: any) => x.type === 'Complete' && x.status === 'True'));
  const ps = pods((p) => p.metadata.labels?.['job-name'] === 'migrate');
  assert.equal(ps.length, 2);
  assert.ok(ps.every((p) => p.status.phase === 'Succeeded'));
});

test('pods the ignore option selects keep the status a test gave them', { timeout: 20_000 }, async () => {
  kubelet.stop();
  const k2 = startKubelet(c.server, { nodes: ['node-a', 'node-b'], ignore: (p) => p.metadata.name === 'crashy' });
  try {
    c.server.seed([{ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'crashy', namespace: 'default' }, spec: { nodeName: 'node-a', containers: [{ name: 'c', image: 'c' }] }, status: { phase: 'Running', containerStatuses: [{ name: 'c', ready: false, restartCount: 7, state: { waiting: { reason: 'CrashLoopBackOff' } } }] } }]);
    await k2.idle();
    assert.equal(get('', 'Pod', 'crashy').status.containerStatuses[0].state.waiting.reason, 'CrashLoopBackOff');
  } finally {
    k2.stop();
    kubelet = startKubelet(c.server, { nodes: ['node-a', 'node-b'] });
  }
});

test('kubectl rollout status sees the rollout complete', { skip: kubectlMissing ? 'kubectl is not on PATH' : false }, async () => {
  // Async: the server runs in this process, so kubectl must not block the event loop.
  const r = await execa('kubectl', ['--kubeconfig', c.kubeconfigPath, 'rollout', 'status', 'deployment/web', '--timeout=10s'], { env: { HOME: '/nonexistent', PATH: process.env.PATH ?? '' }, extendEnv: false, reject: false });
  assert.equal(r.exitCode, 0, r.stderr);
  assert.match(r.stdout, /deployment "web" successfully rolled out/);
});
