// THE PROOF, part 4: mTLS between a proxyless gRPC client and an xDS-enabled gRPC server with
// certificates from our CA (src/pki), configured only by our control plane (STRICT namespace), and
// RBAC on SPIFFE identities: the right principal is allowed, others denied, plaintext refused.
import './rbac-env.ts';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import * as xds from '@grpc/grpc-js-xds';
import { CaSigner, createCsr, generateRoot, signCsr } from '../../src/pki/index.ts';
import { ControlPlane, MemorySource } from '../../src/controller/controlplane.ts';
import type { KubeObject } from '../../src/cluster/types.ts';
import { many, slices, tally, until, type Backend } from './support.ts';

const NS = 'shop';
const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(fileURLToPath(new URL('../fixtures/xds/echo.proto', import.meta.url)), { keepCase: true })) as any;
const EchoClient = pkg.meshtest.Echo as grpc.ServiceClientConstructor;
let dir: string;
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

/** Issue an SVID through the CA and write cert, key and trust bundle files for a file_watcher provider. */
async function identity(ca: CaSigner, rootPem: string, id: string, name: string): Promise<Record<string, string>> {
  const csr = await createCsr({ spiffeId: id });
  const cert = await signCsr(ca, csr.csrPem, { spiffeId: id });
  const files = { certificate_file: join(dir, `${name}.crt`), private_key_file: join(dir, `${name}.key`), ca_certificate_file: join(dir, 'ca.crt') };
  writeFileSync(files.certificate_file, cert.certChainPem);
  writeFileSync(files.private_key_file, csr.keyPem);
  writeFileSync(files.ca_certificate_file, rootPem);
  return files;
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
  const root = await generateRoot({ trustDomain: 'cluster.local' });
  const ca = await CaSigner.load(root.certPem, root.keyPem);
  const serverFiles = await identity(ca, root.certPem, 'spiffe://cluster.local/ns/shop/sa/secure', 'server');
  frontFiles = await identity(ca, root.certPem, 'spiffe://cluster.local/ns/web/sa/front', 'front');
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
