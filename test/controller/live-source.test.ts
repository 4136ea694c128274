// The Kubernetes source against the test API server: informers feed the model, changes arrive,
// and when the API server goes away the last snapshot keeps serving and the watch resyncs.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ControlPlane } from '../../src/controller/controlplane.ts';
import { KubernetesSource } from '../../src/cluster/live-source.ts';
import type { MeshModel } from '../../src/model/types.ts';
import { startApiServer, type TestCluster } from '../support/kube.ts';

let c: TestCluster;
let cp: ControlPlane;
const models: MeshModel[] = [];
let waiter: { pred: (m: MeshModel) => boolean; resolve: (m: MeshModel) => void } | undefined;
const logs: string[] = [];

function nextModel(pred: (m: MeshModel) => boolean, timeoutMs = 60_000): Promise<MeshModel> {
  const have = models.at(-1);
  if (have && pred(have)) return Promise.resolve(have);
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no matching model; logs:\n${logs.join('\n')}`)), timeoutMs);
    waiter = { pred, resolve: (m) => { clearTimeout(t); resolve(m); } };
  });
}

const addresses = (m: MeshModel): string[] => (m.endpoints['shop/catalog'] ?? []).map((e) => e.address);

before(async () => {
  c = await startApiServer({
    seed: [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', annotations: { 'mesh.dev/mtls': 'STRICT' } } },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'catalog', namespace: 'shop' }, spec: { selector: { app: 'catalog' }, ports: [{ name: 'grpc', port: 8080 }] } },
      { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'catalog-1', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'catalog' } }, addressType: 'IPv4', ports: [{ name: 'grpc', port: 9090 }], endpoints: [{ addresses: ['10.1.0.1'] }] },
    ],
  });
  cp = new ControlPlane({
    source: new KubernetesSource({ connect: { kubeconfig: c.kubeconfigPath } }),
    debounceMs: 10,
    log: (l) => logs.push(l),
    onModel: (m) => {
      models.push(m);
      if (waiter?.pred(m)) {
        const w = waiter;
        waiter = undefined;
        w.resolve(m);
      }
    },
  });
  await cp.start({ host: '127.0.0.1', port: 0 });
});

after(async () => {
  await cp.stop();
  await c.stop();
});

test('informers feed the model: services, endpoints, namespace policy', async () => {
  const m = await nextModel((x) => x.services.length === 1);
  assert.equal(m.services[0]!.fqdn, 'catalog.shop.svc.cluster.local');
  assert.ok(m.services[0]!.clusterIP, 'the API server assigned a clusterIP');
  assert.deepEqual(addresses(m), ['10.1.0.1']);
  assert.equal(m.namespaces.find((n) => n.name === 'shop')!.mtls, 'STRICT');
  assert.ok(logs.some((l) => /watch (HTTPRoute|AuthorizationPolicy)/.test(l)), 'a missing CRD is reported and retried, not fatal');
});

test('an EndpointSlice change reaches the model', async () => {
  const r = await c.request('PATCH', '/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices/catalog-1', {
    body: JSON.stringify({ endpoints: [{ addresses: ['10.1.0.2'] }] }), headers: { 'content-type': 'application/merge-patch+json' },
  });
  assert.equal(r.status, 200, r.body);
  await nextModel((m) => addresses(m).join() === '10.1.0.2');
});

test('the API server goes away: the last model stays; it comes back: the watch resyncs', async () => {
  const before = models.length;
  await c.server.stop();
  assert.equal(cp.ready, true);
  assert.deepEqual(addresses(cp.currentModel()!), ['10.1.0.2'], 'still serving the last snapshot');
  assert.equal(models.length, before, 'no empty model while the server is away');
  // Change the data while the server is down, then bring it back: the re-list must pick it up.
  const def = c.server.resource('discovery.k8s.io', 'EndpointSlice');
  const slice = c.server.store.get(def, 'shop', 'catalog-1')!;
  c.server.store.put(def, { ...slice, endpoints: [{ addresses: ['10.1.0.3'] }] } as any);
  await c.server.restart();
  await nextModel((m) => addresses(m).join() === '10.1.0.3', 40_000);
});
