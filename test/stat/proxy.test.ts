// proxy-status and proxy-config against the real control plane (src/controller) with a real
// @grpc/grpc-js-xds client connected over ADS; the controller's /debug endpoints are reached the
// way the CLI reaches them, through Cluster.proxyGet to the controller pod's port 15014.
import { captureUi } from '../support/ui.ts';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { MemorySource } from '../../src/cluster/source.ts';
import { ControlPlane } from '../../src/controller/controlplane.ts';
import { startIntrospection } from '../../src/controller/http.ts';
import { collectProxyStatus, runProxyStatus } from '../../src/status/proxy-status.ts';
import { runProxyConfig, secretViews, validateProxyConfigOptions } from '../../src/status/proxy-config.ts';
import { DEFAULT_CONTROLLER, typeState } from '../../src/status/controller-debug.ts';
import type { MeshError } from '../../src/errors.ts';
import type { ProxyResponse } from '../../src/cluster/types.ts';
import { fakeCluster } from './support/fake-cluster.ts';
import { slices, startBackend, svc, waitForAck, who, xdsClient, type Backend } from '../xds/support.ts';

let backend: Backend;
let cp: ControlPlane;
let intro: Server;
let introPort: number;
let client: grpc.Client;
const NODE = 'grpc~127.0.0.1~web-1.shop~shop.svc.cluster.local';

const controllerPod = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'mesh-system', labels: { 'app.kubernetes.io/name': 'mesh-controller' } }, status: { phase: 'Running' } });
const appPod = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'shop', labels: { app: 'web', 'mesh.dev/proxy-version': '0.1.0' } }, spec: { containers: [] }, status: { phase: 'Running' } });

/** Objects in the "cluster": two controller replicas (the second one broken), two meshed pods. */
function cluster(replica2: (path: string) => ProxyResponse = () => ({ status: 503, body: 'connection refused' }), extra: Record<string, unknown>[] = []) {
  return fakeCluster([controllerPod('mesh-controller-a'), controllerPod('mesh-controller-b'), appPod('web-1'), appPod('web-2'), ...extra], async (t, path) => {
    assert.equal(t.namespace, 'mesh-system');
    assert.equal(t.port, 15014);
    if (t.pod === 'mesh-controller-b') return replica2(path);
    const res = await fetch(`http://127.0.0.1:${introPort}${path}`);
    return { status: res.status, body: await res.text() };
  });
}

function io() {
  const c = captureUi({ yes: true });
  return { ui: c.ui, s: { get stdout() { return c.out(); }, get stderr() { return c.err(); } } };
}

before(async () => {
  backend = await startBackend('catalog');
  cp = new ControlPlane({ source: new MemorySource([svc('shop', 'catalog'), ...slices('shop', 'catalog', [backend])]), debounceMs: 10 });
  const adsPort = await cp.start({ host: '127.0.0.1', port: 0 });
  ({ server: intro, port: introPort } = await startIntrospection(cp, { host: '127.0.0.1', port: 0 }));
  // A proxyless gRPC client standing in for pod web-1 (an Istio-style node ID names pod and namespace).
  const bootstrap = { xds_servers: [{ server_uri: `127.0.0.1:${adsPort}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }], node: { id: NODE, locality: {}, metadata: { NAMESPACE: 'shop', POD_NAME: 'web-1', PROXY_KIND: 'grpc' } } };
  client = new (xdsClient('catalog.shop.svc.cluster.local:8080', adsPort, 'x', 'shop').constructor as typeof grpc.Client)('xds:///catalog.shop.svc.cluster.local:8080', grpc.credentials.createInsecure(), { 'grpc.TEST_ONLY_DO_NOT_USE_IN_PROD.xds_bootstrap_config': JSON.stringify(bootstrap) });
  assert.equal((await who(client, { deadlineMs: 30_000 })).name, 'catalog');
  await waitForAck(cp, NODE, 30_000);
}, { timeout: 60_000 });

after(async () => {
  client?.close();
  await new Promise((r) => intro?.close(r));
  await cp?.stop();
  await backend?.stop();
});

test('proxy-status: the connected client is SYNCED on its replica; an unconnected meshed pod is NOT CONNECTED; a dead replica is a warning', async () => {
  const { ui, s } = io();
  assert.equal(await runProxyStatus({ output: 'table', controller: DEFAULT_CONTROLLER }, ui, cluster()), 0);
  const lines = s.stdout.trim().split('\n');
  assert.match(lines[0]!, /^NAME\s+CONTROLLER\s+CDS\s+LDS\s+EDS\s+RDS\s+SDS$/);
  assert.match(lines.find((l) => l.startsWith('web-1.shop'))!, /^web-1\.shop\s+mesh-controller-a\s+SYNCED\s+SYNCED\s+SYNCED\s+SYNCED\s+-$/);
  assert.match(lines.find((l) => l.startsWith('web-2.shop'))!, /^web-2\.shop\s+NOT CONNECTED\s+-\s+-\s+-\s+-\s+-$/);
  assert.match(s.stderr, /controller replica mesh-controller-b did not answer \/debug\/syncz: HTTP 503/);
});

test('proxy-status POD -o json: one proxy with its replica and per-type state', async () => {
  const r = await collectProxyStatus(cluster(), { pod: 'web-1.shop', output: 'json', controller: DEFAULT_CONTROLLER });
  assert.equal(r.proxies.length, 1);
  assert.deepEqual({ ...r.proxies[0], snapshotVersion: undefined }, { name: 'web-1.shop', id: NODE, namespace: 'shop', pod: 'web-1', kind: 'grpc', controller: 'mesh-controller-a', connected: true, types: { CDS: 'SYNCED', LDS: 'SYNCED', EDS: 'SYNCED', RDS: 'SYNCED', SDS: '-' }, snapshotVersion: undefined, nack: null });
  assert.deepEqual(r.controllers.map((c) => [c.pod, c.reachable]), [['mesh-controller-a', true], ['mesh-controller-b', false]]);
});

test('proxy-status: 403 on the controller pod proxy is exit 3 naming pods/proxy in mesh-system; all replicas down is "controller unreachable"', async () => {
  const forbidden = fakeCluster([controllerPod('mesh-controller-a')], () => ({ status: 403, body: '{"kind":"Status","message":"forbidden"}' }));
  await assert.rejects(collectProxyStatus(forbidden, { output: 'table', controller: DEFAULT_CONTROLLER }), (e: MeshError) => e.exitCode === 3 && /"get" on "pods\/proxy" in namespace mesh-system/.test(e.message));
  const down = fakeCluster([controllerPod('mesh-controller-a')], () => ({ status: 503, body: 'connection refused' }));
  await assert.rejects(collectProxyStatus(down, { output: 'table', controller: DEFAULT_CONTROLLER }), (e: MeshError) => /controller unreachable/.test(e.message) && /15014/.test(e.hint ?? ''));
  const none = fakeCluster([], () => ({ status: 500, body: '' }));
  await assert.rejects(collectProxyStatus(none, { output: 'table', controller: DEFAULT_CONTROLLER }), (e: MeshError) => /no running mesh-controller pods in namespace mesh-system/.test(e.message) && /mesh install/.test(e.hint ?? ''));
});

test('typeState: SYNCED, STALE, NACKED (only while the NACKed push is the latest), NOT SENT, not subscribed', () => {
  const base = { names: [], wildcard: true, pushes: 1 };
  assert.equal(typeState(undefined), '-');
  assert.equal(typeState({ ...base, pushes: 0 }), 'NOT SENT');
  assert.equal(typeState({ ...base, sentVersion: '3', sentNonce: 'n3', ackedVersion: '3' }), 'SYNCED');
  assert.equal(typeState({ ...base, sentVersion: '4', sentNonce: 'n4', ackedVersion: '3' }), 'STALE');
  assert.equal(typeState({ ...base, sentVersion: '4', sentNonce: 'n4', ackedVersion: '3', lastNack: { version: '4', nonce: 'n4', message: 'bad route', at: '' } }), 'NACKED');
  assert.equal(typeState({ ...base, sentVersion: '5', sentNonce: 'n5', ackedVersion: '5', lastNack: { version: '4', nonce: 'n4', message: 'bad route', at: '' } }), 'SYNCED', 'a later push was ACKed');
});

test('proxy-status shows a NACK from a replica with its message', async () => {
  const nacked = { generation: 1, ready: true, proxies: [{ id: 'web-2-node', kind: 'sidecar', namespace: 'shop', pod: 'web-2', connected: true, snapshotVersion: '7', streams: [{ streamId: 1, node: { id: 'web-2-node', kind: 'sidecar' }, connectedAt: '', types: { 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration': { names: [], wildcard: true, pushes: 2, sentVersion: '7', sentNonce: 'b', ackedVersion: '6', lastNack: { version: '7', nonce: 'b', message: 'unknown cluster outbound|9||x', at: '' } } } }] }] };
  const { ui, s } = io();
  await runProxyStatus({ output: 'table', controller: DEFAULT_CONTROLLER }, ui, cluster(() => ({ status: 200, body: JSON.stringify(nacked) })));
  assert.match(s.stdout, /web-2\.shop\s+mesh-controller-b\s+-\s+-\s+-\s+NACKED\s+-/);
  assert.match(s.stderr, /web-2\.shop: RDS version 7 was NACKed: unknown cluster outbound\|9\|\|x/);
});

test('proxy-config cluster POD (live): the clusters the controller pushed to that proxy', async () => {
  const { ui, s } = io();
  const opts = validateProxyConfigOptions({ section: 'clusters', pod: 'web-1', namespace: 'shop', output: 'table' }, DEFAULT_CONTROLLER);
  assert.equal(await runProxyConfig(opts, ui, async () => cluster()), 0);
  assert.match(s.stdout, /^NAME\s+SERVICE FQDN\s+PORT\s+DIRECTION\s+TYPE\n/);
  assert.match(s.stdout, /outbound\|8080\|\|catalog\.shop\.svc\.cluster\.local\s+catalog\.shop\.svc\.cluster\.local\s+8080\s+outbound\s+EDS/);
  assert.match(s.stderr, /from controller replica mesh-controller-a, proxy grpc~127\.0\.0\.1~web-1\.shop/);
  const { ui: ui2, s: s2 } = io();
  await runProxyConfig(validateProxyConfigOptions({ section: 'endpoint', pod: 'web-1.shop', output: 'json' }, DEFAULT_CONTROLLER), ui2, async () => cluster());
  const eps = JSON.parse(s2.stdout).endpoints as { cluster_name: string }[];
  assert.deepEqual(eps.map((e) => e.cluster_name), ['outbound|8080||catalog.shop.svc.cluster.local']);
  assert.ok(s2.stdout.includes(`"port_value": ${backend.port}`));
});

test('proxy-config deploy/NAME (live): the workload stands for its first running pod', async () => {
  const deploy = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'shop' }, spec: { selector: { matchLabels: { app: 'web' } } } };
  const { ui, s } = io();
  const opts = validateProxyConfigOptions({ section: 'cluster', pod: 'deploy/web', namespace: 'shop', output: 'table' }, DEFAULT_CONTROLLER);
  assert.equal(await runProxyConfig(opts, ui, async () => cluster(undefined, [deploy])), 0);
  assert.match(s.stdout, /outbound\|8080\|\|catalog\.shop\.svc\.cluster\.local/);
  assert.match(s.stderr, /proxy grpc~127\.0\.0\.1~web-1\.shop/);
  const missing = validateProxyConfigOptions({ section: 'cluster', pod: 'sts/web', namespace: 'shop', output: 'table' }, DEFAULT_CONTROLLER);
  await assert.rejects(runProxyConfig(missing, io().ui, async () => cluster(undefined, [deploy])), /StatefulSet shop\/web not found/);
});

test('proxy-config for a pod no replica knows: a clear error pointing at proxy-status and -f', async () => {
  const opts = validateProxyConfigOptions({ section: 'all', pod: 'web-2', namespace: 'shop', output: 'table' }, DEFAULT_CONTROLLER);
  await assert.rejects(runProxyConfig(opts, io().ui, async () => cluster()), (e: MeshError) => /no controller replica has a proxy for pod web-2 in namespace shop/.test(e.message) && /-f/.test(e.hint ?? ''));
});

test('validateProxyConfigOptions: sections, plural forms, all; bad section and port are usage errors', () => {
  assert.deepEqual(validateProxyConfigOptions({ section: 'all', pod: 'p', output: 'table' }, DEFAULT_CONTROLLER).sections, ['cluster', 'listener', 'route', 'endpoint', 'secret']);
  assert.deepEqual(validateProxyConfigOptions({ section: 'Routes', pod: 'p', output: 'table' }, DEFAULT_CONTROLLER).sections, ['route']);
  assert.throws(() => validateProxyConfigOptions({ section: 'bootstrap', pod: 'p', output: 'table' }, DEFAULT_CONTROLLER), (e: MeshError) => e.exitCode === 2 && /cluster, listener, route, endpoint, secret, all/.test(e.hint ?? ''));
  assert.throws(() => validateProxyConfigOptions({ section: 'all', output: 'table' }, DEFAULT_CONTROLLER), (e: MeshError) => e.exitCode === 2);
  assert.throws(() => validateProxyConfigOptions({ section: 'all', pod: 'p', output: 'table', controllerPort: '99999' }, DEFAULT_CONTROLLER), (e: MeshError) => e.exitCode === 2);
});

test('secrets: certificate metadata (subject, SPIFFE ID, expiry) from the PEM; private keys never shown', async () => {
  const { generateRoot, CaSigner, createCsr, signCsr } = await import('../../src/pki/index.ts');
  const root = await generateRoot({ trustDomain: 'cluster.local' });
  const ca = await CaSigner.load(root.certPem, root.keyPem);
  const csr = await createCsr({ spiffeId: 'spiffe://cluster.local/ns/shop/sa/web' });
  const leaf = await signCsr(ca, csr.csrPem, { spiffeId: 'spiffe://cluster.local/ns/shop/sa/web' });
  const secrets = [
    { name: 'default', tls_certificate: { certificate_chain: { inline_bytes: Buffer.from(leaf.certChainPem).toString('base64') }, private_key: { inline_bytes: Buffer.from(csr.keyPem).toString('base64') } } },
    { name: 'ROOTCA', validation_context: { trusted_ca: { inline_string: root.certPem } } },
    { name: 'redacted', tls_certificate: { certificate_chain: { inline_bytes: '[redacted]' }, private_key: '[redacted]' } },
  ];
  const views = await secretViews(secrets);
  assert.equal(views[0]!.certificates[0]!.spiffeId, 'spiffe://cluster.local/ns/shop/sa/web');
  assert.equal(views[0]!.certificates[0]!.notAfter, leaf.notAfter);
  assert.equal(views[1]!.type, 'trust bundle');
  assert.equal(views[1]!.certificates[0]!.isCA, true);
  assert.equal(views[2]!.note, 'certificate redacted by the controller');
  const text = JSON.stringify(views);
  assert.ok(!text.includes('PRIVATE KEY') && !text.includes(Buffer.from(csr.keyPem).toString('base64')), 'no key material in the view');
});
