// The snapshot builder on its own (no gRPC, no timers): objects in, per-proxy snapshots out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../src/cluster/types.ts';
import { SnapshotBuilder, type SnapshotSink } from '../../src/controller/snapshots.ts';
import { SnapshotCache } from '../../src/xds/cache.ts';
import { TYPE } from '../../src/xds/protos.ts';
import type { Snapshot } from '../../src/xds/snapshot.ts';
import type { NodeInfo } from '../../src/xds/syncz.ts';

const svc = (ns: string, name: string): KubeObject => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns },
  spec: { clusterIP: '10.96.0.1', selector: { app: name }, ports: [{ name: 'grpc', port: 8080, targetPort: 9090 }] },
});
const slice = (ns: string, service: string, address: string): KubeObject => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
  metadata: { name: `${service}-1`, namespace: ns, labels: { 'kubernetes.io/service-name': service } },
  addressType: 'IPv4', ports: [{ name: 'grpc', port: 9090 }], endpoints: [{ addresses: [address], conditions: { ready: true } }],
});

function setup() {
  const cache = new SnapshotCache();
  const refused: string[] = [];
  const sink: SnapshotSink = { set: (id, s) => cache.set(id, s), refused: (id, m) => refused.push(`${id}: ${m}`), current: (id) => cache.get(id) };
  const builder = new SnapshotBuilder({ memo: cache.memo });
  const nodes = new Map<string, NodeInfo>([
    ['a', { id: 'a', kind: 'grpc', namespace: 'shop' }],
    ['b', { id: 'b', kind: 'grpc', namespace: 'shop' }],
    ['s', { id: 's', kind: 'sidecar', namespace: 'shop', pod: 'web-1' }],
  ]);
  return { cache, sink, builder, nodes, refused };
}

const eds = (s: Snapshot | undefined): string[] => [...(s?.types[TYPE.endpoint].resources.keys() ?? [])];

test('a rebuild gives every proxy a snapshot; proxies of one class share one object', () => {
  const { cache, sink, builder, nodes, refused } = setup();
  builder.deliver([svc('shop', 'catalog'), slice('shop', 'catalog', '10.1.0.1')]);
  const r = builder.rebuild(nodes, 1, sink);
  assert.equal(r.ok, true);
  assert.equal(r.generation, 1);
  assert.deepEqual(refused, []);
  assert.ok(cache.get('a'));
  assert.equal(cache.get('a'), cache.get('b'), 'two gRPC clients of one namespace share their snapshot');
  assert.notEqual(cache.get('a'), cache.get('s'));
  assert.ok(eds(cache.get('a')).some((n) => n.includes('catalog')));
});

test('a delivery that only moves endpoints takes the incremental path: only EDS changes, other types keep their objects', () => {
  const { cache, sink, builder, nodes } = setup();
  builder.deliver([svc('shop', 'catalog'), slice('shop', 'catalog', '10.1.0.1')]);
  builder.rebuild(nodes, 1, sink);
  const before = cache.get('a')!;
  const change = builder.deliver([svc('shop', 'catalog'), slice('shop', 'catalog', '10.1.0.2')]);
  assert.deepEqual(change, { structural: false, endpoints: true, changed: true });
  const r = builder.updateEndpoints(nodes, 2, sink);
  assert.equal(r.kind, 'updated');
  const after = cache.get('a')!;
  assert.notEqual(after, before);
  assert.notEqual(after.types[TYPE.endpoint].version, before.types[TYPE.endpoint].version);
  for (const t of [TYPE.cluster, TYPE.listener, TYPE.route]) assert.equal(after.types[t], before.types[t], `${t} is the same object`);
  assert.equal(after.changedAt, 2);
});

test('a new Service is structural; an unchanged delivery changes nothing', () => {
  const { builder } = setup();
  builder.deliver([svc('shop', 'catalog')]);
  assert.deepEqual(builder.deliver([svc('shop', 'catalog')]), { structural: false, endpoints: false, changed: false });
  assert.deepEqual(builder.deliver([svc('shop', 'catalog'), svc('shop', 'cart')]), { structural: true, endpoints: false, changed: true });
});

test('before any model there is no snapshot for a node', () => {
  const { builder } = setup();
  assert.equal(builder.snapshotFor({ id: 'x', kind: 'grpc', namespace: 'shop' }, 0), undefined);
});

test('an endpoint change visits only the proxies whose scope holds the service: others, and proxies gone, get nothing', () => {
  const cache = new SnapshotCache();
  const visited: string[] = [];
  const sink: SnapshotSink = { set: (id, s) => { visited.push(id); cache.set(id, s); }, refused: (id, m) => assert.fail(`${id}: ${m}`), current: (id) => cache.get(id) };
  const builder = new SnapshotBuilder({ memo: cache.memo });
  const scoped = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, annotations: { 'mesh.dev/reachable-namespaces': name } } });
  const objects = (address: string): KubeObject[] => [scoped('shop'), scoped('blog'), svc('shop', 'catalog'), slice('shop', 'catalog', address), svc('blog', 'posts'), slice('blog', 'posts', '10.2.0.1')];
  const nodes = new Map<string, NodeInfo>([
    ['a', { id: 'a', kind: 'grpc', namespace: 'shop' }],
    ['b', { id: 'b', kind: 'grpc', namespace: 'blog' }],
    ['s', { id: 's', kind: 'sidecar', namespace: 'shop', pod: 'web-1' }],
  ]);
  builder.deliver(objects('10.1.0.1'));
  builder.rebuild(nodes, 1, sink);
  // A proxy that connects after the build is indexed too (the control plane passes its key).
  const late: NodeInfo = { id: 'c', kind: 'grpc', namespace: 'shop' };
  nodes.set('c', late);
  const r = builder.snapshotFor(late, 1, sink, undefined, 'c');
  assert.ok(r && 'snapshot' in r);
  sink.set('c', r.snapshot);
  const blog = cache.get('b');
  nodes.delete('a');
  visited.length = 0;
  builder.deliver(objects('10.1.0.2'));
  assert.equal(builder.updateEndpoints(nodes, 2, sink).kind, 'updated');
  assert.deepEqual(visited.sort(), ['c', 's'], 'the shop proxies still connected, not blog, not the one gone');
  assert.equal(cache.get('b'), blog);
  assert.ok(JSON.stringify(cache.get('c')!.types[TYPE.endpoint].resources.get('outbound|8080||catalog.shop.svc.cluster.local')?.msg).includes('10.1.0.2'));
});
