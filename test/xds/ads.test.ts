// The ADS protocol against a raw gRPC stream: versions, nonces, ACK, NACK (keeps the last good
// config and is recorded), stale nonces, per-type subscriptions, pushes only for changed types,
// reconnects, debounced snapshots and the consistency check.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { MemorySource } from '../../src/cluster/source.ts';
import { ControlPlane } from '../../src/controller/controlplane.ts';
import type { DiscoveryRequest, DiscoveryResponse } from '../../src/xds/ads.ts';
import { TYPE } from '../../src/xds/protos.ts';
import { consistent, makeSnapshot } from '../../src/xds/snapshot.ts';
import { decodeResource } from '../../src/xds/encode.ts';
import type { KubeObject } from '../../src/cluster/types.ts';
import { AdsClient } from '../support/ads-client.ts';
import { recorded } from './support.ts';

const svc = (name: string, ip = '10.0.0.1'): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'shop' }, spec: { clusterIP: '10.96.0.1', ports: [{ name: 'grpc', port: 8080 }] }, _ip: ip });
const slice = (name: string, ip: string): KubeObject => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name, namespace: 'shop', labels: { 'kubernetes.io/service-name': name } },
  addressType: 'IPv4', ports: [{ name: 'grpc', port: 9090 }], endpoints: [{ addresses: [ip] }],
});

let cp: ControlPlane;
let source: MemorySource;
let Client: grpc.ServiceClientConstructor;
let port: number;
const open: grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse>[] = [];

/** A stream of node `nodeId` in namespace shop, cancelled after the tests. */
function stream(nodeId: string): AdsClient {
  const s = new AdsClient(cp.ads.serviceDefinition(), port, nodeId, { NAMESPACE: 'shop' });
  open.push(s.call);
  return s;
}


/**
 * Responses of `typeUrl` the server has written on the node's stream. The server answers a
 * request or a snapshot synchronously, so once the ACK/NACK event or the expected response is in,
 * this count is final: "nothing more was sent" is read here instead of waiting for silence.
 */
function pushes(nodeId: string, typeUrl: string): number {
  const p = cp.syncz().proxies.find((x) => x.id === nodeId);
  return p?.streams.at(-1)?.types[typeUrl]?.pushes ?? 0;
}

before(async () => {
  source = new MemorySource([svc('a'), slice('a', '10.1.0.1'), svc('b'), slice('b', '10.1.0.2')]);
  cp = new ControlPlane({ source, debounceMs: 20 });
  port = await cp.start({ host: '127.0.0.1', port: 0 });
  Client = grpc.makeGenericClientConstructor(cp.ads.serviceDefinition(), 'AggregatedDiscoveryService');
});

after(async () => {
  for (const c of open) c.cancel();
  await cp.stop();
});

const LA = 'a.shop.svc.cluster.local:8080';
const CA = 'outbound|8080||a.shop.svc.cluster.local';
const CB = 'outbound|8080||b.shop.svc.cluster.local';

test('version, nonce and ACK: a response per request, none after its ACK', async () => {
  const s = stream('ack');
  s.send({ type_url: TYPE.listener, resource_names: [LA] });
  const r = await s.next();
  assert.equal(r.type_url, TYPE.listener);
  assert.ok(r.version_info && r.nonce);
  assert.equal(r.resources.length, 1);
  assert.equal(decodeResource(TYPE.listener, r.resources[0]!.value).name, LA);
  const sent = pushes('ack', TYPE.listener);
  const acked = recorded(cp, 'ack', 'ack', TYPE.listener);
  s.send({ type_url: TYPE.listener, resource_names: [LA], version_info: r.version_info, response_nonce: r.nonce });
  await acked;
  assert.equal(pushes('ack', TYPE.listener), sent, 'an ACK gets no response');
  const st = cp.syncz().proxies.find((p) => p.id === 'ack')!;
  assert.equal(st.connected, true);
  assert.equal(st.streams[0]!.types[TYPE.listener]!.ackedVersion, r.version_info);
});

test('subscriptions by name: only the named resources, and a new response when names change', async () => {
  const s = stream('subs');
  s.send({ type_url: TYPE.cluster, resource_names: [CA] });
  const r1 = await s.next();
  assert.deepEqual(r1.resources.map((x) => decodeResource(TYPE.cluster, x.value).name), [CA]);
  s.send({ type_url: TYPE.cluster, resource_names: [CA, CB], version_info: r1.version_info, response_nonce: r1.nonce });
  const r2 = await s.next();
  assert.deepEqual(r2.resources.map((x) => decodeResource(TYPE.cluster, x.value).name).sort(), [CA, CB]);
  assert.notEqual(r2.nonce, r1.nonce);
  s.send({ type_url: TYPE.cluster, resource_names: [], version_info: r2.version_info, response_nonce: r2.nonce });
  const r3 = await s.next();
  assert.equal(r3.resources.length, 0, 'after naming resources, an empty list unsubscribes rather than asking for everything');
});

test('a legacy wildcard request (no names first) gets every resource of the type', async () => {
  const s = stream('wild');
  s.send({ type_url: TYPE.cluster, resource_names: [] });
  const r = await s.next();
  assert.equal(r.resources.length, 2);
});

test('NACK keeps the last good config, is recorded with its error, and the next change is pushed', async () => {
  const s = stream('nack');
  s.send({ type_url: TYPE.endpoint, resource_names: [CA] });
  const r1 = await s.next();
  const acked = recorded(cp, 'ack', 'nack', TYPE.endpoint);
  s.send({ type_url: TYPE.endpoint, resource_names: [CA], version_info: r1.version_info, response_nonce: r1.nonce });
  await acked;
  source.set([svc('a'), slice('a', '10.1.0.9'), svc('b'), slice('b', '10.1.0.2')]);
  const r2 = await s.next();
  assert.notEqual(r2.version_info, r1.version_info);
  const sent = pushes('nack', TYPE.endpoint);
  const nacked = recorded(cp, 'nack', 'nack', TYPE.endpoint);
  s.send({ type_url: TYPE.endpoint, resource_names: [CA], version_info: r1.version_info, response_nonce: r2.nonce, error_detail: { code: 3, message: 'endpoint rejected' } });
  await nacked;
  assert.equal(pushes('nack', TYPE.endpoint), sent, 'no resend of the rejected version');
  const st = cp.syncz().proxies.find((p) => p.id === 'nack')!.streams[0]!.types[TYPE.endpoint]!;
  assert.equal(st.ackedVersion, r1.version_info, 'the proxy still holds the last good version');
  assert.deepEqual([st.lastNack!.version, st.lastNack!.message], [r2.version_info, 'endpoint rejected']);
  const nacks = await cp.metrics.nacks.get();
  assert.ok(nacks.values.some((v) => v.labels.type === 'ClusterLoadAssignment' && v.value >= 1));
  source.set([svc('a'), slice('a', '10.1.0.10'), svc('b'), slice('b', '10.1.0.2')]);
  const r3 = await s.next();
  assert.notEqual(r3.version_info, r2.version_info);
});

test('a stale nonce is ignored; only changed types are pushed', async () => {
  const s = stream('stale');
  s.send({ type_url: TYPE.endpoint, resource_names: [CA] });
  s.send({ type_url: TYPE.cluster, resource_names: [CA] });
  const e1 = await s.next();
  const c1 = await s.next();
  const acked = Promise.all([recorded(cp, 'ack', 'stale', TYPE.endpoint), recorded(cp, 'ack', 'stale', TYPE.cluster)]);
  s.send({ type_url: TYPE.endpoint, resource_names: [CA], version_info: e1.version_info, response_nonce: e1.nonce });
  s.send({ type_url: TYPE.cluster, resource_names: [CA], version_info: c1.version_info, response_nonce: c1.nonce });
  await acked;
  const clusters = pushes('stale', TYPE.cluster);
  source.set([svc('a'), slice('a', '10.1.0.11'), svc('b'), slice('b', '10.1.0.2')]);
  const pushed = await s.next();
  assert.equal(pushed.type_url, TYPE.endpoint, 'an endpoint change pushes EDS only');
  assert.equal(pushes('stale', TYPE.cluster), clusters, 'and not CDS');
  s.send({ type_url: TYPE.endpoint, resource_names: [CA, CB], version_info: e1.version_info, response_nonce: e1.nonce });
  assert.equal(await s.nothing(), undefined, 'a request answering an old nonce changes nothing');
});

test('a reconnecting proxy (version held, no nonce) gets a fresh response', async () => {
  const s1 = stream('reconnect');
  s1.send({ type_url: TYPE.listener, resource_names: [LA] });
  const r1 = await s1.next();
  s1.call.cancel();
  const s2 = stream('reconnect');
  s2.send({ type_url: TYPE.listener, resource_names: [LA], version_info: r1.version_info });
  const r2 = await s2.next();
  assert.equal(r2.version_info, r1.version_info);
  assert.notEqual(r2.nonce, r1.nonce);
});

test('source changes inside the debounce window become one snapshot', async () => {
  const s = stream('debounce');
  s.send({ type_url: TYPE.endpoint, resource_names: [CA] });
  const r1 = await s.next();
  const acked = recorded(cp, 'ack', 'debounce', TYPE.endpoint);
  s.send({ type_url: TYPE.endpoint, resource_names: [CA], version_info: r1.version_info, response_nonce: r1.nonce });
  await acked;
  const gen = cp.syncz().generation;
  for (let i = 20; i < 30; i++) source.set([svc('a'), slice('a', `10.1.0.${i}`), svc('b'), slice('b', '10.1.0.2')]);
  const r2 = await s.next();
  assert.equal(cp.syncz().generation, gen + 1);
  const cla = decodeResource(TYPE.endpoint, r2.resources[0]!.value) as any;
  assert.equal(cla.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address, '10.1.0.29', 'the last state wins');
  assert.equal(await s.nothing(), undefined);
});

test('a stream without node.id is refused', async () => {
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const call = (client as any).StreamAggregatedResources() as grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse>;
  call.write({ type_url: TYPE.listener });
  const [err] = (await once(call, 'error')) as [grpc.ServiceError];
  assert.match(err.message, /node\.id/);
});

test('consistent(): EDS without CDS, RDS without LDS and dangling cluster references are reported', () => {
  const snap = makeSnapshot('1', {
    [TYPE.listener]: { l: { name: 'l', api_listener: { api_listener: { '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager', rds: { route_config_name: 'missing-route', config_source: { ads: {} } }, http_filters: [] } } } },
    [TYPE.route]: { orphan: { name: 'orphan', virtual_hosts: [{ name: 'v', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'nope' } }] }] } },
    [TYPE.cluster]: { c: { name: 'c', type: 'EDS', eds_cluster_config: { eds_config: { ads: {} } } } },
    [TYPE.endpoint]: { stray: { cluster_name: 'stray' } },
    [TYPE.secret]: {},
  });
  const problems = consistent(snap).join('\n');
  for (const re of [/EDS stray is not named/, /CDS cluster c has no EDS/, /RDS orphan is not named/, /route configuration missing-route/, /missing cluster nope/]) assert.match(problems, re);
  assert.deepEqual(consistent(makeSnapshot('1', { [TYPE.listener]: {}, [TYPE.route]: {}, [TYPE.cluster]: {}, [TYPE.endpoint]: {}, [TYPE.secret]: {} })), []);
});
