// Natural batching (issue 22): a stream has at most one response of a type in flight. Endpoint
// changes that come faster than a proxy answers are held until its ACK (or NACK), and one response
// then carries all of them: fewer pushes, none lost, and the proxy ends with the last version.
// State of the world and delta alike; the push latency of the batched response runs from the
// oldest change it carries.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemorySource } from '../../src/cluster/source.ts';
import { ControlPlane } from '../../src/controller/controlplane.ts';
import type { KubeObject } from '../../src/cluster/types.ts';
import type { DeltaDiscoveryResponse, DiscoveryResponse } from '../../src/xds/ads.ts';
import { decodeResource } from '../../src/xds/encode.ts';
import { TYPE } from '../../src/xds/protos.ts';
import { AdsClient, DeltaAdsClient } from '../support/ads-client.ts';
import { recorded } from './support.ts';

const SERVICES = ['a', 'b', 'c'];
const svc = (name: string): KubeObject => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'shop' },
  spec: { clusterIP: `10.96.0.${name.charCodeAt(0)}`, ports: [{ name: 'grpc', port: 8080, targetPort: 9090 }] },
});
const slice = (name: string, ip: number): KubeObject => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
  metadata: { name: `${name}-0`, namespace: 'shop', labels: { 'kubernetes.io/service-name': name } },
  addressType: 'IPv4', ports: [{ name: 'grpc', port: 9090 }],
  endpoints: [{ addresses: [`10.1.${name.charCodeAt(0)}.${ip}`], conditions: { ready: true } }],
});
const cluster = (name: string): string => `outbound|8080||${name}.shop.svc.cluster.local`;

/** Each service's endpoint address now (the test's truth), and the objects made from it. */
const ips = new Map(SERVICES.map((s) => [s, 1]));
const objects = (): KubeObject[] => [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } }, ...SERVICES.flatMap((s) => [svc(s), slice(s, ips.get(s)!)])];

/** The clock the control plane stamps changes with (its timers are the process's). */
let clock = Date.now();
let source: MemorySource;
let cp: ControlPlane;
let port: number;
const open: { call: { cancel(): void } }[] = [];

before(async () => {
  source = new MemorySource(objects());
  cp = new ControlPlane({ source, clock: { now: () => clock, setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) } });
  port = await cp.start({ host: '127.0.0.1', port: 0 });
});

after(async () => {
  for (const c of open) c.call.cancel();
  await cp.stop();
});

/** Move one service's endpoint and apply it now (the endpoint path: EDS only). */
function change(name: string, at = Date.now()): void {
  ips.set(name, ips.get(name)! + 1);
  clock = at;
  source.set(objects());
  cp.flush();
}

function address(typeUrl: string, value: Uint8Array): [string, string] {
  const cla = decodeResource(typeUrl, value) as { cluster_name: string; endpoints: { lb_endpoints: { endpoint: { address: { socket_address: { address: string } } } }[] }[] };
  return [cla.cluster_name, cla.endpoints[0]!.lb_endpoints[0]!.endpoint.address.socket_address.address];
}
const expected = (): Map<string, string> => new Map(SERVICES.map((s) => [cluster(s), `10.1.${s.charCodeAt(0)}.${ips.get(s)}`]));

/** Pushes of EDS to a node so far (recorded synchronously as each response is written). */
function pushes(id: string): number {
  return cp.syncz().proxies.find((p) => p.id === id)!.streams[0]!.types[TYPE.endpoint]!.pushes;
}

/** Push latencies reported for a node, as the metrics see them. */
function latencies(id: string): number[] {
  const out: number[] = [];
  cp.ads.on('push', (p) => {
    if (p.stream.node.id === id && p.typeUrl === TYPE.endpoint && p.latencyMs !== undefined) out.push(p.latencyMs);
  });
  return out;
}

/** ACK `r` on state-of-the-world stream `s` (node `id`) and wait until the control plane has recorded it. */
async function ackSotw(s: AdsClient, id: string, r: DiscoveryResponse): Promise<void> {
  const acked = recorded(cp, 'ack', id, TYPE.endpoint);
  s.send({ type_url: TYPE.endpoint, resource_names: [], version_info: r.version_info, response_nonce: r.nonce });
  await acked;
}

/** A state-of-the-world stream for node `id`, subscribed to endpoints, its first response ACKed. */
async function subscribedSotw(id: string): Promise<{ s: AdsClient; first: DiscoveryResponse }> {
  const s = new AdsClient(cp.ads.serviceDefinition(), port, id, { NAMESPACE: 'shop', PROXY_KIND: 'grpc' });
  open.push(s);
  s.send({ type_url: TYPE.endpoint, resource_names: [] });
  const first = await s.next();
  await ackSotw(s, id, first);
  return { s, first };
}

test('state of the world: changes faster than the ACKs become one push carrying all of them, ending at the last version', async () => {
  const lat = latencies('sotw');
  const { s } = await subscribedSotw('sotw');

  change('a');
  const r1: DiscoveryResponse = await s.next();
  assert.equal(pushes('sotw'), 2);
  // Not answered yet: four more changes (an hour ago the first, to tell whose latency is reported).
  const heldAt = Date.now() - 3_600_000;
  change('b', heldAt);
  change('a');
  change('c');
  change('b');
  assert.equal(pushes('sotw'), 2, 'nothing is pushed while the last response is unanswered');
  const version = cp.cache.get('sotw')!.types[TYPE.endpoint].version;
  assert.notEqual(version, r1.version_info, 'the snapshot moved on meanwhile');

  await ackSotw(s, 'sotw', r1);
  const r2: DiscoveryResponse = await s.next();
  assert.equal(pushes('sotw'), 3, 'one push for the four held changes');
  assert.equal(r2.version_info, version, 'the proxy gets the last version');
  assert.deepEqual(new Map(r2.resources.map((r) => address(TYPE.endpoint, r.value))), expected(), 'every change is in it');
  assert.ok(lat.at(-1)! >= 3_600_000, `its latency runs from the oldest change it carries (got ${lat.at(-1)} ms)`);

  await ackSotw(s, 'sotw', r2);
  assert.equal(pushes('sotw'), 3, 'up to date: the ACK gets nothing');
  change('c');
  const r3 = await s.next();
  assert.deepEqual(new Map(r3.resources.map((r) => address(TYPE.endpoint, r.value))), expected(), 'after the ACK the next change is pushed at once');
});

test('a NACK also answers: the held changes follow it', async () => {
  const { s, first } = await subscribedSotw('nacker');
  change('a');
  const r1 = await s.next();
  change('b');
  assert.equal(pushes('nacker'), 2);
  const nacked = recorded(cp, 'nack', 'nacker', TYPE.endpoint);
  s.send({ type_url: TYPE.endpoint, resource_names: [], version_info: first.version_info, response_nonce: r1.nonce, error_detail: { code: 3, message: 'rejected' } });
  await nacked;
  const r2 = await s.next();
  assert.equal(r2.version_info, cp.cache.get('nacker')!.types[TYPE.endpoint].version);
  assert.deepEqual(new Map(r2.resources.map((r) => address(TYPE.endpoint, r.value))), expected());
  await ackSotw(s, 'nacker', r2);
});

test('delta: changes faster than the ACKs become one response with every changed resource, none lost', async () => {
  const d = new DeltaAdsClient(cp.ads.serviceDefinition(), port, 'delta', { NAMESPACE: 'shop', PROXY_KIND: 'grpc' });
  open.push(d);
  const lat = latencies('delta');
  /** What the proxy holds, applying each response as a delta client does. */
  const held = new Map<string, string>();
  const apply = (r: DeltaDiscoveryResponse): string[] => {
    for (const n of r.removed_resources) held.delete(n);
    for (const x of r.resources) held.set(...address(TYPE.endpoint, x.resource.value));
    return r.resources.map((x) => x.name).sort();
  };
  const ack = async (r: DeltaDiscoveryResponse): Promise<void> => {
    const acked = recorded(cp, 'ack', 'delta', TYPE.endpoint);
    d.ack(r);
    await acked;
  };
  d.send({ type_url: TYPE.endpoint });
  const first = await d.next();
  apply(first);
  assert.deepEqual(held, expected());
  await ack(first);

  change('a');
  const r1 = await d.next();
  assert.deepEqual(apply(r1), [cluster('a')]);
  const heldAt = Date.now() - 3_600_000;
  change('b', heldAt);
  change('c');
  change('b');
  assert.equal(pushes('delta'), 2, 'nothing is pushed while the last response is unanswered');

  await ack(r1);
  const r2 = await d.next();
  assert.equal(pushes('delta'), 3, 'one push for the three held changes');
  assert.deepEqual(apply(r2), [cluster('b'), cluster('c')], 'every resource changed meanwhile, once');
  assert.equal(r2.system_version_info, cp.cache.get('delta')!.types[TYPE.endpoint].version, 'the proxy gets the last version');
  assert.deepEqual(held, expected(), 'the proxy ends with every change');
  assert.ok(lat.at(-1)! >= 3_600_000, `its latency runs from the oldest change it carries (got ${lat.at(-1)} ms)`);
  await ack(r2);
  assert.equal(pushes('delta'), 3, 'up to date: the ACK gets nothing');
});
