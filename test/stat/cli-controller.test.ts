// `mesh proxy-status` and `mesh proxy-config` as built, against the test API server, whose pod
// proxy forwards the controller pod's port 15014 to a real control plane with a grpc-js-xds client.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { MemorySource } from '../../src/cluster/source.ts';
import { ControlPlane } from '../../src/controller/controlplane.ts';
import { startIntrospection } from '../../src/controller/http.ts';
import { runMesh, runMeshInProcess } from '../support/cli.ts';
import { proxyControllerIntrospection } from './support/controller-proxy.ts';
import { startApiServer, type TestCluster } from '../support/kube.ts';
import { slices, startBackend, svc, waitForAck, who, xdsClient, type Backend } from '../xds/support.ts';

let kube: TestCluster;
let backend: Backend;
let cp: ControlPlane;
const DEBUG_TOKEN = 'debug-token-of-the-test';
let intro: Server;
let client: grpc.Client;

before(async () => {
  backend = await startBackend('catalog');
  cp = new ControlPlane({ source: new MemorySource([svc('shop', 'catalog'), ...slices('shop', 'catalog', [backend])]), debounceMs: 10 });
  const adsPort = await cp.start({ host: '127.0.0.1', port: 0 });
  // As in a pod: the pod proxy's requests do not come from loopback; only the Secret's token opens /debug.
  const started = await startIntrospection(cp, { host: '127.0.0.1', port: 0 }, { token: () => DEBUG_TOKEN, loopback: false });
  intro = started.server;
  kube = await startApiServer({ seed: [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'mesh-system' } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'mesh-controller-debug', namespace: 'mesh-system' }, data: { token: Buffer.from(DEBUG_TOKEN).toString('base64') } },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
    { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'mesh-controller-0', namespace: 'mesh-system', labels: { 'app.kubernetes.io/name': 'mesh-controller' } }, spec: { containers: [{ name: 'controller', image: 'mesh' }] }, status: { phase: 'Running' } },
    { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: 'shop', labels: { app: 'web', 'mesh.dev/proxy-version': '0.1.0' } }, spec: { containers: [{ name: 'web', image: 'web' }] }, status: { phase: 'Running' } },
    { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-2', namespace: 'shop', labels: { app: 'web', 'mesh.dev/proxy-version': '0.1.0' } }, spec: { containers: [{ name: 'web', image: 'web' }] }, status: { phase: 'Running' } },
  ] });
  proxyControllerIntrospection(kube, started.port);
  const bootstrap = { xds_servers: [{ server_uri: `127.0.0.1:${adsPort}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }], node: { id: 'web-1-grpc', locality: {}, metadata: { NAMESPACE: 'shop', POD_NAME: 'web-1', PROXY_KIND: 'grpc' } } };
  client = new (xdsClient('catalog.shop.svc.cluster.local:8080', adsPort, 'x', 'shop').constructor as typeof grpc.Client)('xds:///catalog.shop.svc.cluster.local:8080', grpc.credentials.createInsecure(), { 'grpc.TEST_ONLY_DO_NOT_USE_IN_PROD.xds_bootstrap_config': JSON.stringify(bootstrap) });
  assert.equal((await who(client, { deadlineMs: 30_000 })).name, 'catalog');
  await waitForAck(cp, 'web-1-grpc', 30_000);
}, { timeout: 60_000 });

after(async () => {
  client?.close();
  await new Promise((r) => intro?.close(r));
  await cp?.stop();
  await backend?.stop();
  await kube?.stop();
});

test('mesh proxy-status: SYNCED per type for the connected proxy, NOT CONNECTED for the other', async () => {
  const r = await runMeshInProcess(['proxy-status', '--kubeconfig', kube.kubeconfigPath]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /web-1\.shop\s+mesh-controller-0\s+SYNCED\s+SYNCED\s+SYNCED\s+SYNCED\s+-\n/);
  assert.match(r.stdout, /web-2\.shop\s+NOT CONNECTED/);
});

test('mesh proxy-config route web-1 -n shop: live from the controller through the pod proxy', async () => {
  const r = await runMeshInProcess(['proxy-config', 'route', 'web-1', '-n', 'shop', '--kubeconfig', kube.kubeconfigPath]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^NAME\s+VIRTUAL HOSTS\s+DOMAINS\s+ROUTES\ncatalog\.shop\.svc\.cluster\.local:8080\s+1\s+/);
  assert.match(r.stderr, /from controller replica mesh-controller-0, proxy web-1-grpc/);
});

test('mesh proxy-status with the controller port closed: controller unreachable, exit 1', async () => {
  const r = await runMesh(['proxy-status', '--controller-port', '9999', '--kubeconfig', kube.kubeconfigPath]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /error: controller unreachable: none of 1 replicas answered \/debug\/syncz \(mesh-controller-0: HTTP 503/);
});

test('without the /debug token (its Secret gone) proxy-status says how /debug is opened, and the pod proxy alone does not', async () => {
  const del = await kube.request('DELETE', '/api/v1/namespaces/mesh-system/secrets/mesh-controller-debug');
  assert.equal(del.status, 200, del.body);
  const r = await runMesh(['proxy-status', '--kubeconfig', kube.kubeconfigPath]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr + r.stdout, /HTTP 401: the \/debug endpoints answer requests from localhost, or with the token of Secret mesh-controller-debug/);
});
