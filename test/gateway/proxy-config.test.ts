// `mesh proxy-config SECTION gateway/NAME -n NS`: offline from manifests (examples/gateway) with the
// controller's translation, and live from the controller a gateway proxy is connected to.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemorySource } from '../../src/cluster/source.ts';
import type { KubeObject } from '../../src/cluster/types.ts';
import { ControlPlane } from '../../src/controller/controlplane.ts';
import { startIntrospection } from '../../src/controller/http.ts';
import { runProxyConfig, validateProxyConfigOptions } from '../../src/status/proxy-config.ts';
import { DEFAULT_CONTROLLER } from '../../src/status/controller-debug.ts';
import { TYPE } from '../../src/xds/protos.ts';
import { AdsClient } from '../support/ads-client.ts';
import { runMeshInProcess } from '../support/cli.ts';
import { captureUi } from '../support/ui.ts';
import { fakeCluster } from '../stat/support/fake-cluster.ts';

const FILES = ['-f', 'examples/gateway', '-f', 'examples/shop'];

test('offline: the routes, listeners and secrets of gateway/edge from the example manifests', async () => {
  const route = await runMeshInProcess(['proxy-config', 'route', 'gateway/edge', '-n', 'ingress', ...FILES, '-o', 'json']);
  assert.equal(route.code, 0, route.stderr);
  const routes = (JSON.parse(route.stdout) as { routes: { name: string; virtual_hosts: { domains: string[] }[] }[] }).routes;
  assert.deepEqual(routes.map((r) => [r.name, r.virtual_hosts.flatMap((v) => v.domains)]), [['http.80', ['*']], ['https.443.https', ['shop.example.com']]]);
  const listeners = await runMeshInProcess(['proxy-config', 'listener', 'gtw/edge', '-n', 'ingress', ...FILES]);
  assert.match(listeners.stdout, /gateway_443\s+0\.0\.0\.0\s+8443/);
  const secrets = await runMeshInProcess(['proxy-config', 'secret', 'gateway/edge', '-n', 'ingress', ...FILES]);
  assert.match(secrets.stdout, /kubernetes:\/\/ingress\/shop-tls\s+sds\s+TLS Secret ingress\/shop-tls, served over SDS to the Gateway's own proxies only/);
  assert.doesNotMatch(secrets.stdout, /cGxhY2Vob2xkZXI=|placeholder/, 'no key material offline');
});

test('offline: a Gateway that is not in the files, or not of a mesh class, is exit 2 naming it', async () => {
  const missing = await runMeshInProcess(['proxy-config', 'route', 'gateway/nope', '-n', 'ingress', ...FILES]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no Gateway named nope in namespace ingress/);
  const dir = mkdtempSync(join(tmpdir(), 'mesh-gw-'));
  try {
    writeFileSync(join(dir, 'gw.yaml'), 'apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: edge, namespace: ingress}\nspec: {gatewayClassName: other, listeners: [{name: http, port: 80, protocol: HTTP}]}\n');
    const other = await runMeshInProcess(['proxy-config', 'route', 'gateway/edge', '-n', 'ingress', '-f', dir]);
    assert.equal(other.code, 2);
    assert.match(other.stderr, /Gateway ingress\/edge is not of a mesh GatewayClass/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const objects: KubeObject[] = [
  { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: 'mesh' }, spec: { controllerName: 'mesh.dev/gateway-controller' } },
  { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'edge', namespace: 'ingress' }, spec: { gatewayClassName: 'mesh', listeners: [{ name: 'http', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } }] } },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { clusterIP: '10.96.0.9', ports: [{ name: 'http', port: 80 }] } },
  { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'web', namespace: 'shop' }, spec: { parentRefs: [{ name: 'edge', namespace: 'ingress' }], rules: [{ backendRefs: [{ name: 'web', port: 80 }] }] } },
];
let cp: ControlPlane;
let intro: Server;
let introPort: number;
let stream: AdsClient;

before(async () => {
  cp = new ControlPlane({ source: new MemorySource(objects), debounceMs: 10 });
  const port = await cp.start({ host: '127.0.0.1', port: 0 });
  ({ server: intro, port: introPort } = await startIntrospection(cp, { host: '127.0.0.1', port: 0 }));
  stream = new AdsClient(cp.ads.serviceDefinition(), port, 'edge-mesh-1.ingress', { PROXY_KIND: 'gateway', NAMESPACE: 'ingress', GATEWAY_NAME: 'edge', POD_NAME: 'edge-mesh-1' }, { userAgent: 'envoy' });
  stream.send({ node: stream.node, type_url: TYPE.listener, resource_names: [] });
  const lds = await stream.next();
  assert.equal(lds.resources.length, 1);
});

after(async () => {
  stream?.call.cancel();
  await new Promise((r) => intro?.close(r));
  await cp?.stop();
});

test('live: gateway/NAME finds the connected proxy of that Gateway on its controller replica', async () => {
  const controller = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'mesh-controller-a', namespace: 'mesh-system', labels: { 'app.kubernetes.io/name': 'mesh-controller' } }, status: { phase: 'Running' } };
  const cluster = fakeCluster([controller], async (_t, path) => {
    const res = await fetch(`http://127.0.0.1:${introPort}${path}`);
    return { status: res.status, body: await res.text() };
  });
  const c = captureUi({ yes: true });
  const opts = validateProxyConfigOptions({ section: 'listener', pod: 'gateway/edge', namespace: 'ingress', output: 'json' }, DEFAULT_CONTROLLER);
  assert.equal(await runProxyConfig(opts, c.ui, async () => cluster), 0);
  const listeners = (JSON.parse(c.out()) as { proxy: string; listeners: { name: string }[] });
  assert.deepEqual([listeners.proxy, listeners.listeners.map((l) => l.name)], ['edge-mesh-1.ingress', ['gateway_80']]);
  const none = validateProxyConfigOptions({ section: 'listener', pod: 'gateway/other', namespace: 'ingress', output: 'json' }, DEFAULT_CONTROLLER);
  await assert.rejects(runProxyConfig(none, captureUi({ yes: true }).ui, async () => cluster), /no proxy of Gateway ingress\/other is connected/);
});
