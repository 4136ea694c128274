// `mesh proxy-config secret POD` live: a real controller serves a sidecar its SDS secrets over a
// TLS ADS stream (token reviewed by the test API server); the CLI reads them from the controller's
// /debug/config_dump through the API server's pod proxy and shows certificate metadata, never the key.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { X509Certificate } from 'node:crypto';
import type * as grpc from '@grpc/grpc-js';
import { parse } from 'yaml';
import { MemorySource } from '../../src/cluster/source.ts';
import { ControlPlane } from '../../src/controller/controlplane.ts';
import { startIntrospection } from '../../src/controller/http.ts';
import { clusterReviewer } from '../../src/controller/setup.ts';
import { connectLive } from '../../src/cluster/live.ts';
import { TOKEN_AUDIENCE } from '../../src/constants.ts';
import { CertificateAuthority, generateRoot } from '../../src/pki/index.ts';
import { runMeshInProcess } from '../support/cli.ts';
import { strictCheckJson } from '../../src/xds/encode.ts';
import { loadAdminProtos } from '../../src/xds/protos.ts';
import { proxyControllerIntrospection } from './support/controller-proxy.ts';
import { startApiServer, type TestCluster } from '../support/kube.ts';
import { AdsStream, secretsOf, startTlsAds } from '../xds/sds-support.ts';

let kube: TestCluster;
let cp: ControlPlane;
let intro: Server;
let tls: grpc.Server;
let stream: AdsStream;
let leaf: X509Certificate;
let keyPem = '';
let rootPem = '';

const pod = (name: string): Record<string, unknown> => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'shop', labels: { app: 'web', 'mesh.dev/proxy-version': '0.1.0' } }, spec: { serviceAccountName: 'web', containers: [{ name: 'web', image: 'web' }] }, status: { phase: 'Running' } });

before(async () => {
  kube = await startApiServer({ seed: [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'mesh-system' } },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'web', namespace: 'shop' } },
    { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'mesh-controller-0', namespace: 'mesh-system', labels: { 'app.kubernetes.io/name': 'mesh-controller' } }, spec: { containers: [{ name: 'controller', image: 'mesh' }] }, status: { phase: 'Running' } },
    pod('web-1'),
  ] });
  const root = await generateRoot({ trustDomain: 'cluster.local' });
  rootPem = root.certPem;
  const ca = await CertificateAuthority.create(root, { trustDomain: 'cluster.local', reviewer: clusterReviewer(connectLive({ kubeconfig: kube.kubeconfigPath })) });
  cp = new ControlPlane({ source: new MemorySource([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } }, pod('web-1') as never]), identity: { ca: () => ca, checkIntervalMs: 0 } });
  await cp.start({ host: '127.0.0.1', port: 0 });
  const started = await startIntrospection(cp, { host: '127.0.0.1', port: 0 });
  intro = started.server;
  proxyControllerIntrospection(kube, started.port);
  let port: number;
  ({ server: tls, port } = await startTlsAds(cp, ca));
  const tr = await kube.request('POST', '/api/v1/namespaces/shop/serviceaccounts/web/token', { body: JSON.stringify({ spec: { audiences: [TOKEN_AUDIENCE], boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'web-1' } } }) });
  stream = new AdsStream(cp, port, 'web-1.shop', { namespace: 'shop', pod: 'web-1' }, { token: tr.json.status.token, rootPem });
  const sds = await stream.subscribe();
  await stream.ack(sds);
  const secrets = secretsOf(sds);
  leaf = new X509Certificate(secrets.default.tls_certificate.certificate_chain.inline_string);
  keyPem = secrets.default.tls_certificate.private_key.inline_string;
}, { timeout: 60_000 });

after(async () => {
  stream?.call.cancel();
  tls?.forceShutdown();
  await new Promise((r) => intro?.close(r));
  await cp?.stop();
  await kube?.stop();
});

/** No output ever holds the key: neither its PEM armour nor any line of its body. */
function assertNoKey(text: string, what: string): void {
  assert.doesNotMatch(text, /PRIVATE KEY/, what);
  for (const line of keyPem.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'))) assert.ok(!text.includes(line), `${what}: a line of the key`);
}

test('mesh proxy-config secret web-1: subject, SPIFFE ID, serial, validity and expiry of default; the roots of ROOTCA; no key', async () => {
  const r = await runMeshInProcess(['proxy-config', 'secret', 'web-1', '-n', 'shop', '--kubeconfig', kube.kubeconfigPath]);
  assert.equal(r.code, 0, r.stderr);
  const serial = leaf.serialNumber.toLowerCase();
  const lines = r.stdout.split('\n');
  assert.match(lines[0]!, /^NAME\s+TYPE\s+SUBJECT\s+SPIFFE ID\s+SERIAL\s+NOT BEFORE\s+NOT AFTER\s+EXPIRES IN/);
  const own = lines.find((l) => l.includes(serial));
  assert.ok(own, r.stdout);
  assert.match(own, /^default\s+certificate\s+O=mesh\s+spiffe:\/\/cluster\.local\/ns\/shop\/sa\/web\s/);
  assert.ok(own.includes(new Date(leaf.validFrom).toISOString()) && own.includes(new Date(leaf.validTo).toISOString()), own);
  assert.match(own, /\s(2[34]h\d+m|1d0h)\s*$/, 'expires in about a day');
  const rootSerial = new X509Certificate(rootPem).serialNumber.toLowerCase();
  assert.match(r.stdout, new RegExp(`ROOTCA\\s+root CA\\s+O=mesh, CN=mesh root CA \\(cluster\\.local\\)\\s+spiffe://cluster\\.local\\s+${rootSerial}`));
  assertNoKey(r.stdout + r.stderr, 'table');
});

test('mesh proxy-config secret|all -o json|yaml: certificate metadata only, never key material', async () => {
  loadAdminProtos();
  for (const args of [['secret', '-o', 'json'], ['secret', '-o', 'yaml'], ['all', '-o', 'json'], ['all', '-o', 'yaml'], ['all']]) {
    const r = await runMeshInProcess(['proxy-config', args[0]!, 'web-1', '-n', 'shop', '--kubeconfig', kube.kubeconfigPath, ...args.slice(1)]);
    assert.equal(r.code, 0, r.stderr);
    assertNoKey(r.stdout + r.stderr, args.join(' '));
    if (args[1] === undefined) continue;
    const doc = args[2] === 'json' ? JSON.parse(r.stdout) : parse(r.stdout);
    if (args[0] === 'all') {
      // Envoy's /config_dump form: the SDS secrets with their certificates, the key a redacted DataSource.
      assert.deepEqual(strictCheckJson('envoy.admin.v3.ConfigDump', doc), []);
      const sds = (doc.configs as { '@type': string; dynamic_active_secrets?: { name: string; secret: any }[] }[]).find((c) => c['@type'].endsWith('.SecretsConfigDump'))!;
      const secret = Object.fromEntries(sds.dynamic_active_secrets!.map((s) => [s.name, s.secret])) as Record<string, any>;
      assert.deepEqual(secret.default.tls_certificate.private_key, { inline_string: '[redacted]' });
      assert.equal(new X509Certificate(secret.default.tls_certificate.certificate_chain.inline_string).serialNumber, leaf.serialNumber);
      assert.match(secret.ROOTCA.validation_context.trusted_ca.inline_string, /BEGIN CERTIFICATE/);
      continue;
    }
    const byName = Object.fromEntries((doc.secrets as { name: string }[]).map((s) => [s.name, s])) as Record<string, any>;
    assert.equal(byName.default.type, 'certificate');
    assert.equal(byName.default.certificates[0].spiffeId, 'spiffe://cluster.local/ns/shop/sa/web');
    assert.equal(byName.default.certificates[0].serial, leaf.serialNumber.toLowerCase());
    assert.equal(byName.ROOTCA.type, 'trust bundle');
    assert.deepEqual(byName.ROOTCA.certificates.map((c: { isCA: boolean }) => c.isCA), [true]);
  }
  // The controller's own config_dump: the certificate, the key redacted.
  const dump = await kube.request('GET', `/api/v1/namespaces/mesh-system/pods/mesh-controller-0:15014/proxy/debug/config_dump?proxy=web-1.shop`);
  assert.equal(dump.status, 200);
  assert.match(dump.body, /BEGIN CERTIFICATE/);
  assertNoKey(dump.body, 'config_dump');
});
