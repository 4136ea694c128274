// test: own process (grpc-js-xds reads GRPC_XDS_EXPERIMENTAL_RBAC once, when it loads; scripts/test.mjs)
// THE PROOF, part 3: an xDS-enabled gRPC server (XdsServer from @grpc/grpc-js-xds) configured only
// by our control plane (server listener for its pod's port), and our AuthorizationPolicy enforced
// by it: DENY and ALLOW rules, changed at runtime. Plaintext: identity-based rules need mTLS, which
// is not served yet, so an ALLOW on namespaces denies an unauthenticated caller.
import './rbac-env.ts';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import * as xds from '@grpc/grpc-js-xds';
import { fileURLToPath } from 'node:url';
import { MemorySource } from '../../src/cluster/source.ts';
import { ControlPlane } from '../../src/controller/controlplane.ts';
import type { KubeObject } from '../../src/cluster/types.ts';
import { many, slices, tally, until, xdsClient, type Backend } from './support.ts';

const NS = 'shop';
const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(fileURLToPath(new URL('../fixtures/xds/echo.proto', import.meta.url)), { keepCase: true })) as any;
let source: MemorySource;
let cp: ControlPlane;
let adsPort: number;
let server: xds.XdsServer;
let port: number;
let client: grpc.Client;

function objects(policies: KubeObject[]): KubeObject[] {
  const backend = { name: 'secure', port } as Backend;
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'secure', namespace: NS }, spec: { clusterIP: '10.96.0.9', selector: { app: 'secure' }, ports: [{ name: 'grpc', port: 8080, targetPort: port }] } },
    { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'secure-1', namespace: NS, labels: { app: 'secure' } }, spec: { serviceAccountName: 'secure', containers: [{ name: 'app' }] }, status: { podIP: '127.0.0.1' } },
    ...slices(NS, 'secure', [backend]),
    ...policies,
  ];
}

const policy = (name: string, spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'mesh.dev/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name, namespace: NS }, spec: { selector: { matchLabels: { app: 'secure' } }, ...spec } });

async function freePort(): Promise<number> {
  const s = new grpc.Server();
  const p = await new Promise<number>((res, rej) => s.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, n) => (e ? rej(e) : res(n))));
  s.forceShutdown();
  return p;
}

before(async () => {
  port = await freePort();
  source = new MemorySource(objects([]));
  cp = new ControlPlane({ source, debounceMs: 10 });
  adsPort = await cp.start({ host: '127.0.0.1', port: 0 });
  const bootstrap = {
    xds_servers: [{ server_uri: `127.0.0.1:${adsPort}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
    node: { id: 'secure-1', locality: {}, metadata: { NAMESPACE: NS, POD_NAME: 'secure-1', PROXY_KIND: 'grpc' } },
    server_listener_resource_name_template: 'grpc/server?xds.resource.listening_address=%s',
  };
  server = new xds.XdsServer({ 'grpc.TEST_ONLY_DO_NOT_USE_IN_PROD.xds_bootstrap_config': JSON.stringify(bootstrap) } as any);
  server.addService(pkg.meshtest.Echo.service, { Who: (_c: unknown, cb: grpc.sendUnaryData<{ name: string }>) => cb(null, { name: 'secure' }) });
  await new Promise<void>((res, rej) => server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? rej(e) : res())));
  client = xdsClient(`secure.${NS}.svc.cluster.local:8080`, adsPort, 'caller', 'web');
});

after(async () => {
  client.close();
  server.forceShutdown();
  await cp.stop();
});

const DENIED = `code ${grpc.status.PERMISSION_DENIED}`;

test('the xDS server serves with the listener we send; no policy allows every call', async () => {
  await until(client, (t) => t.secure === 50);
  assert.deepEqual(tally(await many(client, 50)), { secure: 50 });
  const st = cp.syncz().proxies.find((p) => p.id === 'secure-1')!;
  assert.deepEqual(st.streams[0]!.types['type.googleapis.com/envoy.config.listener.v3.Listener']!.names, [`grpc/server?xds.resource.listening_address=127.0.0.1:${port}`]);
});

test('a DENY policy on the method denies; removing it allows again', async () => {
  source.set(objects([policy('deny-who', { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/meshtest.Echo/Who'] } }] }] })]));
  await until(client, (t) => t[DENIED] === 50);
  source.set(objects([policy('deny-other', { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/other.Service/*'] } }] }] })]));
  await until(client, (t) => t.secure === 50);
});

test('ALLOW policies: a matching path allows, an unauthenticated caller is not in an allowed namespace', async () => {
  source.set(objects([policy('allow-echo', { action: 'ALLOW', rules: [{ to: [{ operation: { paths: ['/meshtest.Echo/*'], methods: ['POST'] } }] }] })]));
  await until(client, (t) => t.secure === 50);
  source.set(objects([policy('allow-web', { action: 'ALLOW', rules: [{ from: [{ source: { namespaces: ['web'] } }] }] })]));
  await until(client, (t) => t[DENIED] === 50);
});

test('default deny: the namespace label denies every call no ALLOW policy allows; an ALLOW rule lets its calls through', async () => {
  const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS, labels: { 'mesh.dev/default-deny': 'true' } } } as KubeObject;
  source.set([ns, ...objects([])]);
  await until(client, (t) => t[DENIED] === 50);
  source.set([ns, ...objects([policy('allow-echo', { action: 'ALLOW', rules: [{ to: [{ operation: { paths: ['/meshtest.Echo/*'] } }] }] })])]);
  await until(client, (t) => t.secure === 50);
});
