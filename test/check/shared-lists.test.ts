// A live `mesh check` round lists each kind once and filters the narrower lists checks ask for
// from it (src/checks/context.ts). These tests prove it changes no verdict: the same catalog on
// generated clusters, once with a request per list (as before) and once with the shared lists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from '../../src/cluster/index.ts';
import { makeLiveContext } from '../../src/checks/context.ts';
import { postInstallCatalog, runChecks } from '../../src/checks/index.ts';
import { parseLabelSelector } from '../../src/checks/k8s.ts';
import { labelSelectorMatches } from '../../src/util/labels.ts';
import type { Finding } from '../../src/analyzers/types.ts';
import type { CheckResult } from '../../src/checks/types.ts';
import { VERSION } from '../../src/version.ts';
import { labelSelector } from '../support/apiserver/selectors.ts';
import { startApiServer, type TestCluster } from '../support/kube.ts';
import { healthy, ready, SYNCED, useRoots, type Obj } from './live-support.ts';
import { seededRandom } from '../support/random.ts';

useRoots();


test('parseLabelSelector reads the equality-based forms exactly as the API server matches them, and leaves set-based ones to the server', () => {
  const rnd = seededRandom(7);
  const keys = ['app', 'mesh.dev/proxy-version', 'tier', 'app.kubernetes.io/name'];
  const values = ['a', 'b', '0.1.0', ''];
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  for (let i = 0; i < 500; i++) {
    const terms = Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => {
      const k = pick(keys);
      return pick([k, `!${k}`, `${k}=${pick(values)}`, `${k}==${pick(values)}`, `${k}!=${pick(values)}`, ` ${k} = ${pick(values)} `]);
    });
    const text = terms.join(',');
    const sel = parseLabelSelector(text);
    assert.ok(sel, text);
    const server = labelSelector(text);
    for (let j = 0; j < 10; j++) {
      const labels: Record<string, string> = {};
      for (const k of keys) if (rnd() < 0.6) labels[k] = pick(values);
      assert.equal(labelSelectorMatches(sel, labels), server({ metadata: { labels } }), `${text} on ${JSON.stringify(labels)}`);
    }
  }
  assert.equal(parseLabelSelector('app in (a,b)'), undefined);
  assert.equal(parseLabelSelector('app notin (a)'), undefined);
  assert.equal(parseLabelSelector('count>2'), undefined);
});

/** healthy() plus generated namespaces, workloads and pods: meshed or not, running or not, current or old proxies, a second controller pod. */
function generated(seed: number): Obj[] {
  const rnd = seededRandom(seed);
  const out = healthy();
  if (rnd() < 0.5) out.push({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'mesh-controller-2', namespace: 'mesh-system', labels: { 'app.kubernetes.io/name': 'mesh-controller', 'app.kubernetes.io/version': rnd() < 0.5 ? VERSION : '0.0.9' } }, spec: { containers: [{ name: 'controller', image: 'mesh' }] }, status: rnd() < 0.5 ? ready : { phase: 'Pending' } });
  for (let n = 0; n < 4; n++) {
    const ns = `gen-${n}`;
    const injected = rnd() < 0.7;
    const labels: Obj = injected ? { 'mesh.dev/inject': 'enabled' } : {};
    if (rnd() < 0.2) labels['pod-security.kubernetes.io/enforce'] = 'baseline';
    out.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels } });
    for (let a = 0; a < 3; a++) {
      const app = `app-${a}`;
      out.push({ apiVersion: 'v1', kind: 'Service', metadata: { name: app, namespace: ns }, spec: { selector: { app }, ports: [{ name: rnd() < 0.8 ? 'http' : 'web', port: 80 }], ...(rnd() < 0.2 ? { clusterIP: 'None' } : {}) } });
      out.push({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: app, namespace: ns }, spec: { selector: { matchLabels: { app } }, template: { metadata: { labels: { app } }, spec: { containers: [{ name: 'main', image: 'x' }] } } } });
      for (let p = 0; p < 3; p++) {
        const meshed = rnd() < 0.7;
        const podLabels: Obj = { app, ...(meshed ? { 'mesh.dev/proxy-version': rnd() < 0.8 ? VERSION : '0.0.9' } : {}) };
        const containers = [{ name: 'main', image: 'x' }, ...(meshed ? [{ name: 'mesh-proxy', image: 'envoy' }] : [])];
        out.push({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `${app}-${p}`, namespace: ns, labels: podLabels }, spec: { containers }, status: rnd() < 0.85 ? ready : { phase: 'Pending' } });
      }
    }
  }
  return out;
}

/** Run the post-install catalog as `mesh check` does, with or without the shared lists; results without their timings. */
async function round(kube: TestCluster, shared: boolean, kubeconfig = kube.kubeconfigPath): Promise<{ results: (Omit<CheckResult, 'durationMs'> & { findings?: Finding[] })[]; podLists: string[] }> {
  const catalog = postInstallCatalog();
  const cluster = await connect({ kubeconfig, timeoutMs: 5000 });
  const ctx = makeLiveContext(cluster, { version: VERSION, dnsPodTimeoutMs: 0, pollMs: 10, webhookSlowMs: 60_000, shared: shared ? catalog.flatMap((c) => c.lists ?? []) : [] });
  const from = kube.server.requests.length;
  ctx.prefetch();
  const ran = await runChecks(catalog, ctx, undefined, { timeoutMs: 10_000 });
  const podLists = kube.server.requests.slice(from).filter((r) => r.method === 'GET' && r.resource === 'pods' && !r.name).map((r) => `${r.namespace ?? '*'} ${new URLSearchParams(r.query).get('labelSelector') ?? ''}`.trim());
  // The dry-run pod's latency and random name are what differ from run to run.
  return { results: ran.map(({ result: { durationMs: _d, ...r }, outcome }) => ({ ...r, message: r.message.replace(/\d+ms/g, 'Nms').replace(/mesh-check-webhook-[0-9a-f]+/g, 'mesh-check-webhook-X'), findings: outcome.findings })), podLists };
}

test('live check: the shared lists give the same results as a request per list, on generated clusters, and list Pods once', { timeout: 60_000 }, async () => {
  for (const seed of [1, 2, 3]) {
    const kube = await startApiServer({ seed: generated(seed) });
    try {
      const syncz = JSON.stringify(SYNCED());
      kube.server.setPodProxy('mesh-system', '*', (req) => (req.path === '/debug/syncz' ? { body: syncz, contentType: 'application/json' } : { status: 404, body: 'not found' }));
      const apart = await round(kube, false);
      const shared = await round(kube, true);
      assert.deepEqual(shared.results, apart.results, `seed ${seed}`);
      assert.ok(apart.podLists.length > 3, `seed ${seed}: before, Pods were listed per namespace and by label: ${apart.podLists.join('; ')}`);
      // One list of every Pod, and the controller's pods by their label in mesh-system.
      assert.deepEqual(shared.podLists.sort(), ['*', 'mesh-system app.kubernetes.io/name=mesh-controller'], `seed ${seed}`);

      if (seed !== 1) continue;
      // A reader who may list Pods only in some namespaces: the narrower lists fall back to their own requests.
      const ns = ['mesh-system', 'shop', 'gen-0', 'gen-1', 'gen-2', 'gen-3'];
      const token = kube.server.addUser('ns-reader', [
        { verbs: ['get', 'list'], apiGroups: ['*'], resources: ['namespaces', 'services', 'serviceaccounts', 'endpointslices', 'deployments', 'statefulsets', 'daemonsets', 'httproutes', 'authorizationpolicies', 'trafficpolicies', 'customresourcedefinitions', 'mutatingwebhookconfigurations', 'secrets', 'configmaps'] },
        { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods', 'pods/proxy'], namespaces: ns },
      ]);
      const kc = kube.kubeconfigFor(token, 'ns-reader');
      const narrowApart = await round(kube, false, kc);
      const narrowShared = await round(kube, true, kc);
      assert.deepEqual(narrowShared.results, narrowApart.results, `seed ${seed}, namespace-scoped reader`);
      assert.equal(narrowShared.results.find((r) => r.id === 'data-plane.injection')?.reason, undefined, 'the per-namespace pod lists were still read');
    } finally {
      await kube.stop();
    }
  }
});
