// The node contract of a gateway proxy (PROXY_KIND=gateway, NAMESPACE, GATEWAY_NAME, POD_NAME) and
// the snapshot builder: every replica of one Gateway shares one snapshot with its listeners.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../src/cluster/types.ts';
import { SnapshotBuilder, type SnapshotSink } from '../../src/controller/snapshots.ts';
import { parseNode } from '../../src/xds/ads.ts';
import { SnapshotCache } from '../../src/xds/cache.ts';
import { TYPE } from '../../src/xds/protos.ts';
import type { NodeInfo } from '../../src/xds/syncz.ts';

const objects: KubeObject[] = [
  { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: 'mesh' }, spec: { controllerName: 'mesh.dev/gateway-controller' } },
  { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'edge', namespace: 'ingress' }, spec: { gatewayClassName: 'mesh', listeners: [{ name: 'http', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } }] } },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { clusterIP: '10.96.0.9', ports: [{ name: 'http', port: 80 }] } },
  { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'web', namespace: 'shop' }, spec: { parentRefs: [{ name: 'edge', namespace: 'ingress' }], rules: [{ backendRefs: [{ name: 'web', port: 80 }] }] } },
];

function node(id: string, gateway: string, pod: string): NodeInfo {
  const s = (v: string) => ({ stringValue: v });
  return parseNode({ id, metadata: { fields: { PROXY_KIND: s('gateway'), NAMESPACE: s('ingress'), GATEWAY_NAME: s(gateway), POD_NAME: s(pod) } } });
}

test('parseNode reads a gateway node: kind, namespace, Gateway name and pod', () => {
  assert.deepEqual(node('edge-1', 'edge', 'edge-mesh-abc'), { id: 'edge-1', kind: 'gateway', namespace: 'ingress', pod: 'edge-mesh-abc', gateway: 'edge' });
});

test('replicas of one Gateway share one snapshot with its listener, route and mTLS cluster; another Gateway name gets none', () => {
  const cache = new SnapshotCache();
  const sink: SnapshotSink = { set: (id, s) => cache.set(id, s), refused: (id, m) => assert.fail(`${id}: ${m}`), current: (id) => cache.get(id) };
  const builder = new SnapshotBuilder({ memo: cache.memo });
  builder.deliver(objects);
  const nodes = new Map([['a', node('a', 'edge', 'edge-mesh-1')], ['b', node('b', 'edge', 'edge-mesh-2')], ['c', node('c', 'other', 'other-mesh-1')]]);
  assert.equal(builder.rebuild(nodes, 1, sink).ok, true);
  assert.equal(cache.get('a'), cache.get('b'));
  const snap = cache.get('a')!;
  assert.deepEqual([...snap.types[TYPE.listener].resources.keys()], ['gateway_80']);
  assert.deepEqual([...snap.types[TYPE.route].resources.keys()], ['http.80']);
  assert.deepEqual([...snap.types[TYPE.cluster].resources.keys()], ['outbound|80||web.shop.svc.cluster.local']);
  assert.equal(cache.get('c')!.types[TYPE.listener].resources.size, 0);
});
