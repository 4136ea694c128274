// The controller's TLS side in-process: the TLS gRPC port (the control plane's own ADS service and
// the CA service) and the webhook, both serving one ServingCert that is renewed at half-life (an
// injected clock) and when the CA moves to a new root, without restarting either server.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { Agent, request } from 'node:https';
import { connect, type TLSSocket } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import type { KubeObject } from '../../src/cluster/types.ts';
import { connectLive } from '../../src/cluster/live.ts';
import { TOKEN_AUDIENCE } from '../../src/constants.ts';
import { certificateServiceClient, certificateServiceDefinition, certificateServiceHandlers } from '../../src/controller/ca-service.ts';
import { MemorySource } from '../../src/cluster/source.ts';
import { ControlPlane } from '../../src/controller/controlplane.ts';
import { RootReloader } from '../../src/controller/root-reload.ts';
import { ServingCert } from '../../src/controller/serving-cert.ts';
import { clusterReviewer, controllerDnsNames } from '../../src/controller/setup.ts';
import { startWebhook } from '../../src/controller/webhook.ts';
import { startXdsTls } from '../../src/controller/xds-tls.ts';
import { resolveValues } from '../../src/manifests/values.ts';
import { CertificateAuthority, createCsr, generateRoot, type CertAndKey } from '../../src/pki/index.ts';
import type { DiscoveryRequest, DiscoveryResponse } from '../../src/xds/ads.ts';
import { TYPE } from '../../src/xds/protos.ts';
import { startApiServer, type TestCluster } from '../support/kube.ts';

const HOST = 'mesh-controller.mesh-system.svc';
const svc = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'shop' }, spec: { clusterIP: '10.96.0.1', ports: [{ name: 'grpc', port: 8080 }] } });
const slice = (name: string, ip: string): KubeObject => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name, namespace: 'shop', labels: { 'kubernetes.io/service-name': name } },
  addressType: 'IPv4', ports: [{ name: 'grpc', port: 9090 }], endpoints: [{ addresses: [ip] }],
});

let c: TestCluster;
let root: CertAndKey;
let ca: CertificateAuthority;
let now = Date.now();
let serving: ServingCert;
let source: MemorySource;
let cp: ControlPlane;
let tlsServer: grpc.Server;
let tlsPort = 0;
let webhook: import('node:https').Server;
let webhookPort = 0;
const logs: string[] = [];
const closers: (() => void)[] = [];

before(async () => {
  c = await startApiServer();
  root = await generateRoot({ trustDomain: 'example.org' });
  ca = await CertificateAuthority.create(root, { trustDomain: 'example.org', reviewer: clusterReviewer(connectLive({ kubeconfig: c.kubeconfigPath })) });
  serving = await ServingCert.create({ ca, dnsNames: controllerDnsNames('mesh-system'), clock: () => new Date(now), log: (l) => logs.push(l) });
  source = new MemorySource([svc('a'), slice('a', '10.1.0.1')]);
  cp = new ControlPlane({ source, debounceMs: 10 });
  await cp.start({ host: '127.0.0.1', port: 0 });
  ({ server: tlsServer, port: tlsPort } = await startXdsTls(
    [
      { definition: cp.ads.serviceDefinition(), handlers: cp.ads.handlers() },
      { definition: certificateServiceDefinition(), handlers: certificateServiceHandlers(() => ca) },
    ],
    serving,
    { host: '127.0.0.1', port: 0 },
  ));
  ({ server: webhook, port: webhookPort } = await startWebhook(serving, { host: '127.0.0.1', port: 0 }, { values: () => Promise.resolve(resolveValues()), nativeSidecar: () => false, namespaceLabels: () => Promise.resolve(undefined) }));
});

after(async () => {
  for (const close of closers) close();
  serving?.stop();
  tlsServer?.forceShutdown();
  webhook?.close();
  webhook?.closeAllConnections();
  await cp?.stop();
  await c?.stop();
});

/** Channel credentials trusting `caPem` only, for the Service name (we dial 127.0.0.1). */
function tlsChannel(caPem: string): [grpc.ChannelCredentials, grpc.ChannelOptions] {
  return [grpc.credentials.createSsl(Buffer.from(caPem)), { 'grpc.ssl_target_name_override': HOST, 'grpc.default_authority': HOST }];
}

/** The certificate a new TLS handshake on `port` gets, verified against `caPem` (rejects when it does not verify). */
function peerCert(port: number, caPem: string, alpn = 'h2'): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const s: TLSSocket = connect({ host: '127.0.0.1', port, ca: caPem, servername: HOST, ALPNProtocols: [alpn] }, () => {
      const cert = new X509Certificate(s.getPeerCertificate().raw);
      s.end();
      resolve(cert);
    });
    s.on('error', reject);
  });
}

function saToken(ns: string, sa: string): string {
  return c.server.auth.addServiceAccountToken(ns, sa, { audiences: [TOKEN_AUDIENCE] });
}

function createCertificate(port: number, caPem: string, token: string, csr: string): Promise<{ cert_chain: string[]; trust_bundle: string }> {
  const Client = certificateServiceClient();
  const client = new Client(`127.0.0.1:${port}`, ...tlsChannel(caPem)) as grpc.Client & Record<string, any>;
  closers.push(() => client.close());
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${token}`);
  return new Promise((resolve, reject) => {
    client.CreateCertificate({ csr }, md, { deadline: Date.now() + 60_000 }, (e: grpc.ServiceError | null, r: { cert_chain: string[]; trust_bundle: string }) => (e ? reject(e) : resolve(r)));
  });
}

/** An ADS stream over TLS with a ServiceAccount token, collecting responses. */
function adsStream(caPem: string, token: string) {
  const Client = grpc.makeGenericClientConstructor(cp.ads.serviceDefinition(), 'AggregatedDiscoveryService');
  const client = new Client(`127.0.0.1:${tlsPort}`, ...tlsChannel(caPem));
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${token}`);
  const call: grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse> = (client as any).StreamAggregatedResources(md);
  closers.push(() => {
    call.cancel();
    client.close();
  });
  const queue: DiscoveryResponse[] = [];
  let waiter: ((r: DiscoveryResponse) => void) | undefined;
  call.on('data', (r: DiscoveryResponse) => {
    if (waiter) {
      const w = waiter;
      waiter = undefined;
      w(r);
    } else queue.push(r);
  });
  const errors: Error[] = [];
  call.on('error', (e) => errors.push(e));
  return {
    call,
    errors,
    send: (req: DiscoveryRequest) => call.write({ node: { id: 'tls-client', user_agent_name: 'test', metadata: { fields: { NAMESPACE: { stringValue: 'shop' } } } }, ...req }),
    next: (): Promise<DiscoveryResponse> => {
      const q = queue.shift();
      if (q) return Promise.resolve(q);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no ADS response${errors.length ? `: ${errors[0]!.message}` : ''}`)), 60_000);
        waiter = (r) => {
          clearTimeout(t);
          resolve(r);
        };
      });
    },
  };
}

const CLUSTER_A = 'outbound|8080||a.shop.svc.cluster.local';

test('TLS port: a client trusting only the root completes an ADS exchange and a CreateCertificate call', async () => {
  const token = saToken('shop', 'web');
  const s = adsStream(root.certPem, token);
  s.send({ type_url: TYPE.cluster, resource_names: [CLUSTER_A] });
  const r = await s.next();
  assert.equal(r.type_url, TYPE.cluster);
  assert.equal(r.resources.length, 1);
  assert.ok(cp.syncz().proxies.some((p) => p.id === 'tls-client' && p.connected), 'the stream is on the one control plane (syncz)');

  const { csrPem } = await createCsr({ spiffeId: 'spiffe://example.org/ns/shop/sa/web' });
  const res = await createCertificate(tlsPort, root.certPem, token, csrPem);
  const leaf = new X509Certificate(res.cert_chain[0]!);
  assert.equal(leaf.subjectAltName, 'URI:spiffe://example.org/ns/shop/sa/web');
  assert.ok(leaf.verify(new X509Certificate(root.certPem).publicKey));

  const served = await peerCert(tlsPort, root.certPem);
  assert.equal(served.serialNumber.toLowerCase(), serving.info.serial.toLowerCase());
  assert.match(served.subjectAltName ?? '', /DNS:mesh-controller\.mesh-system\.svc, DNS:mesh-controller\.mesh-system\.svc\.cluster\.local/);
});

test('a client that does not trust the root fails the handshake (gRPC UNAVAILABLE, raw TLS refused)', async () => {
  const other = await generateRoot({ trustDomain: 'example.org' });
  const { csrPem } = await createCsr({ spiffeId: 'spiffe://example.org/ns/shop/sa/web' });
  await assert.rejects(createCertificate(tlsPort, other.certPem, saToken('shop', 'web'), csrPem), (e: grpc.ServiceError) => e.code === grpc.status.UNAVAILABLE);
  await assert.rejects(peerCert(tlsPort, other.certPem), /self.signed|unable to verify|certificate/i);
  await assert.rejects(peerCert(webhookPort, other.certPem, 'http/1.1'), /self.signed|unable to verify|certificate/i);
});

test('half-life renewal: new handshakes on the TLS port and the webhook get the new certificate; the open ADS stream and webhook connection keep working', async () => {
  const s = adsStream(root.certPem, saToken('shop', 'web'));
  s.send({ type_url: TYPE.endpoint, resource_names: [CLUSTER_A] });
  const r1 = await s.next();
  s.send({ type_url: TYPE.endpoint, resource_names: [CLUSTER_A], version_info: r1.version_info, response_nonce: r1.nonce });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  closers.push(() => agent.destroy());
  const get = (): Promise<{ status: number; serial: string; reused: boolean }> =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: webhookPort, path: '/healthz', ca: root.certPem, servername: HOST, agent }, (res) => {
        const serial = (res.socket as TLSSocket).getPeerCertificate().serialNumber;
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, serial, reused: req.reusedSocket }));
      });
      req.on('error', reject);
      req.end();
    });
  const w1 = await get();
  assert.equal(w1.status, 200);
  const before = serving.info.serial;
  assert.equal((await peerCert(tlsPort, root.certPem)).serialNumber.toLowerCase(), before);
  assert.equal((await peerCert(webhookPort, root.certPem, 'http/1.1')).serialNumber.toLowerCase(), before);

  assert.equal(await serving.refresh(), false, 'not due yet');
  now += 400 * 3_600_000; // past half of the 720h lifetime
  assert.equal(await serving.refresh(), true);
  const after = serving.info.serial;
  assert.notEqual(after, before);
  assert.equal((await peerCert(tlsPort, root.certPem)).serialNumber.toLowerCase(), after, 'TLS port: new handshakes get the renewed certificate');
  assert.equal((await peerCert(webhookPort, root.certPem, 'http/1.1')).serialNumber.toLowerCase(), after, 'webhook: new handshakes get the renewed certificate');
  assert.ok(logs.some((l) => l.includes(`serving certificate renewed (half-life): serial ${after}`)));

  // The connections opened before the renewal still work (and still hold the old certificate).
  source.set([svc('a'), slice('a', '10.1.0.9')]);
  const pushed = await s.next();
  assert.equal(pushed.type_url, TYPE.endpoint);
  assert.notEqual(pushed.version_info, r1.version_info);
  assert.equal(s.errors.length, 0);
  const w2 = await get();
  assert.deepEqual([w2.status, w2.reused, w2.serial.toLowerCase()], [200, true, before.toLowerCase()]);
});

test('a new root: the CA moves to it, the serving certificate chains to it, and a client trusting only the new root connects', async () => {
  const next = await generateRoot({ trustDomain: 'example.org' });
  const reloader = new RootReloader({ ca, read: () => Promise.resolve({ root: next }), log: (l) => logs.push(l), onRotated: () => serving.refresh().then(() => undefined) });
  closers.push(() => reloader.stop());
  await assert.rejects(peerCert(tlsPort, next.certPem), /certificate/i, 'before: signed by the old root');
  assert.equal(await reloader.check(), true);
  assert.equal(await reloader.check(), false, 'the same root again changes nothing');
  const nextCert = new X509Certificate(next.certPem);
  for (const [port, alpn] of [[tlsPort, 'h2'], [webhookPort, 'http/1.1']] as const) {
    const served = await peerCert(port, next.certPem, alpn);
    assert.ok(served.verify(nextCert.publicKey), `port ${port}: chained to the new root`);
  }
  assert.equal(ca.trustAnchors().length, 2, 'the old root stays trusted alongside the new one');
  const { csrPem } = await createCsr({ spiffeId: 'spiffe://example.org/ns/shop/sa/web' });
  const res = await createCertificate(tlsPort, next.certPem, saToken('shop', 'web'), csrPem);
  assert.ok(new X509Certificate(res.cert_chain[0]!).verify(nextCert.publicKey), 'workloads now get certificates from the new root');
  assert.ok(logs.some((l) => /CA: root changed/.test(l)) && logs.some((l) => /serving certificate renewed \(new root\)/.test(l)));
});

test('a root that cannot be read or is refused keeps the current one, logged once', async () => {
  const signing = ca.root.fingerprint;
  const wrongDomain = await generateRoot({ trustDomain: 'other.org' });
  let answer: () => Promise<{ root?: CertAndKey; why?: string }> = () => Promise.resolve({ why: 'no Secret mesh-system/mesh-root-ca' });
  const reloader = new RootReloader({ ca, read: () => answer(), log: (l) => logs.push(l) });
  closers.push(() => reloader.stop());
  assert.equal(await reloader.check(), false);
  assert.equal(await reloader.check(), false);
  assert.equal(logs.filter((l) => l.includes('cannot reload the root (keeping the current one): no Secret')).length, 1, 'the same problem is logged once');
  answer = () => Promise.resolve({ root: wrongDomain });
  assert.equal(await reloader.check(), false);
  assert.ok(logs.some((l) => /cannot reload the root.*other\.org/.test(l)));
  assert.equal(ca.root.fingerprint, signing);
});

test('a failed renewal keeps the current certificate and is logged; listeners hear only of new ones', async () => {
  let fail = false;
  const issuer = { root: { fingerprint: 'A' }, trustBundlePem: () => root.certPem, issueServingCert: (o: Parameters<CertificateAuthority['issueServingCert']>[0]) => (fail ? Promise.reject(new Error('CA expired')) : ca.issueServingCert(o)) };
  const lines: string[] = [];
  const h = await ServingCert.create({ ca: issuer, dnsNames: ['x.example'], log: (l) => lines.push(l) });
  closers.push(() => h.stop());
  const heard: string[] = [];
  h.onChange((_c, info, reason) => heard.push(`${reason} ${info.serial}`));
  const first = h.info.serial;
  fail = true;
  issuer.root.fingerprint = 'B';
  assert.equal(await h.refresh(), false);
  assert.equal(h.info.serial, first);
  assert.match(lines.join('\n'), /cannot renew \(new root; keeping serial .*\): CA expired/);
  assert.doesNotMatch(lines.join('\n') + JSON.stringify(h.current), /PRIVATE KEY/, 'the key is neither logged nor serialised');
  fail = false;
  assert.equal(await h.refresh(), true);
  assert.deepEqual(heard, [`new root ${h.info.serial}`]);
});

test('the timer renews a due certificate without being asked', async () => {
  const late = () => new Date(Date.now() + 400 * 3_600_000); // always past half of the 720h lifetime
  const h = await ServingCert.create({ ca, dnsNames: ['timer.example'], clock: late, minCheckMs: 10 });
  closers.push(() => h.stop());
  const first = h.info.serial;
  const renewed = await new Promise<string>((resolve) => h.onChange((_c, info, reason) => resolve(`${reason} ${info.serial !== first}`)));
  h.stop();
  assert.equal(renewed, 'half-life true');
});
