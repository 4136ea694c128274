// SDS on the ADS stream, as an Envoy sidecar would use it: a TLS stream to the controller that
// trusts the mesh root, node metadata NAMESPACE/POD_NAME, and the pod's projected ServiceAccount
// token as "authorization: Bearer" metadata. The test API server reviews the tokens.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { MemorySource } from '../../src/cluster/source.ts';
import { ControlPlane } from '../../src/controller/controlplane.ts';
import { FILES_SOURCE_NO_SDS } from '../../src/controller/identity.ts';
import { clusterReviewer, NO_REVIEWER } from '../../src/controller/setup.ts';
import { connectLive } from '../../src/cluster/live.ts';
import type { KubeObject } from '../../src/cluster/types.ts';
import { TOKEN_AUDIENCE } from '../../src/constants.ts';
import { CertificateAuthority, generateRoot, type CertAndKey } from '../../src/pki/index.ts';
import type { DiscoveryRequest, DiscoveryResponse } from '../../src/xds/ads.ts';
import { AdsStream, secretsOf, startTlsAds } from './sds-support.ts';
import { parseSyncz } from '../../src/checks/syncz.ts';
import { TYPE } from '../../src/xds/protos.ts';
import { startApiServer, type TestCluster } from '../support/kube.ts';

const HOUR = 3_600_000;
let now = Date.now();
const clock = (): Date => new Date(now);

let kube: TestCluster;
let root: CertAndKey;
let ca: CertificateAuthority;
let source: MemorySource;
let cp: ControlPlane;
let tlsServer: grpc.Server;
let tlsPort: number;
let plainPort: number;
const logs: string[] = [];
const open: grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse>[] = [];

const pod = (name: string, ns = 'shop', sa = 'web'): KubeObject => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, labels: { app: 'web' } }, spec: { serviceAccountName: sa, containers: [{ name: 'web', image: 'web' }] }, status: { phase: 'Running', podIP: '10.1.0.9' },
});
const objects = (pods: KubeObject[]): KubeObject[] => [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'catalog', namespace: 'shop' }, spec: { clusterIP: '10.96.0.7', ports: [{ name: 'http', port: 80, targetPort: 8080 }] } },
  ...pods,
];

/** A sidecar's stream to the TLS port (or, with tls: false, the plaintext one). */
function stream(nodeId: string, meta: { namespace: string; pod: string }, opts: { token?: string; tls?: boolean } = {}): AdsStream {
  const tls = opts.tls ?? true;
  const s = new AdsStream(cp, tls ? tlsPort : plainPort, nodeId, meta, { token: opts.token, rootPem: tls ? root.certPem : undefined });
  open.push(s.call);
  return s;
}

/** A bound token through the real TokenRequest API (audience mesh-ca unless given). */
async function boundToken(sa: string, podName: string, audiences = [TOKEN_AUDIENCE], ns = 'shop'): Promise<string> {
  const r = await kube.request('POST', `/api/v1/namespaces/${ns}/serviceaccounts/${sa}/token`, {
    body: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences, expirationSeconds: 3600, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: podName } } }),
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(r.status, 201, r.body);
  return r.json.status.token as string;
}

/**
 * SDS responses the server has written on the node's stream. The server writes synchronously
 * when secrets change, so once sweep() or a NACK event resolves this count is final: "nothing was
 * pushed" is checked here, not by waiting a while for a response that should not come.
 */
function secretPushes(nodeId: string): number {
  const p = cp.syncz().proxies.find((x) => x.id === nodeId);
  return p?.streams[p.streams.length - 1]?.types[TYPE.secret]?.pushes ?? 0;
}

function streamIdentity(nodeId: string): any {
  const p = cp.syncz().proxies.find((x) => x.id === nodeId);
  return p?.streams[p.streams.length - 1]?.identity;
}

before(async () => {
  kube = await startApiServer({ seed: [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'billing' } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'web', namespace: 'shop' } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'api', namespace: 'billing' } },
    pod('web-1'), pod('web-2'), pod('web-3'), pod('api-1', 'billing', 'api'),
  ] });
  root = await generateRoot({ trustDomain: 'cluster.local' });
  now = Date.now();
  ca = await CertificateAuthority.create(root, { trustDomain: 'cluster.local', reviewer: clusterReviewer(connectLive({ kubeconfig: kube.kubeconfigPath })), clock, workloadTtl: '24h' });
  source = new MemorySource(objects([pod('web-1'), pod('web-2'), pod('web-3')]));
  cp = new ControlPlane({ source, debounceMs: 10, identity: { ca: () => ca, clock, checkIntervalMs: 0 }, log: (l) => logs.push(l) });
  plainPort = await cp.start({ host: '127.0.0.1', port: 0 });
  // The TLS port: the same AdsServer on a second gRPC server (the controller's --xds-tls-port).
  ({ server: tlsServer, port: tlsPort } = await startTlsAds(cp, ca));
});

after(async () => {
  for (const c of open) c.cancel();
  tlsServer?.forceShutdown();
  await cp?.stop();
  await kube?.stop();
});

function assertNoKeyMaterial(): void {
  const texts = [JSON.stringify(cp.syncz()), ...cp.cache.nodes().map((n) => JSON.stringify(cp.configDump(n))), logs.join('\n')];
  for (const t of texts) assert.doesNotMatch(t, /PRIVATE KEY/);
}

test('the test API server: a bound token reviews with its pod name and uid; deleting the pod invalidates it', async () => {
  const token = await boundToken('web', 'web-3');
  const review = clusterReviewer(connectLive({ kubeconfig: kube.kubeconfigPath }));
  const r = await review.tokenReview(token, [TOKEN_AUDIENCE]);
  assert.equal(r.authenticated, true);
  const podObj = (await kube.request('GET', '/api/v1/namespaces/shop/pods/web-3')).json;
  assert.deepEqual(r.extra?.['authentication.kubernetes.io/pod-name'], ['web-3']);
  assert.deepEqual(r.extra?.['authentication.kubernetes.io/pod-uid'], [podObj.metadata.uid]);
  assert.deepEqual(await ca.authenticate(token), { namespace: 'shop', serviceAccount: 'web', pod: { name: 'web-3', uid: podObj.metadata.uid } });
  const missing = await kube.request('POST', '/api/v1/namespaces/shop/serviceaccounts/web/token', { body: JSON.stringify({ spec: { audiences: [TOKEN_AUDIENCE], boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'nope' } } }) });
  assert.equal(missing.status, 400);
  assert.equal((await kube.request('DELETE', '/api/v1/namespaces/shop/pods/web-3')).status, 200);
  const gone = await review.tokenReview(token, [TOKEN_AUDIENCE]);
  assert.equal(gone.authenticated, false);
  assert.match(gone.error ?? '', /invalidated/);
});

test('an authenticated TLS stream gets default (its own key and a SPIFFE certificate chained to the root) and ROOTCA (the bundle); ACK recorded', async () => {
  const s = stream('web-1.shop', { namespace: 'shop', pod: 'web-1' }, { token: await boundToken('web', 'web-1') });
  const sds = await s.subscribe();
  const secrets = secretsOf(sds);
  assert.deepEqual(Object.keys(secrets).sort(), ['ROOTCA', 'default']);
  const chain = secrets.default.tls_certificate.certificate_chain.inline_string as string;
  const key = secrets.default.tls_certificate.private_key.inline_string as string;
  assert.match(key, /BEGIN PRIVATE KEY/);
  const leaf = new X509Certificate(chain);
  assert.equal(leaf.subjectAltName, 'URI:spiffe://cluster.local/ns/shop/sa/web');
  assert.ok(leaf.checkPrivateKey(createPrivateKey(key)), 'the key belongs to the certificate');
  const rootCert = new X509Certificate(root.certPem);
  assert.ok(leaf.verify(rootCert.publicKey), 'signed by the root');
  assert.equal(secrets.ROOTCA.validation_context.trusted_ca.inline_string, ca.trustBundlePem());
  await s.ack(sds);
  const id = streamIdentity('web-1.shop');
  assert.equal(id.authenticated, true);
  assert.equal(id.transport, 'tls');
  assert.equal(id.spiffeId, 'spiffe://cluster.local/ns/shop/sa/web');
  assert.equal(id.pod, 'web-1');
  assert.equal(id.certificate.serial, leaf.serialNumber.toLowerCase());
  assert.equal(id.certificate.notAfter, new Date(leaf.validTo).toISOString());
  const proxy = cp.syncz().proxies.find((p) => p.id === 'web-1.shop')!;
  assert.equal(proxy.certificate?.serial, id.certificate.serial);
  assert.equal(proxy.streams[0]!.types[TYPE.secret]!.ackedVersion, sds.version_info);
  // What `mesh check` (identity.proxy-certificates) reads from this very document.
  const parsed = parseSyncz(JSON.stringify(cp.syncz()), 'mesh-controller-0').find((p) => p.pod === 'web-1');
  assert.deepEqual(parsed?.certificate, { serial: id.certificate.serial, notBefore: id.certificate.notBefore, notAfter: id.certificate.notAfter, spiffeId: id.spiffeId, renewing: true });
  // config_dump: the certificate, no key.
  const dump = JSON.stringify(cp.configDump('web-1.shop'));
  assert.ok(dump.includes(JSON.stringify(chain).slice(1, 60)), 'config_dump carries the certificate');
  assert.match(dump, /"private_key": ?"\[redacted\]"/);
  assertNoKeyMaterial();
  const metrics = await cp.metrics.registry.metrics();
  assert.doesNotMatch(metrics, /PRIVATE KEY/);
  assert.match(metrics, /mesh_sds_certificates_issued_total\{kind="first"\} 1\n/);
});

test('no secrets without TLS and a reviewed token that matches the node: the reason is in syncz', async () => {
  const cases: { name: string; node: { namespace: string; pod: string }; token?: () => Promise<string>; tls?: boolean; reason: RegExp }[] = [
    { name: 'no-token', node: { namespace: 'shop', pod: 'web-2' }, reason: /no ServiceAccount token/ },
    { name: 'wrong-audience', node: { namespace: 'shop', pod: 'web-2' }, token: () => boundToken('web', 'web-2', ['https://kubernetes.default.svc.cluster.local']), reason: /unauthenticated: .*audiences? .*mesh-ca/ },
    { name: 'unknown-token', node: { namespace: 'shop', pod: 'web-2' }, token: async () => 'not-a-token-at-all-0123456789', reason: /unauthenticated: the ServiceAccount token was rejected/ },
    { name: 'namespace-mismatch', node: { namespace: 'shop', pod: 'api-1' }, token: () => boundToken('api', 'api-1', [TOKEN_AUDIENCE], 'billing'), reason: /claims namespace "shop" but its token is for namespace "billing"/ },
    { name: 'pod-mismatch', node: { namespace: 'shop', pod: 'web-1' }, token: () => boundToken('web', 'web-2'), reason: /claims pod "web-1" but its token is bound to pod "web-2"/ },
    { name: 'plaintext', node: { namespace: 'shop', pod: 'web-2' }, token: () => boundToken('web', 'web-2'), tls: false, reason: /plaintext stream/ },
  ];
  for (const c of cases) {
    const token = c.token ? await c.token() : undefined;
    const s = stream(`${c.name}.shop`, c.node, { token, tls: c.tls });
    const sds = await s.subscribe();
    assert.equal(sds.resources.length, 0, `${c.name}: no Secret resources`);
    await s.ack(sds);
    const id = streamIdentity(`${c.name}.shop`);
    assert.equal(id.authenticated, false, c.name);
    assert.match(id.reason, c.reason, c.name);
    assert.equal(id.certificate, undefined, c.name);
    if (token) assert.ok(!JSON.stringify(cp.syncz()).includes(token) && !logs.join('\n').includes(token), `${c.name}: the token is never shown`);
  }
  assert.equal(streamIdentity('plaintext.shop').transport, 'plaintext');
  assert.match(await cp.metrics.registry.metrics(), new RegExp(`mesh_sds_streams_refused_total ${cases.length}\\n`));
  assertNoKeyMaterial();
});

test('rotation: at half its lifetime the certificate is re-issued and pushed on the same stream as a new version; a new root too', async () => {
  const s = stream('rotate.shop', { namespace: 'shop', pod: 'web-2' }, { token: await boundToken('web', 'web-2') });
  const first = await s.subscribe();
  await s.ack(first);
  const serial1 = streamIdentity('rotate.shop').certificate.serial;
  const pushed = secretPushes('rotate.shop');
  now += 11 * HOUR;
  await cp.identities!.sweep();
  assert.equal(secretPushes('rotate.shop'), pushed, 'not due before half the 24h lifetime');
  now += 2 * HOUR;
  await cp.identities!.sweep();
  const second = await s.next();
  assert.equal(second.type_url, TYPE.secret);
  assert.notEqual(second.version_info, first.version_info);
  const leaf = new X509Certificate(secretsOf(second).default.tls_certificate.certificate_chain.inline_string);
  assert.notEqual(leaf.serialNumber.toLowerCase(), serial1);
  assert.equal(new Date(leaf.validTo).getTime(), Math.floor((now + 24 * HOUR) / 1000) * 1000);
  await s.ack(second);
  const id = streamIdentity('rotate.shop');
  assert.equal(id.certificate.serial, leaf.serialNumber.toLowerCase());
  assert.equal(id.certificate.issued, 2);
  assert.match(await cp.metrics.registry.metrics(), /mesh_sds_certificates_issued_total\{kind="renewal"\} [1-9]\d*\n/);
  assert.equal(cp.syncz().proxies.find((p) => p.id === 'rotate.shop')!.streams[0]!.types[TYPE.secret]!.ackedVersion, second.version_info);

  // A new root beside the old: ROOTCA carries both, default is re-issued by the new root.
  const next = await generateRoot({ trustDomain: 'cluster.local', now: clock() });
  await ca.rotateRoot(next);
  await cp.identities!.sweep();
  const third = await s.next();
  const sec = secretsOf(third);
  assert.equal(sec.ROOTCA.validation_context.trusted_ca.inline_string.match(/BEGIN CERTIFICATE/g).length, 2);
  assert.ok(new X509Certificate(sec.default.tls_certificate.certificate_chain.inline_string).verify(new X509Certificate(next.certPem).publicKey));
  // A NACK of the new secrets is recorded like any other (the proxy keeps its last good ones) and nothing is resent.
  const nacked = once(cp.ads, 'nack');
  s.send({ type_url: TYPE.secret, response_nonce: third.nonce, version_info: second.version_info, resource_names: ['default', 'ROOTCA'], error_detail: { code: 3, message: 'bad certificate' } });
  const beforeNack = secretPushes('rotate.shop');
  await nacked;
  const st = cp.syncz().proxies.find((p) => p.id === 'rotate.shop')!.streams[0]!.types[TYPE.secret]!;
  assert.deepEqual([st.lastNack?.version, st.lastNack?.message, st.ackedVersion], [third.version_info, 'bad certificate', second.version_info]);
  assert.equal(secretPushes('rotate.shop'), beforeNack, 'a NACK is not answered with the same secrets');
});

test('a pod-bound identity whose pod was deleted is not renewed', async () => {
  const s = stream('gone.shop', { namespace: 'shop', pod: 'web-1' }, { token: await boundToken('web', 'web-1') });
  const first = await s.subscribe();
  await s.ack(first);
  source.set(objects([pod('web-2')]));
  cp.flush();
  const pushed = secretPushes('gone.shop');
  now += 13 * HOUR;
  await cp.identities!.sweep();
  assert.equal(secretPushes('gone.shop'), pushed, 'nothing pushed');
  const id = streamIdentity('gone.shop');
  assert.equal(id.certificate.renewing, false);
  assert.equal(id.certificate.issued, 1);
  assert.match(id.reason, /pod shop\/web-1 no longer exists: its certificate is not renewed/);
  source.set(objects([pod('web-1'), pod('web-2')]));
  cp.flush();
});

test('the files source cannot review tokens: no secrets, and syncz says why', async () => {
  // A CA of its own on the real clock (the shared one rotated its root in the rotation test).
  const filesCa = await CertificateAuthority.create(root, { trustDomain: 'cluster.local', reviewer: NO_REVIEWER });
  const files = new ControlPlane({ source: new MemorySource(objects([pod('web-1')])), identity: { ca: () => filesCa, disabled: FILES_SOURCE_NO_SDS, checkIntervalMs: 0 } });
  await files.start({ host: '127.0.0.1', port: 0 });
  const { server, port } = await startTlsAds(files, filesCa);
  try {
    const s = new AdsStream(files, port, 'files.shop', { namespace: 'shop', pod: 'web-1' }, { token: await boundToken('web', 'web-1'), rootPem: root.certPem });
    s.send({ type_url: TYPE.secret, resource_names: ['default', 'ROOTCA'] });
    const r = await s.next();
    assert.equal(r.resources.length, 0);
    const id = files.syncz().proxies[0]!.identity!;
    assert.equal(id.authenticated, false);
    assert.match(id.reason ?? '', /files source has no Kubernetes TokenReview/);
  } finally {
    server.forceShutdown();
    await files.stop();
  }
});
