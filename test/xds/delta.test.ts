// Incremental xDS (DeltaAggregatedResources) against a raw gRPC stream: wildcard and named
// subscriptions, per-resource versions, only changed resources pushed, removed_resources,
// unsubscribe, reconnect with initial_resource_versions, ACK/NACK as SotW records them, SDS on a
// TLS stream with a token, and what /debug/syncz (and so `mesh proxy-status`) shows.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { MemorySource } from '../../src/cluster/source.ts';
import { ControlPlane } from '../../src/controller/controlplane.ts';
import { clusterReviewer } from '../../src/controller/setup.ts';
import { connectLive } from '../../src/cluster/live.ts';
import type { KubeObject } from '../../src/cluster/types.ts';
import { TOKEN_AUDIENCE } from '../../src/constants.ts';
import { DEFAULT_CONTROLLER, typeState } from '../../src/status/controller-debug.ts';
import { collectProxyStatus } from '../../src/status/proxy-status.ts';
import { startIntrospection } from '../../src/controller/http.ts';
import { CertificateAuthority, generateRoot } from '../../src/pki/index.ts';
import type { DeltaDiscoveryRequest, DeltaDiscoveryResponse, StreamContext, StreamStatus, TypeSync } from '../../src/xds/ads.ts';
import { deltaProtocol } from '../../src/xds/delta.ts';
import { makeSnapshot, type Snapshot } from '../../src/xds/snapshot.ts';
import type { Resources } from '../../src/xds/translate.ts';
import fc from 'fast-check';
import { decodeResource, strictCheck } from '../../src/xds/encode.ts';
import { TYPE } from '../../src/xds/protos.ts';
import { DeltaAdsClient } from '../support/ads-client.ts';
import { recorded } from './support.ts';
import { startApiServer } from '../support/kube.ts';
import { startTlsAds } from './sds-support.ts';
import { fakeCluster } from '../stat/support/fake-cluster.ts';

const svc = (name: string, annotations: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'shop', annotations },
  spec: { clusterIP: `10.96.0.${name.charCodeAt(0)}`, ports: [{ name: 'grpc', port: 8080, targetPort: 9090 }] },
});
const slice = (name: string, ips: string[]): KubeObject => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: `${name}-0`, namespace: 'shop', labels: { 'kubernetes.io/service-name': name } },
  addressType: 'IPv4', ports: [{ name: 'grpc', port: 9090 }], endpoints: ips.map((ip) => ({ addresses: [ip] })),
});

const CA = 'outbound|8080||a.shop.svc.cluster.local';
const CB = 'outbound|8080||b.shop.svc.cluster.local';
const CC = 'outbound|8080||c.shop.svc.cluster.local';

const objects = new Map<string, KubeObject>();
function put(o: KubeObject): void {
  objects.set(`${o.kind}/${o.metadata.name}`, o);
}
function reset(): void {
  objects.clear();
  for (const o of [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } }, svc('a'), slice('a', ['10.1.0.1']), svc('b'), slice('b', ['10.1.0.2']), svc('c'), slice('c', ['10.1.0.3'])]) put(o);
}
reset();

let cp: ControlPlane;
let source: MemorySource;
let port: number;
const open: { cancel(): void }[] = [];

/** Apply the objects: EndpointSlice-only changes go out on their own (10 ms interval); anything else on flush(). */
function apply(structural = false): void {
  source.set([...objects.values()]);
  if (structural) cp.flush();
}

function delta(nodeId: string, md: Record<string, string> = { NAMESPACE: 'shop', PROXY_KIND: 'grpc' }): DeltaAdsClient {
  const s = new DeltaAdsClient(cp.ads.serviceDefinition(), port, nodeId, md);
  open.push(s.call);
  return s;
}

/** Send a request and wait for its response of that type. */
async function ask(s: DeltaAdsClient, req: Parameters<DeltaAdsClient['send']>[0]): Promise<DeltaDiscoveryResponse> {
  s.send(req);
  const r = await s.next();
  assert.equal(r.type_url, req.type_url);
  return r;
}

/** ACK and wait until the server recorded this stream's ACK of that type. */
async function ack(s: DeltaAdsClient, r: DeltaDiscoveryResponse): Promise<void> {
  const acked = recorded(cp, 'ack', s.nodeId, r.type_url);
  s.ack(r);
  await acked;
}


/** Resolves once `check()` holds, looking again every millisecond (for server state no event announces); bounded against a hang. */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; !check(); i++) {
    if (i > 60_000) throw new Error(`never: ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

function streamOf(nodeId: string): StreamStatus {
  const p = cp.syncz().proxies.find((x) => x.id === nodeId)!;
  return p.streams[p.streams.length - 1]!;
}
function syncOf(nodeId: string, typeUrl: string): TypeSync {
  return streamOf(nodeId).types[typeUrl]!;
}
const names = (r: DeltaDiscoveryResponse): string[] => r.resources.map((x) => x.name).sort();
function addresses(r: DeltaDiscoveryResponse): string[] {
  return r.resources.flatMap((x) => (decodeResource(TYPE.endpoint, x.resource.value) as any).endpoints.flatMap((l: any) => l.lb_endpoints.map((e: any) => e.endpoint.address.socket_address.address)));
}

before(async () => {
  source = new MemorySource([...objects.values()]);
  // A structural debounce no test waits for: structural changes apply on flush() only.
  cp = new ControlPlane({ source, debounceMs: 60_000, maxDelayMs: 60_000 });
  port = await cp.start({ host: '127.0.0.1', port: 0 });
});

after(async () => {
  for (const c of open) c.cancel();
  await cp.stop();
});

test('a wildcard CDS subscription gets every cluster with per-resource versions; each decodes strictly; SYNCED after ACK', async () => {
  const s = delta('wild');
  const r = await ask(s, { type_url: TYPE.cluster });
  assert.deepEqual(names(r), [CA, CB, CC]);
  assert.deepEqual(r.removed_resources, []);
  assert.equal(r.system_version_info, cp.cache.get('wild')!.types[TYPE.cluster].version);
  assert.ok(r.nonce);
  for (const x of r.resources) {
    assert.equal(x.resource.type_url, TYPE.cluster);
    const msg = decodeResource(TYPE.cluster, x.resource.value);
    assert.equal(msg.name, x.name);
    assert.deepEqual(strictCheck('envoy.config.cluster.v3.Cluster', msg), [], `${x.name} decodes with no unknown field`);
    assert.match(x.version, /^[0-9a-f]{16}$/);
  }
  assert.equal(new Set(r.resources.map((x) => x.version)).size, 3, 'each cluster has its own version');
  const st = syncOf('wild', TYPE.cluster);
  assert.equal(typeState(st), 'STALE', 'sent, not yet acked');
  await ack(s, r);
  const stream = streamOf('wild');
  assert.equal(stream.mode, 'delta');
  assert.deepEqual([stream.types[TYPE.cluster]!.wildcard, stream.types[TYPE.cluster]!.ackedVersion, stream.types[TYPE.cluster]!.sentVersion], [true, r.system_version_info, r.system_version_info]);
  assert.equal(typeState(stream.types[TYPE.cluster]), 'SYNCED', 'what mesh proxy-status shows');

  // Versions are digests of each resource's bytes: a rebuild that adds a Service sends its cluster only.
  put(svc('d'));
  apply(true);
  const added = await s.next();
  assert.deepEqual([names(added), added.removed_resources], [['outbound|8080||d.shop.svc.cluster.local'], []]);
  assert.notEqual(added.system_version_info, r.system_version_info);
  // One response in flight per type: the next change goes out once this one is answered.
  await ack(s, added);
  objects.delete('Service/d');
  apply(true);
  assert.deepEqual((await s.next()).removed_resources, ['outbound|8080||d.shop.svc.cluster.local']);
});

test('an EndpointSlice change sends only the changed ClusterLoadAssignment, only to the stream subscribed to it', async () => {
  const x = delta('eds-x');
  const cds = await ask(x, { type_url: TYPE.cluster });
  await ack(x, cds);
  const e = await ask(x, { type_url: TYPE.endpoint, resource_names_subscribe: [CA, CC] });
  assert.deepEqual(names(e), [CA, CC]);
  await ack(x, e);
  const y = delta('eds-y');
  const ye = await ask(y, { type_url: TYPE.endpoint, resource_names_subscribe: [CB] });
  assert.deepEqual(names(ye), [CB]);
  await ack(y, ye);
  const yPushes = syncOf('eds-y', TYPE.endpoint).pushes;
  const xClusterPushes = syncOf('eds-x', TYPE.cluster).pushes;

  put(slice('a', ['10.1.0.1', '10.1.0.7']));
  apply();
  const pushed = await x.next();
  assert.equal(pushed.type_url, TYPE.endpoint);
  assert.deepEqual(names(pushed), [CA], 'c did not change: not resent');
  assert.deepEqual(addresses(pushed), ['10.1.0.1', '10.1.0.7']);
  assert.notEqual(pushed.resources[0]!.version, e.resources.find((r) => r.name === CA)!.version);
  assert.notEqual(pushed.system_version_info, e.system_version_info);
  assert.notEqual(pushed.nonce, e.nonce);
  // The server writes a snapshot's responses synchronously: once EDS is in, its counts are final.
  assert.equal(syncOf('eds-x', TYPE.cluster).pushes, xClusterPushes, 'CDS is not resent');
  assert.equal(syncOf('eds-y', TYPE.endpoint).pushes, yPushes, 'a stream subscribed to another cluster gets nothing');
  await ack(x, pushed);
  assert.equal(typeState(syncOf('eds-x', TYPE.endpoint)), 'SYNCED');
});

test('deleting a Service sends removed_resources (to wildcard and named subscribers); a missing name is reported removed', async () => {
  const w = delta('rm-wild');
  await ack(w, await ask(w, { type_url: TYPE.cluster }));
  const n = delta('rm-named');
  const e = await ask(n, { type_url: TYPE.endpoint, resource_names_subscribe: [CB, 'outbound|1||nope.shop.svc.cluster.local'] });
  assert.deepEqual(names(e), [CB]);
  assert.deepEqual(e.removed_resources, ['outbound|1||nope.shop.svc.cluster.local'], 'a subscribed name that does not exist');
  await ack(n, e);
  const nPushes = syncOf('rm-named', TYPE.endpoint).pushes;

  objects.delete('Service/b');
  objects.delete('EndpointSlice/b-0');
  apply(true);
  const wr = await w.next();
  assert.deepEqual([wr.type_url, wr.resources, wr.removed_resources], [TYPE.cluster, [], [CB]]);
  const nr = await n.next();
  assert.deepEqual([nr.type_url, nr.resources, nr.removed_resources], [TYPE.endpoint, [], [CB]]);
  assert.equal(syncOf('rm-named', TYPE.endpoint).pushes, nPushes + 1, 'one response for the removal');
  await ack(w, wr);
  await ack(n, nr);

  put(svc('b'));
  put(slice('b', ['10.1.0.2']));
  apply(true);
  assert.deepEqual(names(await w.next()), [CB], 'it comes back when it reappears');
  assert.deepEqual(names(await n.next()), [CB]);
});

test('unsubscribing stops updates; subscribing again resends the resource', async () => {
  const s = delta('unsub');
  const e = await ask(s, { type_url: TYPE.endpoint, resource_names_subscribe: [CA, CC] });
  await ack(s, e);
  const sent = syncOf('unsub', TYPE.endpoint).pushes;
  s.send({ type_url: TYPE.endpoint, resource_names_unsubscribe: [CA] });
  // The server handles a request in one go: once the names changed, any response was written.
  await until(() => syncOf('unsub', TYPE.endpoint).names.join() === CC, 'the unsubscribe is handled');
  assert.equal(syncOf('unsub', TYPE.endpoint).pushes, sent, 'an unsubscribe gets no response');
  const gen = cp.syncz().generation;
  put(slice('a', ['10.1.0.8']));
  apply();
  cp.flush(); // apply the endpoint change now rather than on the 10 ms interval
  assert.equal(cp.syncz().generation, gen + 1, 'the change was applied');
  assert.equal(syncOf('unsub', TYPE.endpoint).pushes, sent, 'no update for an unsubscribed resource');
  const again = await ask(s, { type_url: TYPE.endpoint, resource_names_subscribe: [CA, CC] });
  assert.deepEqual(names(again), [CA, CC], 'resources named in resource_names_subscribe are always sent');
  assert.deepEqual(addresses(again).sort(), ['10.1.0.3', '10.1.0.8']);
});

test('a reconnect with initial_resource_versions gets only what differs', async () => {
  const s1 = delta('reconnect');
  const r1 = await ask(s1, { type_url: TYPE.cluster });
  await ack(s1, r1);
  s1.call.cancel();
  const held = Object.fromEntries(r1.resources.map((x) => [x.name, x.version]));
  put(svc('a', { 'mesh.dev/circuit-breaker': '{"maxRequests":7}' }));
  apply(true);

  const s2 = delta('reconnect');
  const r2 = await ask(s2, { type_url: TYPE.cluster, initial_resource_versions: { ...held, 'outbound|1||gone.shop.svc.cluster.local': 'abc' } });
  assert.deepEqual(names(r2), [CA], 'only the cluster that changed while disconnected');
  assert.equal((decodeResource(TYPE.cluster, r2.resources[0]!.resource.value) as any).circuit_breakers.thresholds[0].max_requests.value, 7);
  assert.deepEqual(r2.removed_resources, ['outbound|1||gone.shop.svc.cluster.local'], 'what the proxy holds and no longer exists');
  await ack(s2, r2);

  const s3 = delta('reconnect');
  const r3 = await ask(s3, { type_url: TYPE.cluster, initial_resource_versions: { ...held, [CA]: r2.resources[0]!.version } });
  assert.deepEqual([r3.resources, r3.removed_resources], [[], []], 'all current: an empty first response, with a version and nonce to ACK');
  put(svc('a'));
  apply(true);
});

test('NACK: recorded with its error (as SotW records it), counted, nothing resent, the last good version kept; the next change is pushed', async () => {
  const s = delta('nack');
  const r1 = await ask(s, { type_url: TYPE.endpoint, resource_names_subscribe: [CA] });
  await ack(s, r1);
  put(slice('a', ['10.1.0.20']));
  apply();
  const r2 = await s.next();
  const sent = syncOf('nack', TYPE.endpoint).pushes;
  const nacked = recorded(cp, 'nack', 'nack', TYPE.endpoint);
  s.send({ type_url: TYPE.endpoint, response_nonce: r2.nonce, error_detail: { code: 3, message: 'endpoint rejected' } });
  await nacked;
  assert.equal(syncOf('nack', TYPE.endpoint).pushes, sent, 'no resend after a NACK');
  const st = syncOf('nack', TYPE.endpoint);
  assert.equal(st.ackedVersion, r1.system_version_info, 'the proxy still holds the last good version');
  assert.deepEqual([st.lastNack!.version, st.lastNack!.nonce, st.lastNack!.message], [r2.system_version_info, r2.nonce, 'endpoint rejected']);
  assert.equal(typeState(st), 'NACKED');
  const nacks = await cp.metrics.nacks.get();
  assert.ok(nacks.values.some((v) => v.labels.type === 'ClusterLoadAssignment' && v.value >= 1));
  put(slice('a', ['10.1.0.21']));
  apply();
  const r3 = await s.next();
  assert.deepEqual(addresses(r3), ['10.1.0.21']);
  await ack(s, r3);
  assert.equal(typeState(syncOf('nack', TYPE.endpoint)), 'SYNCED');
});

test('a delta stream without node.id is refused', async () => {
  const s = new DeltaAdsClient(cp.ads.serviceDefinition(), port, '', {});
  open.push(s.call);
  s.call.removeAllListeners('error');
  const failed = once(s.call, 'error');
  s.call.write({ type_url: TYPE.cluster });
  const [err] = (await failed) as [grpc.ServiceError];
  assert.match(err.message, /DeltaDiscoveryRequest.*node\.id/);
});

test('SDS on a delta TLS stream with a ServiceAccount token: default and ROOTCA, as on SotW', async () => {
  const kube = await startApiServer({ seed: [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'web', namespace: 'shop' } },
    { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: 'shop' }, spec: { serviceAccountName: 'web', containers: [{ name: 'web', image: 'web' }] }, status: { phase: 'Running' } },
  ] });
  const root = await generateRoot({ trustDomain: 'cluster.local' });
  const ca = await CertificateAuthority.create(root, { trustDomain: 'cluster.local', reviewer: clusterReviewer(connectLive({ kubeconfig: kube.kubeconfigPath })) });
  const pod: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: 'shop' }, spec: { serviceAccountName: 'web', containers: [] }, status: { podIP: '10.1.0.9' } };
  const sdsCp = new ControlPlane({ source: new MemorySource([...objects.values(), pod]), identity: { ca: () => ca, checkIntervalMs: 0 } });
  const plainPort = await sdsCp.start({ host: '127.0.0.1', port: 0 });
  const { server, port: tlsPort } = await startTlsAds(sdsCp, ca);
  try {
    const tr = await kube.request('POST', '/api/v1/namespaces/shop/serviceaccounts/web/token', {
      body: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: [TOKEN_AUDIENCE], expirationSeconds: 3600, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'web-1' } } }),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(tr.status, 201, tr.body);
    const md = { NAMESPACE: 'shop', POD_NAME: 'web-1', PROXY_KIND: 'sidecar' };
    const s = new DeltaAdsClient(sdsCp.ads.serviceDefinition(), tlsPort, 'web-1.shop', md, { token: tr.json.status.token as string, rootPem: root.certPem, userAgent: 'envoy' });
    open.push(s.call);
    s.send({ type_url: TYPE.secret, resource_names_subscribe: ['default', 'ROOTCA'] });
    const r = await s.next();
    assert.equal(r.type_url, TYPE.secret);
    assert.deepEqual(names(r), ['ROOTCA', 'default']);
    const secrets = Object.fromEntries(r.resources.map((x) => [x.name, decodeResource(TYPE.secret, x.resource.value) as any]));
    assert.match(secrets.default.tls_certificate.private_key.inline_string, /BEGIN PRIVATE KEY/);
    assert.equal(secrets.ROOTCA.validation_context.trusted_ca.inline_string, ca.trustBundlePem());
    for (const x of r.resources) assert.deepEqual(strictCheck('envoy.extensions.transport_sockets.tls.v3.Secret', decodeResource(TYPE.secret, x.resource.value)), []);
    const acked = once(sdsCp.ads, 'ack', { signal: AbortSignal.timeout(60_000) });
    s.ack(r);
    await acked;
    const stream = sdsCp.syncz().proxies.find((p) => p.id === 'web-1.shop')!.streams[0]!;
    assert.equal(stream.mode, 'delta');
    assert.equal(stream.identity?.authenticated, true);
    assert.equal(stream.identity?.spiffeId, 'spiffe://cluster.local/ns/shop/sa/web');
    assert.equal(typeState(stream.types[TYPE.secret]), 'SYNCED');
    assert.doesNotMatch(JSON.stringify(sdsCp.syncz()), /PRIVATE KEY/);
    assert.doesNotMatch(JSON.stringify(r.resources.map((x) => x.version)), /PRIVATE/);

    // The same rules as SotW: the same token on the plaintext port gets no key material, and syncz says why.
    const plain = new DeltaAdsClient(sdsCp.ads.serviceDefinition(), plainPort, 'web-1-plain.shop', md, { token: tr.json.status.token as string, userAgent: 'envoy' });
    open.push(plain.call);
    plain.send({ type_url: TYPE.secret, resource_names_subscribe: ['default', 'ROOTCA'] });
    const refused = await plain.next();
    assert.deepEqual([refused.resources, refused.removed_resources.sort()], [[], ['ROOTCA', 'default']]);
    const id = sdsCp.syncz().proxies.find((p) => p.id === 'web-1-plain.shop')!.streams[0]!.identity!;
    assert.equal(id.authenticated, false);
    assert.match(id.reason ?? '', /plaintext/);
  } finally {
    server.forceShutdown();
    await sdsCp.stop();
    await kube.stop();
  }
});

test('mesh proxy-status reads a delta stream from /debug/syncz: SYNCED after ACK', async () => {
  const { server, port: introPort } = await startIntrospection(cp, { host: '127.0.0.1', port: 0 });
  try {
    const s = delta('web-9.shop', { NAMESPACE: 'shop', POD_NAME: 'web-9', PROXY_KIND: 'grpc' });
    await ack(s, await ask(s, { type_url: TYPE.cluster }));
    const e = await ask(s, { type_url: TYPE.endpoint, resource_names_subscribe: [CA] });
    const kube = fakeCluster([
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'mesh-controller-0', namespace: 'mesh-system', labels: { 'app.kubernetes.io/name': 'mesh-controller' } }, status: { phase: 'Running' } },
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-9', namespace: 'shop', labels: { 'mesh.dev/proxy-version': '0.1.0' } }, spec: { containers: [] }, status: { phase: 'Running' } },
    ], async (_t, path) => {
      const res = await fetch(`http://127.0.0.1:${introPort}${path}`);
      return { status: res.status, body: await res.text() };
    });
    const before = await collectProxyStatus(kube, { pod: 'web-9.shop', output: 'json', controller: DEFAULT_CONTROLLER });
    assert.deepEqual(before.proxies[0]?.types, { CDS: 'SYNCED', LDS: '-', EDS: 'STALE', RDS: '-', SDS: '-' });
    await ack(s, e);
    const r = await collectProxyStatus(kube, { pod: 'web-9.shop', output: 'json', controller: DEFAULT_CONTROLLER });
    assert.deepEqual({ ...r.proxies[0], snapshotVersion: undefined }, { name: 'web-9.shop', id: 'web-9.shop', namespace: 'shop', pod: 'web-9', kind: 'grpc', controller: 'mesh-controller-0', connected: true, types: { CDS: 'SYNCED', LDS: '-', EDS: 'SYNCED', RDS: '-', SDS: '-' }, snapshotVersion: undefined, nack: null });
  } finally {
    await new Promise((r) => server.close(r));
  }
});

/** The delta protocol of one stream over a fake context: responses are collected, snapshots set by the test. */
function fakeStream(current: () => Snapshot): { request(r: DeltaDiscoveryRequest): DeltaDiscoveryResponse[]; snapshot(s: Snapshot): DeltaDiscoveryResponse[] } {
  const status: StreamStatus = { streamId: 1, mode: 'delta', node: { id: 'n', kind: 'grpc' }, connectedAt: '', types: {} };
  let nonce = 0;
  let out: DeltaDiscoveryResponse[] = [];
  const ctx: StreamContext = {
    status, identifier: 'test', closed: () => false, snapshot: current,
    view: (snap, t) => snap?.types[t as keyof Snapshot['types']],
    ownSecrets: () => false, wantSecrets: () => undefined, nonce: () => String(++nonce),
    sent: (_t, st, version, n) => Object.assign(st, { sentVersion: version, sentNonce: n, pushes: st.pushes + 1 }),
    ack: (_t, st, version) => Object.assign(st, { ackedVersion: version }),
    nack: () => undefined,
  };
  const p = deltaProtocol(ctx, (r) => out.push(r));
  const take = (): DeltaDiscoveryResponse[] => [out, (out = [])][0]!;
  return { request: (r) => (p.request(r), take()), snapshot: (snap) => (p.snapshot(snap), take()) };
}

test('property: a delta client that applies every response holds exactly its subscribed resources, and is sent only what it lacks', () => {
  const NAMES = ['c0', 'c1', 'c2', 'c3', 'c4'];
  const content = fc.dictionary(fc.constantFrom(...NAMES), fc.integer({ min: 1, max: 3 }));
  const snapOf = (c: Record<string, number>, v: number): Snapshot => makeSnapshot(String(v), { [TYPE.endpoint]: Object.fromEntries(Object.entries(c).map(([n, k]) => [n, { cluster_name: n, endpoints: [{ lb_endpoints: Array.from({ length: k }, (_, i) => ({ endpoint: { address: { socket_address: { address: `10.0.0.${i}`, port_value: 80 } } } })) }] }])) } as unknown as Resources);
  const names = fc.uniqueArray(fc.constantFrom(...NAMES, '*'), { maxLength: 3 });
  const op = fc.oneof(
    fc.record({ kind: fc.constant('snap' as const), c: content }),
    fc.record({ kind: fc.constant('sub' as const), names }),
    fc.record({ kind: fc.constant('unsub' as const), names }),
    fc.record({ kind: fc.constant('reconnect' as const) }),
  );
  fc.assert(fc.property(content, fc.boolean(), fc.array(op, { maxLength: 12 }), (c0, wildcardFirst, ops) => {
    let v = 0;
    let snap = snapOf(c0, v);
    let stream = fakeStream(() => snap);
    // The client: what it subscribed to and holds (name -> [version, bytes]).
    let wildcard = wildcardFirst;
    const explicit = new Set<string>(wildcardFirst ? [] : ['c0', 'c1']);
    const held = new Map<string, [string, string]>();
    // Whether the client has sent a request for the type on this stream (it sends none while it wants nothing).
    let opened = true;
    const wanted = (n: string): boolean => wildcard || explicit.has(n);
    const bytes = (n: string): string | undefined => {
      const r = snap.types[TYPE.endpoint].resources.get(n);
      return r && Buffer.from(r.any.value).toString('hex');
    };
    const lacking = (): string[] => NAMES.filter((n) => wanted(n) && bytes(n) !== undefined && held.get(n)?.[1] !== bytes(n));
    const apply = (rs: DeltaDiscoveryResponse[]): string[] => {
      const sent: string[] = [];
      for (const r of rs) {
        for (const x of r.resources) {
          held.set(x.name, [x.version, Buffer.from(x.resource.value).toString('hex')]);
          sent.push(x.name);
        }
        for (const n of r.removed_resources) held.delete(n);
        stream.request({ type_url: TYPE.endpoint, response_nonce: r.nonce });
      }
      return sent.sort();
    };
    apply(stream.request({ type_url: TYPE.endpoint, resource_names_subscribe: [...explicit] }));
    for (const o of ops) {
      if (o.kind === 'snap') {
        snap = snapOf(o.c, ++v);
        const expect = lacking();
        assert.deepEqual(apply(stream.snapshot(snap)), expect, 'a snapshot change sends exactly the subscribed resources the client lacks');
      } else if (o.kind === 'sub') {
        for (const n of o.names) if (n === '*') wildcard = true; else explicit.add(n);
        if (opened || o.names.length) apply(stream.request({ type_url: TYPE.endpoint, resource_names_subscribe: o.names }));
        opened ||= o.names.length > 0;
      } else if (o.kind === 'unsub') {
        for (const n of o.names) if (n === '*') wildcard = false; else explicit.delete(n);
        for (const n of [...held.keys()]) if (!wanted(n)) held.delete(n); // the client forgets what it no longer wants
        if (opened) apply(stream.request({ type_url: TYPE.endpoint, resource_names_unsubscribe: o.names }));
      } else {
        stream = fakeStream(() => snap);
        const expect = lacking();
        const subscribe = wildcard && !explicit.size ? [] : [...(wildcard ? ['*'] : []), ...explicit];
        opened = wildcard || explicit.size > 0;
        const sent = !opened ? [] : apply(stream.request({ type_url: TYPE.endpoint, resource_names_subscribe: subscribe, initial_resource_versions: Object.fromEntries([...held].map(([n, [ver]]) => [n, ver])) }));
        assert.deepEqual(sent, expect, 'a reconnect sends only what the client does not hold at the current version');
      }
      const expected = NAMES.filter((n) => wanted(n) && bytes(n) !== undefined);
      assert.deepEqual([...held.keys()].sort(), expected, `after ${o.kind}: the client holds exactly its subscribed resources that exist`);
      for (const n of expected) assert.equal(held.get(n)![1], bytes(n), `${n} at the current bytes`);
    }
  }), { numRuns: 300 });
});
