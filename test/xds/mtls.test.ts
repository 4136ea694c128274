// test: own process (grpc-js-xds reads GRPC_XDS_EXPERIMENTAL_RBAC once, when it loads; scripts/test.mjs)
// THE PROOF, part 4: mTLS between a proxyless gRPC client and an xDS-enabled gRPC server with
// certificates from our CA (fetched by `mesh grpc-agent`, as a workload does), configured only by
// our control plane (STRICT namespace), and RBAC on SPIFFE identities: the right principal is allowed, others denied, plaintext refused.
import './rbac-env.ts';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import * as xds from '@grpc/grpc-js-xds';
import { AGENT_FILES, runGrpcAgent, validateGrpcAgentOptions } from '../../src/agent/grpc-agent.ts';
import { CA_SERVER_NAME, saToken, startTlsCa, type TlsCa } from '../support/ca-server.ts';
import { captureUi } from '../support/ui.ts';
import { MemorySource } from '../../src/cluster/source.ts';
import { ControlPlane } from '../../src/controller/controlplane.ts';
import type { KubeObject } from '../../src/cluster/types.ts';
import { many, slices, tally, until, type Backend } from './support.ts';

const NS = 'shop';
const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(fileURLToPath(new URL('../fixtures/xds/echo.proto', import.meta.url)), { keepCase: true })) as any;
const EchoClient = pkg.meshtest.Echo as grpc.ServiceClientConstructor;
let dir: string;
let caServer: TlsCa;
let source: MemorySource;
let cp: ControlPlane;
let adsPort: number;
let server: xds.XdsServer;
let port: number;
const clients: grpc.Client[] = [];

function objects(policies: KubeObject[]): KubeObject[] {
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS, annotations: { 'mesh.dev/mtls': 'STRICT' } } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'secure', namespace: NS }, spec: { clusterIP: '10.96.0.9', selector: { app: 'secure' }, ports: [{ name: 'grpc', port: 8080, targetPort: port }] } },
    { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'secure-1', namespace: NS, labels: { app: 'secure' } }, spec: { serviceAccountName: 'secure', containers: [{ name: 'app' }] }, status: { podIP: '127.0.0.1' } },
    ...slices(NS, 'secure', [{ name: 'secure', port } as Backend]).map((s) => ({ ...s, endpoints: [{ addresses: ['127.0.0.1'], targetRef: { kind: 'Pod', name: 'secure-1', namespace: NS } }] })),
    ...policies,
  ];
}
const policy = (name: string, spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'mesh.dev/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name, namespace: NS }, spec: { selector: { matchLabels: { app: 'secure' } }, ...spec } });

/**
 * The workload's identity files as it gets them in a cluster: `mesh grpc-agent --once` asks the CA
 * (TLS, ServiceAccount token) and writes cert, key and trust bundle; the provider config is taken
 * from the gRPC bootstrap the agent wrote.
 */
async function identity(ns: string, sa: string, pod: string): Promise<Record<string, string>> {
  writeFileSync(join(dir, `${pod}.token`), saToken(ns, sa));
  const o = validateGrpcAgentOptions({ outDir: join(dir, pod), caAddress: `127.0.0.1:${caServer.port}`, caServerName: CA_SERVER_NAME, trustBundle: join(dir, 'root.crt'), tokenFile: join(dir, `${pod}.token`), once: true });
  await runGrpcAgent(o, captureUi().ui, { env: { POD_NAME: pod, POD_NAMESPACE: ns } });
  const written = JSON.parse(readFileSync(join(o.outDir, AGENT_FILES.bootstrap), 'utf8')) as { certificate_providers: { default: { config: Record<string, string> } } };
  const { certificate_file, private_key_file, ca_certificate_file } = written.certificate_providers.default.config;
  return { certificate_file: certificate_file!, private_key_file: private_key_file!, ca_certificate_file: ca_certificate_file! };
}

function bootstrap(nodeId: string, meta: Record<string, string>, files?: Record<string, string>): string {
  return JSON.stringify({
    xds_servers: [{ server_uri: `127.0.0.1:${adsPort}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
    node: { id: nodeId, locality: {}, metadata: { PROXY_KIND: 'grpc', ...meta } },
    server_listener_resource_name_template: 'grpc/server?xds.resource.listening_address=%s',
    ...(files ? { certificate_providers: { default: { plugin_name: 'file_watcher', config: { ...files, refresh_interval: '600s' } } } } : {}),
  });
}

let frontFiles: Record<string, string>;
function client(nodeId: string, creds: grpc.ChannelCredentials, files?: Record<string, string>): grpc.Client {
  const c = new EchoClient(`xds:///secure.${NS}.svc.cluster.local:8080`, creds, { 'grpc.TEST_ONLY_DO_NOT_USE_IN_PROD.xds_bootstrap_config': bootstrap(nodeId, { NAMESPACE: 'web' }, files) });
  clients.push(c);
  return c;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mesh-mtls-'));
  caServer = await startTlsCa({ trustDomain: 'cluster.local' });
  writeFileSync(join(dir, 'root.crt'), caServer.rootPem);
  const serverFiles = await identity(NS, 'secure', 'secure-1');
  frontFiles = await identity('web', 'front', 'front-1');
  const probe = new grpc.Server();
  port = await new Promise<number>((res, rej) => probe.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, n) => (e ? rej(e) : res(n))));
  probe.forceShutdown();
  source = new MemorySource(objects([]));
  cp = new ControlPlane({ source, debounceMs: 10 });
  adsPort = await cp.start({ host: '127.0.0.1', port: 0 });
  server = new xds.XdsServer({ 'grpc.TEST_ONLY_DO_NOT_USE_IN_PROD.xds_bootstrap_config': bootstrap('secure-1', { NAMESPACE: NS, POD_NAME: 'secure-1' }, serverFiles) } as any);
  server.addService(pkg.meshtest.Echo.service, { Who: (_c: unknown, cb: grpc.sendUnaryData<{ name: string }>) => cb(null, { name: 'secure' }) });
  await new Promise<void>((res, rej) => server.bindAsync(`127.0.0.1:${port}`, new xds.XdsServerCredentials(grpc.ServerCredentials.createInsecure()), (e) => (e ? rej(e) : res())));
});

after(async () => {
  for (const c of clients) c.close();
  server.forceShutdown();
  await cp.stop();
  await caServer?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const DENIED = `code ${grpc.status.PERMISSION_DENIED}`;

test('a client with its SVID calls the STRICT server over mTLS; a plaintext client is refused', async () => {
  const secure = client('front', new xds.XdsChannelCredentials(grpc.credentials.createInsecure()), frontFiles);
  await until(secure, (t) => t.secure === 50);
  const plain = client('plain', grpc.credentials.createInsecure());
  const t = tally(await many(plain, 20, { deadlineMs: 3000 }));
  assert.equal(t.secure, undefined, `plaintext must not get through: ${JSON.stringify(t)}`);
});

test('RBAC on identities: the caller\'s SPIFFE principal is allowed, another namespace is denied', async () => {
  const secure = client('front2', new xds.XdsChannelCredentials(grpc.credentials.createInsecure()), frontFiles);
  source.set(objects([policy('allow-front', { action: 'ALLOW', rules: [{ from: [{ source: { principals: ['cluster.local/ns/web/sa/front'] } }] }] })]));
  await until(secure, (t) => t.secure === 50);
  source.set(objects([policy('allow-ops', { action: 'ALLOW', rules: [{ from: [{ source: { namespaces: ['ops'] } }] }] })]));
  await until(secure, (t) => t[DENIED] === 50);
  source.set(objects([policy('allow-web', { action: 'ALLOW', rules: [{ from: [{ source: { namespaces: ['web'] } }] }] })]));
  await until(secure, (t) => t.secure === 50);
});
