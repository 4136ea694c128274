// The Kubernetes source against the test API server: informers feed the model, changes arrive,
// and when the API server goes away the last snapshot keeps serving and the watch resyncs.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ControlPlane } from '../../src/controller/controlplane.ts';
import { KubernetesSource } from '../../src/cluster/live-source.ts';
import type { MeshModel } from '../../src/model/types.ts';
import { objectKey, type SourceChanges } from '../../src/cluster/source.ts';
import type { KubeObject } from '../../src/cluster/types.ts';
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

test('each delivery after an informer event says its change, true to the set: the previous set with it applied', async () => {
  const deliveries: { objects: KubeObject[]; changes?: SourceChanges }[] = [];
  let wake: (() => void) | undefined;
  const source = new KubernetesSource({ connect: { kubeconfig: c.kubeconfigPath } });
  const w = await source.watch((objects, changes) => {
    deliveries.push({ objects, ...(changes ? { changes } : {}) });
    wake?.();
  }, () => undefined);
  const until = async (pred: () => boolean): Promise<void> => {
    while (!pred()) await new Promise<void>((r) => (wake = r));
  };
  try {
    assert.equal(deliveries[0]!.changes, undefined, 'the first delivery is the whole set');
    const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'orders', namespace: 'shop' }, spec: { ports: [{ port: 80 }] } };
    assert.equal((await c.request('POST', '/api/v1/namespaces/shop/services', { body: JSON.stringify(svc) })).status, 201);
    await c.request('PATCH', '/api/v1/namespaces/shop/services/orders', { body: JSON.stringify({ metadata: { labels: { v: '2' } } }), headers: { 'content-type': 'application/merge-patch+json' } });
    await c.request('DELETE', '/api/v1/namespaces/shop/services/orders');
    await until(() => deliveries.some((d) => d.changes?.deleted.some((o) => o.metadata.name === 'orders')));
  } finally {
    await w.stop();
  }
  const keyed = (os: readonly KubeObject[]): Map<string, KubeObject> => new Map(os.map((o) => [objectKey(o), o]));
  for (let i = 1; i < deliveries.length; i++) {
    const { objects, changes } = deliveries[i]!;
    assert.ok(changes, `delivery ${i} says what changed`);
    const expected = keyed(deliveries[i - 1]!.objects);
    for (const o of changes.deleted) expected.delete(objectKey(o));
    for (const o of changes.set) expected.set(objectKey(o), o);
    assert.deepEqual(keyed(objects), expected, `delivery ${i}`);
  }
  const kinds = deliveries.slice(1).map((d) => (d.changes!.set.length ? `set ${d.changes!.set[0]!.kind}/${d.changes!.set[0]!.metadata.labels?.v ?? ''}` : `deleted ${d.changes!.deleted[0]!.kind}`));
  assert.deepEqual(kinds.filter((k) => k.includes('Service')), ['set Service/', 'set Service/2', 'deleted Service']);
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
