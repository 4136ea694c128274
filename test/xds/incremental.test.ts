// The incremental path for EndpointSlice changes (issue 8): only EDS moves and is pushed, only to
// streams subscribed to the changed names, without the structural debounce; a structural change
// still waits for the structural debounce and rebuilds; and whatever sequence of changes comes
// in, the controller's model and every proxy's snapshot equal a full rebuild from the same objects.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { MemorySource } from '../../src/cluster/source.ts';
import { ControlPlane } from '../../src/controller/controlplane.ts';
import { buildModel } from '../../src/model/index.ts';
import { parseNode, type DiscoveryRequest, type DiscoveryResponse } from '../../src/xds/ads.ts';
import { decodeResource } from '../../src/xds/encode.ts';
import { TYPE, TYPE_ORDER } from '../../src/xds/protos.ts';
import { makeSnapshot } from '../../src/xds/snapshot.ts';
import { resourcesFor } from '../../src/xds/translate.ts';
import type { KubeObject } from '../../src/cluster/types.ts';
import { AdsClient } from '../support/ads-client.ts';

type Ep = { ip: number; ready: boolean; pod?: number };

const ns = (name: string, annotations: Record<string, string> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, annotations } });
const svc = (namespace: string, name: string, annotations: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name, namespace, annotations },
  spec: { clusterIP: `10.96.0.${name.charCodeAt(0)}`, selector: { app: name }, ports: [{ name: 'grpc', port: 8080, targetPort: 9090 }] },
});
const pod = (namespace: string, i: number, sa: string): KubeObject => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: `p${i}`, namespace, labels: { app: 'v' } }, spec: { serviceAccountName: sa, containers: [] }, status: { podIP: `10.2.0.${i}` },
});
const slice = (namespace: string, service: string, n: number, eps: Ep[], label = true): KubeObject => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
  metadata: { name: `${service}-${n}`, namespace, labels: label ? { 'kubernetes.io/service-name': service } : {} },
  addressType: 'IPv4', ports: [{ name: 'grpc', port: 9090 }],
  endpoints: eps.map((e) => ({ addresses: [`10.1.${n}.${e.ip}`], conditions: { ready: e.ready }, ...(e.pod !== undefined ? { targetRef: { kind: 'Pod', name: `p${e.pod}` } } : {}) })),
});

/** shop (PERMISSIVE): a, b; vault (STRICT, pods with identities): v; edge reaches only shop. */
function base(): Map<string, KubeObject> {
  const objs = [
    ns('shop'), ns('vault', { 'mesh.dev/mtls': 'STRICT' }), ns('edge', { 'mesh.dev/reachable-namespaces': 'shop' }),
    svc('shop', 'a'), svc('shop', 'b'), svc('vault', 'v'),
    pod('vault', 0, 'reader'), pod('vault', 1, 'writer'),
    slice('shop', 'a', 0, [{ ip: 1, ready: true }]), slice('shop', 'b', 0, [{ ip: 2, ready: true }]), slice('vault', 'v', 0, [{ ip: 3, ready: true, pod: 0 }]),
  ];
  return new Map(objs.map((o) => [`${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`, o]));
}

let cp: ControlPlane;
let source: MemorySource;
let port: number;
const open: grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse>[] = [];

/** A stream that subscribes to names of one type at a time (and ACKs), cancelled after the tests. */
class Stream extends AdsClient {
  constructor(nodeId: string, metadata: Record<string, string>) {
    super(cp.ads.serviceDefinition(), port, nodeId, metadata);
    open.push(this.call);
  }

  /** Subscribe to names of a type, ACK the response, return it once the server recorded the ACK. */
  async subscribe(typeUrl: string, names: string[]): Promise<DiscoveryResponse> {
    this.send({ type_url: typeUrl, resource_names: names });
    const r = await this.next();
    assert.equal(r.type_url, typeUrl);
    const acked = new Promise<void>((resolve) => {
      const seen = (e: { stream: { node: { id: string } }; typeUrl: string; version: string }): void => {
        if (e.stream.node.id !== this.nodeId || e.typeUrl !== typeUrl || e.version !== r.version_info) return;
        cp.ads.off('ack', seen);
        resolve();
      };
      cp.ads.on('ack', seen);
    });
    this.send({ type_url: typeUrl, resource_names: names, version_info: r.version_info, response_nonce: r.nonce });
    await acked;
    return r;
  }
}

const objects = base();
const list = (): KubeObject[] => [...objects.values()];

before(async () => {
  source = new MemorySource(list());
  // A structural debounce no test waits for: structural changes apply on flush() only, while
  // EndpointSlice changes go through the endpoint interval (10 ms by default).
  cp = new ControlPlane({ source, debounceMs: 60_000, maxDelayMs: 60_000 });
  port = await cp.start({ host: '127.0.0.1', port: 0 });
});

after(async () => {
  for (const c of open) c.cancel();
  await cp.stop();
});

const A = 'a.shop.svc.cluster.local:8080';
const CA = 'outbound|8080||a.shop.svc.cluster.local';
const CB = 'outbound|8080||b.shop.svc.cluster.local';

function address(r: DiscoveryResponse): string[] {
  return r.resources.flatMap((x) => (decodeResource(TYPE.endpoint, x.value) as any).endpoints.flatMap((l: any) => l.lb_endpoints.map((e: any) => e.endpoint.address.socket_address.address)));
}

test('an EndpointSlice change pushes the new endpoints and nothing else, only to streams subscribed to them', async () => {
  const x = new Stream('x', { NAMESPACE: 'shop', PROXY_KIND: 'grpc' });
  const l = await x.subscribe(TYPE.listener, [A]);
  const rt = await x.subscribe(TYPE.route, [A]);
  const c = await x.subscribe(TYPE.cluster, [CA]);
  const e = await x.subscribe(TYPE.endpoint, [CA]);
  const y = new Stream('y', { NAMESPACE: 'shop', PROXY_KIND: 'grpc' });
  const ye = await y.subscribe(TYPE.endpoint, [CB]);
  const before = cp.cache.get('x')!;
  const gen = cp.syncz().generation;
  const pushesBefore = cp.syncz().proxies.find((p) => p.id === 'y')!.streams[0]!.types[TYPE.endpoint]!.pushes;

  objects.set('EndpointSlice/shop/a-0', slice('shop', 'a', 0, [{ ip: 1, ready: true }, { ip: 7, ready: true }]));
  source.set(list()); // no flush(): the endpoint path applies it; the structural debounce would take a minute

  const pushed = await x.next();
  assert.equal(pushed.type_url, TYPE.endpoint);
  assert.notEqual(pushed.version_info, e.version_info);
  assert.deepEqual(address(pushed), ['10.1.0.1', '10.1.0.7']);
  assert.equal(cp.syncz().generation, gen + 1);

  const now = cp.cache.get('x')!;
  for (const t of [TYPE.listener, TYPE.route, TYPE.cluster]) assert.equal(now.types[t], before.types[t], `${t}: the previous set is reused as is`);
  assert.deepEqual([now.types[TYPE.listener].version, now.types[TYPE.route].version, now.types[TYPE.cluster].version], [l.version_info, rt.version_info, c.version_info]);
  assert.equal(now.types[TYPE.endpoint].resources.get(CB), before.types[TYPE.endpoint].resources.get(CB), 'unchanged EDS resources are reused');
  const ySync = cp.syncz().proxies.find((p) => p.id === 'y')!.streams[0]!.types[TYPE.endpoint]!;
  // The server writes a snapshot's responses synchronously, so its counts are final once EDS arrived.
  assert.equal(ySync.pushes, pushesBefore, 'a stream subscribed to another cluster gets nothing');
  assert.equal(ySync.sentVersion, ye.version_info, 'y still holds (and was sent) the version it acked');
  const xSync = cp.syncz().proxies.find((p) => p.id === 'x')!.streams[0]!.types;
  assert.deepEqual([xSync[TYPE.listener]!.pushes, xSync[TYPE.route]!.pushes, xSync[TYPE.cluster]!.pushes], [1, 1, 1], 'LDS, RDS and CDS are not resent');
  assert.equal(xSync[TYPE.endpoint]!.sentVersion, pushed.version_info);

  // y's next response (here: after a subscription change) carries the current version.
  y.send({ type_url: TYPE.endpoint, resource_names: [CA, CB], version_info: ye.version_info, response_nonce: ye.nonce });
  const y2 = await y.next();
  assert.equal(y2.version_info, pushed.version_info);
  assert.deepEqual(address(y2), ['10.1.0.1', '10.1.0.7', '10.1.0.2']);
});

test('a Service change waits for the structural debounce and rebuilds: CDS is pushed', async () => {
  const x = new Stream('svc', { NAMESPACE: 'shop', PROXY_KIND: 'grpc' });
  const c = await x.subscribe(TYPE.cluster, [CA]);
  objects.set('Service/shop/a', svc('shop', 'a', { 'mesh.dev/circuit-breaker': '{"maxRequests":7}' }));
  source.set(list());
  assert.equal(await x.nothing(), undefined, 'not applied before the structural debounce');
  cp.flush();
  const r = await x.next();
  assert.equal(r.type_url, TYPE.cluster);
  assert.notEqual(r.version_info, c.version_info);
  const cluster = decodeResource(TYPE.cluster, r.resources[0]!.value) as any;
  assert.equal(cluster.circuit_breakers.thresholds[0].max_requests.value, 7);
  objects.set('Service/shop/a', svc('shop', 'a'));
  source.set(list());
  cp.flush();
});

test('incremental updates equal a full rebuild from the same objects (random change sequences)', async () => {
  // One stream per kind of proxy class: a gRPC client, a scoped gRPC client, a gRPC server in the
  // STRICT namespace, an Envoy sidecar.
  const kinds: [string, Record<string, string>][] = [
    ['p-grpc', { NAMESPACE: 'shop', PROXY_KIND: 'grpc' }],
    ['p-scoped', { NAMESPACE: 'edge', PROXY_KIND: 'grpc' }],
    ['p-server', { NAMESPACE: 'vault', PROXY_KIND: 'grpc', POD_NAME: 'p1' }],
    ['p-sidecar', { NAMESPACE: 'shop', PROXY_KIND: 'sidecar', POD_NAME: 'p0' }],
  ];
  const streams = kinds.map(([id, md]) => new Stream(id, md));
  for (const s of streams) await s.subscribe(TYPE.cluster, []);
  const ep = fc.record({ ip: fc.integer({ min: 1, max: 6 }), ready: fc.boolean(), pod: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }) });
  const target = fc.constantFrom(['shop', 'a'], ['shop', 'b'], ['vault', 'v']);
  const op = fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('slice' as const), at: target, n: fc.integer({ min: 0, max: 1 }), eps: fc.array(ep, { maxLength: 4 }) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: target, n: fc.integer({ min: 0, max: 1 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('ghost' as const), n: fc.integer({ min: 0, max: 1 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('unlabelled' as const) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('service' as const), max: fc.integer({ min: 1, max: 9 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('pod' as const), sa: fc.constantFrom('reader', 'writer', 'admin') }) },
  );
  let incremental = 0;
  fc.assert(
    fc.property(fc.array(op, { minLength: 1, maxLength: 8 }), (ops) => {
      const world = base();
      source.set([...world.values()]);
      cp.flush();
      for (const o of ops) {
        if (o.kind === 'slice') world.set(`EndpointSlice/${o.at[0]}/${o.at[1]}-${o.n}`, slice(o.at[0], o.at[1], o.n, o.eps));
        else if (o.kind === 'delete') world.delete(`EndpointSlice/${o.at[0]}/${o.at[1]}-${o.n}`);
        else if (o.kind === 'ghost') world.set(`EndpointSlice/ghost/g-${o.n}`, slice('ghost', 'g', o.n, [{ ip: 1, ready: true }]));
        else if (o.kind === 'unlabelled') world.set('EndpointSlice/shop/stray-0', slice('shop', 'stray', 0, [{ ip: 9, ready: true }], false));
        else if (o.kind === 'service') world.set('Service/shop/b', svc('shop', 'b', { 'mesh.dev/circuit-breaker': `{"maxRequests":${o.max}}` }));
        else world.set('Pod/vault/p0', pod('vault', 0, o.sa));
        const before = cp.cache.get('p-grpc')!;
        const objs = [...world.values()];
        source.set(objs);
        cp.flush();
        const model = buildModel(objs);
        assert.deepEqual(cp.currentModel(), model);
        for (const s of streams) {
          const full = makeSnapshot('full', resourcesFor(model, parseNode(s.node)));
          const got = cp.cache.get(s.nodeId)!;
          for (const t of TYPE_ORDER) {
            assert.deepEqual([...got.types[t].resources.keys()], [...full.types[t].resources.keys()], `${s.nodeId} ${t} names`);
            assert.equal(got.types[t].version, full.types[t].version, `${s.nodeId} ${t} version (a digest of names and bytes)`);
          }
        }
        if (o.kind === 'slice' && o.at[0] === 'shop') {
          // PERMISSIVE clusters do not depend on endpoints: this one is always incremental.
          const now = cp.cache.get('p-grpc')!;
          for (const t of [TYPE.listener, TYPE.route, TYPE.cluster]) assert.equal(now.types[t], before.types[t]);
          incremental++;
        }
      }
    }),
    { numRuns: 60 },
  );
  assert.ok(incremental > 0, 'the incremental path was exercised');
  for (const s of streams) s.drain();
});

test('proxy classes with equal EDS share one set, before and after an incremental update', async () => {
  const a = new Stream('side-a', { NAMESPACE: 'shop', PROXY_KIND: 'sidecar', POD_NAME: 'pa' });
  const b = new Stream('side-b', { NAMESPACE: 'shop', PROXY_KIND: 'sidecar', POD_NAME: 'pb' });
  const g = new Stream('grpc-shop', { NAMESPACE: 'shop', PROXY_KIND: 'grpc' });
  for (const s of [a, b, g]) await s.subscribe(TYPE.endpoint, [CA]);
  const eds = (id: string) => cp.cache.get(id)!.types[TYPE.endpoint];
  assert.notEqual(cp.cache.get('side-a'), cp.cache.get('side-b'), 'sidecars of different pods are different classes');
  assert.equal(eds('side-a'), eds('side-b'));
  assert.equal(eds('side-a'), eds('grpc-shop'), 'both kinds get the same ClusterLoadAssignments');
  const before = eds('side-a');
  objects.set('EndpointSlice/shop/a-0', slice('shop', 'a', 0, [{ ip: 5, ready: true }]));
  source.set(list());
  const pushed = await Promise.all([a.next(), b.next(), g.next()]);
  assert.deepEqual(pushed.map(address), [['10.1.0.5'], ['10.1.0.5'], ['10.1.0.5']]);
  assert.notEqual(eds('side-a'), before);
  assert.equal(eds('side-a'), eds('side-b'));
  assert.equal(eds('side-a'), eds('grpc-shop'));
});
