// `mesh controller --source kubernetes` against the test API server: the webhook's values come
// from the mesh-config ConfigMap, its serving certificate from the root in the mesh-root-ca Secret,
// namespace labels from the Namespace informer; the CA service (TLS port only) reviews tokens with
// TokenReview. A root replaced in the Secret is picked up (SIGHUP here; a timer in production).
// Without the Secret, the webhook, CA and TLS port are disabled with a log line.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { request } from 'node:https';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { connect } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { stringify } from 'yaml';
import { certificateServiceClient } from '../../src/controller/ca-service.ts';
import { runController, type ControllerOptions } from '../../src/controller/run.ts';
import { injectObject } from '../../src/manifests/inject.ts';
import { resolveValues } from '../../src/manifests/values.ts';
import { createCsr, generateRoot } from '../../src/pki/index.ts';
import { applyPatch } from '../support/json-patch.ts';
import { startApiServer, type TestCluster } from '../support/kube.ts';
import { captureUi } from '../support/ui.ts';
import { MemorySource } from '../../src/cluster/source.ts';
import { ControlPlane } from '../../src/controller/controlplane.ts';
import { AdsStream, secretsOf } from '../xds/sds-support.ts';
import { decodeResource } from '../../src/xds/encode.ts';
import { TYPE } from '../../src/xds/protos.ts';
import { TRACING_CLUSTER } from '../../src/xds/observability.ts';

let c: TestCluster;
let rootPem = '';
const installed = { proxy: { nativeSidecar: 'off', logLevel: 'warn' }, trustDomain: 'corp.example', tracing: { enabled: true, sampling: 5 } };

interface Running {
  log: () => string;
  /** Resolves when the log matches (the controller logs each write it makes). */
  waitLog: (re: RegExp) => Promise<void>;
  ports: Record<string, number>;
  stop: () => Promise<number>;
  /** Send a signal to the controller (SIGHUP re-reads the root). */
  signal: (sig: string) => void;
}

async function start(meshNamespace: string, want: RegExp[], identity?: string, extra: Partial<ControllerOptions> = {}): Promise<Running> {
  const { ui, err, waitFor } = captureUi({ yes: true });
  const signals = new EventEmitter();
  const opts: ControllerOptions = { source: 'kubernetes', paths: [], address: '127.0.0.1', plaintextXds: true, xdsPort: 0, xdsTlsPort: 0, metricsPort: 0, webhookPort: 0, debounceMs: 10, kubeconfig: c.kubeconfigPath, meshNamespace, ...(identity ? { identity } : {}), ...extra };
  const done = runController(opts, ui, signals);
  await Promise.race([
    Promise.all(want.map((re) => waitFor(re))),
    done.then(
      () => Promise.reject(new Error(`controller stopped: ${err()}`)),
      (e: Error) => Promise.reject(new Error(`controller failed: ${e.message}\n${err()}`)),
    ),
  ]);
  const ports: Record<string, number> = {};
  for (const [name, re] of [['metrics', /introspection listening on [\d.]+:(\d+)/], ['xds', /ADS listening on [\d.]+:(\d+)/], ['xdsTls', /xDS TLS listening on [\d.]+:(\d+)/], ['webhook', /webhook listening on https:\/\/[\d.]+:(\d+)/]] as const) {
    const m = re.exec(err());
    if (m) ports[name] = Number(m[1]);
  }
  return {
    log: err,
    waitLog: (re) => waitFor(re),
    ports,
    stop: () => {
      signals.emit('SIGTERM');
      return done;
    },
    signal: (sig) => signals.emit(sig),
  };
}

const pod = (ns: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { generateName: 'web-5f7c-', namespace: ns, labels: { app: 'web' } },
  spec: { serviceAccountName: 'web', containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 8080 }] }] },
});

function admit(port: number, uid: string, ns: string, ca = rootPem, servername = 'mesh-controller.mesh-system.svc'): Promise<any> {
  const body = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid, kind: { group: '', version: 'v1', kind: 'Pod' }, namespace: ns, operation: 'CREATE', object: pod(ns) } });
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/inject', method: 'POST', ca, servername }, (res) => {
      let data = '';
      res.on('data', (x) => (data += x));
      res.on('end', () => resolve(JSON.parse(data)));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** CreateCertificate on 127.0.0.1:port, over TLS trusting `ca` for `servername`, or in plaintext. */
function createCertificate(port: number, token: string, csr: string, tls?: { ca: string; servername: string }): Promise<any> {
  const Client = certificateServiceClient();
  const creds = tls ? grpc.credentials.createSsl(Buffer.from(tls.ca)) : grpc.credentials.createInsecure();
  const client = new Client(`127.0.0.1:${port}`, creds, tls ? { 'grpc.ssl_target_name_override': tls.servername, 'grpc.default_authority': tls.servername } : {}) as grpc.Client & Record<string, any>;
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${token}`);
  return new Promise<any>((resolve, reject) => client.CreateCertificate({ csr }, md, { deadline: Date.now() + 60_000 }, (e: Error | null, x: unknown) => (e ? reject(e) : resolve(x)))).finally(() => client.close());
}

/** The certificate a new TLS handshake on `port` gets (verified against `ca` for `servername`). */
function served(port: number, ca: string, servername: string, alpn: string): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, ca, servername, ALPNProtocols: [alpn] }, () => {
      const cert = new X509Certificate(s.getPeerCertificate().raw);
      s.end();
      resolve(cert);
    });
    s.on('error', reject);
  });
}

const b64 = (s: string) => Buffer.from(s).toString('base64');
const rootSecret = (ns: string, r: { certPem: string; keyPem: string }) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'mesh-root-ca', namespace: ns }, type: 'kubernetes.io/tls', data: { 'tls.crt': b64(r.certPem), 'tls.key': b64(r.keyPem), 'ca.crt': b64(r.certPem) } });
let rotatingRootPem = '';

before(async () => {
  const root = await generateRoot({ trustDomain: 'corp.example' });
  const rotating = await generateRoot({ trustDomain: 'corp.example' });
  rotatingRootPem = rotating.certPem;
  rootPem = root.certPem;
  c = await startApiServer({
    seed: [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'mesh-system' } },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { 'mesh.dev/inject': 'enabled' } } },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'legacy', labels: { 'mesh.dev/inject': 'disabled' } } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'mesh-config', namespace: 'mesh-system' }, data: { 'values.yaml': stringify(installed) } },
      rootSecret('mesh-system', root),
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'mesh-rotate' } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'mesh-config', namespace: 'mesh-rotate' }, data: { 'values.yaml': stringify(installed) } },
      rootSecret('mesh-rotate', rotating),
    ],
  });
});

after(async () => {
  await c?.stop();
});

test('kubernetes source: webhook with mesh-config values and namespace labels; CA service with TokenReview on the TLS port only', async () => {
  const run = await start('mesh-system', [/ADS listening/, /xDS TLS listening/, /webhook listening/]);
  try {
    const r = await admit(run.ports.webhook!, 'k-1', 'shop');
    assert.equal(r.response.uid, 'k-1');
    assert.equal(r.response.allowed, true);
    const patched = applyPatch(pod('shop'), JSON.parse(Buffer.from(r.response.patch, 'base64').toString('utf8')));
    // The values come from the ConfigMap (logLevel warn, no native sidecar), not the defaults.
    const expected = injectObject(pod('shop') as never, resolveValues({ files: [{ source: 'cm', values: installed }] }), { nativeSidecar: false }).object;
    assert.deepStrictEqual(patched, expected);
    assert.notDeepStrictEqual(patched, injectObject(pod('shop') as never, resolveValues(), { nativeSidecar: false }).object);
    const legacy = await admit(run.ports.webhook!, 'k-2', 'legacy');
    assert.equal(legacy.response.uid, 'k-2');
    assert.equal(legacy.response.patch, undefined, 'namespace opted out (label seen by the informer)');

    const token = c.server.auth.addServiceAccountToken('shop', 'web', { audiences: ['mesh-ca'] });
    const { csrPem } = await createCsr({ spiffeId: 'spiffe://corp.example/ns/shop/sa/web' });
    const res = await createCertificate(run.ports.xdsTls!, token, csrPem, { ca: rootPem, servername: 'mesh-controller.mesh-system.svc' });
    assert.match(res.cert_chain[0], /BEGIN CERTIFICATE/);
    await assert.rejects(createCertificate(run.ports.xds!, token, csrPem), (e: grpc.ServiceError) => e.code === grpc.status.UNIMPLEMENTED, 'no CA service on the plaintext port: tokens never travel in clear');
    assert.ok(!run.log().includes(token), 'the token is never logged');

    // Leader (the only replica): trust bundle ConfigMaps in injected namespaces, and new ones as they appear.
    await run.waitLog(/trust bundle: wrote ConfigMap shop\/mesh-trust-bundle/);
    const cm = (await c.request('GET', '/api/v1/namespaces/shop/configmaps/mesh-trust-bundle')).json;
    assert.equal(cm.data['ca.crt'].trim(), rootPem.trim());
    assert.equal(cm.metadata.labels['app.kubernetes.io/managed-by'], 'mesh');
    assert.equal((await c.request('GET', '/api/v1/namespaces/legacy/configmaps/mesh-trust-bundle')).status, 404);
    await c.request('POST', '/api/v1/namespaces', { body: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'payments', labels: { 'mesh.dev/inject': 'enabled' } } }) });
    await run.waitLog(/trust bundle: wrote ConfigMap payments\/mesh-trust-bundle/);
    const lease = (await c.request('GET', '/apis/coordination.k8s.io/v1/namespaces/mesh-system/leases/mesh-controller')).json;
    assert.ok(lease.spec.holderIdentity, 'the Lease names the leader');
    assert.doesNotMatch(run.log(), /PRIVATE KEY/);
  } finally {
    assert.equal(await run.stop(), 0);
  }
});

test('SDS through the running controller: an Envoy-like sidecar with a pod-bound token gets its certificate on the TLS port, and no key material on the plaintext port', async () => {
  const run = await start('mesh-system', [/ADS listening/, /xDS TLS listening/]);
  const streams: AdsStream[] = [];
  try {
    await c.request('POST', '/api/v1/namespaces/shop/serviceaccounts', { body: JSON.stringify({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'web', namespace: 'shop' } }) });
    const created = await c.request('POST', '/api/v1/namespaces/shop/pods', { body: JSON.stringify({ ...pod('shop'), metadata: { name: 'web-sds', namespace: 'shop', labels: { app: 'web' } } }) });
    assert.equal(created.status, 201, created.body);
    const tr = await c.request('POST', '/api/v1/namespaces/shop/serviceaccounts/web/token', { body: JSON.stringify({ spec: { audiences: ['mesh-ca'], boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'web-sds' } } }) });
    const token = tr.json.status.token as string;
    const defs = new ControlPlane({ source: new MemorySource() }); // only the ADS service definition for the client
    const meta = { namespace: 'shop', pod: 'web-sds' };
    const tls = new AdsStream(defs, run.ports.xdsTls!, 'web-sds.shop', meta, { token, rootPem, awaitAcks: false });
    streams.push(tls);
    const secrets = secretsOf(await tls.subscribe());
    const leaf = new X509Certificate(secrets.default.tls_certificate.certificate_chain.inline_string);
    assert.equal(leaf.subjectAltName, 'URI:spiffe://corp.example/ns/shop/sa/web');
    assert.ok(leaf.verify(new X509Certificate(rootPem).publicKey), 'issued by the root in the Secret');
    assert.ok(leaf.checkPrivateKey(createPrivateKey(secrets.default.tls_certificate.private_key.inline_string)), 'with its key');
    assert.equal(new X509Certificate(secrets.ROOTCA.validation_context.trusted_ca.inline_string).fingerprint256, new X509Certificate(rootPem).fingerprint256);

    const plain = new AdsStream(defs, run.ports.xds!, 'web-sds.shop', meta, { token, awaitAcks: false });
    streams.push(plain);
    assert.deepEqual(secretsOf(await plain.subscribe()), {}, 'a plaintext stream never gets secrets, even with a valid token');
    assert.ok(!run.log().includes(token), 'the token is never logged');
    assert.doesNotMatch(run.log(), /PRIVATE KEY/);
  } finally {
    for (const s of streams) s.call.cancel();
    assert.equal(await run.stop(), 0);
  }
});

test('kubernetes source without the root CA Secret: webhook and CA disabled, with a clear log line; ADS still serves', async () => {
  const run = await start('elsewhere', [/ADS listening/]);
  try {
    assert.match(run.log(), /CA, admission webhook and xDS TLS port disabled: no Secret elsewhere\/mesh-root-ca/);
    assert.equal(run.ports.webhook, undefined);
    assert.equal(run.ports.xdsTls, undefined);
  } finally {
    assert.equal(await run.stop(), 0);
  }
});

test('two replicas: both serve the webhook, one leads; when it stops the other takes over', async () => {
  // The follower retries every 100 ms (2 s by default): the takeover is waited for, not slept through.
  const r1 = await start('mesh-system', [/webhook listening/, /became the leader/], 'replica-1');
  const r2 = await start('mesh-system', [/webhook listening/], 'replica-2', { leaderRetryMs: 100 });
  try {
    for (const [r, uid] of [[r1, 'r1'], [r2, 'r2']] as const) {
      const a = await admit(r.ports.webhook!, uid, 'shop');
      assert.equal(a.response.uid, uid);
      assert.ok(a.response.patch, `${uid} serves the webhook`);
    }
    const lease = (await c.request('GET', '/apis/coordination.k8s.io/v1/namespaces/mesh-system/leases/mesh-controller')).json;
    assert.equal(lease.spec.holderIdentity, 'replica-1');
    assert.doesNotMatch(r2.log(), /became the leader|trust bundle: wrote/, 'a follower writes nothing');
    assert.equal(await r1.stop(), 0);
    await r2.waitLog(/replica-2 became the leader/);
  } finally {
    await r2.stop();
  }
});

test('a root replaced in the Secret: the CA signs with it and the webhook and TLS port serve certificates chained to it, without a restart', async () => {
  const name = 'mesh-controller.mesh-rotate.svc';
  const run = await start('mesh-rotate', [/xDS TLS listening/, /webhook listening/]);
  try {
    const old = rotatingRootPem;
    const next = await generateRoot({ trustDomain: 'corp.example' });
    await assert.rejects(served(run.ports.xdsTls!, next.certPem, name, 'h2'), /certificate/i, 'before: chained to the old root');
    const put = await c.request('PUT', '/api/v1/namespaces/mesh-rotate/secrets/mesh-root-ca', { body: JSON.stringify(rootSecret('mesh-rotate', next)) });
    assert.equal(put.status, 200, put.body);
    run.signal('SIGHUP');
    await run.waitLog(/serving certificate renewed \(new root\)/);
    assert.match(run.log(), /CA: root changed: now signing as/);
    const nextCert = new X509Certificate(next.certPem);
    for (const [port, alpn] of [[run.ports.xdsTls!, 'h2'], [run.ports.webhook!, 'http/1.1']] as const) {
      assert.ok((await served(port, next.certPem, name, alpn)).verify(nextCert.publicKey), `port ${port} serves a certificate from the new root`);
    }
    const a = await admit(run.ports.webhook!, 'rot-1', 'shop', next.certPem, name);
    assert.equal(a.response.uid, 'rot-1');
    const token = c.server.auth.addServiceAccountToken('shop', 'web', { audiences: ['mesh-ca'] });
    const { csrPem } = await createCsr({ spiffeId: 'spiffe://corp.example/ns/shop/sa/web' });
    const res = await createCertificate(run.ports.xdsTls!, token, csrPem, { ca: next.certPem, servername: name });
    assert.ok(new X509Certificate(res.cert_chain[0]).verify(nextCert.publicKey), 'workload certificates come from the new root');
    assert.deepEqual(res.trust_bundle.match(/BEGIN CERTIFICATE/g)?.length, 2, 'the trust bundle holds the old and the new root');
    assert.ok(res.trust_bundle.includes(old.trim().split('\n')[1]), 'the old root stays trusted');
    assert.doesNotMatch(run.log(), /PRIVATE KEY/);
  } finally {
    assert.equal(await run.stop(), 0);
  }
});

/** POST a raw body to the webhook over TLS; resolves to the HTTP status. */
function postRaw(port: number, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/inject', method: 'POST', ca: rootPem, servername: 'mesh-controller.mesh-system.svc' }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The controller's /metrics as series -> value (`name{labels}` as exposed). */
async function scrape(port: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

test('/metrics after real activity: connected proxies by type and version, pushes and their latency, NACKs by type, certificates issued and failed (SDS and CSR), webhook latency and failures, snapshot build time; the installed tracing reaches the proxy', async () => {
  const run = await start('mesh-system', [/ADS listening/, /xDS TLS listening/, /webhook listening/]);
  const streams: AdsStream[] = [];
  try {
    const before = await scrape(run.ports.metrics!);
    await c.request('POST', '/api/v1/namespaces/shop/serviceaccounts', { body: JSON.stringify({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'web', namespace: 'shop' } }) });
    await c.request('POST', '/api/v1/namespaces/shop/pods', { body: JSON.stringify({ ...pod('shop'), metadata: { name: 'web-metrics', namespace: 'shop', labels: { app: 'web' } } }) });
    const tr = await c.request('POST', '/api/v1/namespaces/shop/serviceaccounts/web/token', { body: JSON.stringify({ spec: { audiences: ['mesh-ca'], boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'web-metrics' } } }) });
    const token = tr.json.status.token as string;
    const defs = new ControlPlane({ source: new MemorySource() });
    const sidecar = new AdsStream(defs, run.ports.xdsTls!, 'web-metrics.shop', { namespace: 'shop', pod: 'web-metrics' }, { token, rootPem, awaitAcks: false, buildVersion: '1.32.3' });
    streams.push(sidecar);
    // CDS: the tracer's collector cluster, from tracing.enabled in the mesh-config ConfigMap.
    sidecar.send({ type_url: TYPE.cluster, resource_names: [] });
    const cds = await sidecar.next();
    assert.ok(cds.resources.some((r) => (decodeResource(TYPE.cluster, r.value) as { name: string }).name === TRACING_CLUSTER), 'the installed tracing reaches the sidecar');
    await sidecar.ack(cds);
    // LDS, rejected: a NACK as Envoy sends one.
    sidecar.send({ type_url: TYPE.listener, resource_names: [] });
    const lds = await sidecar.next();
    sidecar.send({ type_url: TYPE.listener, resource_names: [], response_nonce: lds.nonce, version_info: '', error_detail: { code: 3, message: 'test: rejected' } } as never);
    await run.waitLog(/NACK from web-metrics\.shop/);
    sidecar.send({ type_url: TYPE.secret, resource_names: ['default', 'ROOTCA'] });
    assert.ok(secretsOf(await sidecar.next()).default, 'SDS issued a certificate');

    const { csrPem } = await createCsr({ spiffeId: 'spiffe://corp.example/ns/shop/sa/web' });
    const tls = { ca: rootPem, servername: 'mesh-controller.mesh-system.svc' };
    await createCertificate(run.ports.xdsTls!, c.server.auth.addServiceAccountToken('shop', 'web', { audiences: ['mesh-ca'] }), csrPem, tls);
    await assert.rejects(createCertificate(run.ports.xdsTls!, 'not-a-token', csrPem, tls), (e: grpc.ServiceError) => e.code === grpc.status.UNAUTHENTICATED);

    assert.ok((await admit(run.ports.webhook!, 'm-1', 'shop')).response.patch, 'injected');
    assert.equal(await postRaw(run.ports.webhook!, 'not json'), 400);

    const after = await scrape(run.ports.metrics!);
    const moved = (series: string, by?: number): void => {
      const d = (after.get(series) ?? 0) - (before.get(series) ?? 0);
      if (by === undefined) assert.ok(d > 0, `${series} moved (before ${before.get(series)}, after ${after.get(series)})`);
      else assert.equal(d, by, `${series} moved by ${by}`);
    };
    moved('mesh_xds_connected_proxies{type="sidecar",version="1.32.3"}', 1);
    moved('mesh_xds_pushes_total{type="Cluster"}');
    moved('mesh_xds_push_latency_seconds_count{type="Cluster"}');
    moved('mesh_xds_nacks_total{type="Listener"}', 1);
    moved('mesh_ca_certificates_issued_total{service="sds"}', 1);
    moved('mesh_ca_certificates_issued_total{service="csr"}', 1);
    moved('mesh_ca_certificates_failed_total{service="csr",reason="unauthenticated"}', 1);
    moved('mesh_webhook_request_duration_seconds_count{outcome="injected"}', 1);
    moved('mesh_webhook_request_duration_seconds_count{outcome="error"}', 1);
    moved('mesh_webhook_failures_total{reason="bad-request"}', 1);
    moved('mesh_xds_snapshot_build_seconds_count');
  } finally {
    for (const s of streams) s.call.cancel();
    assert.equal(await run.stop(), 0);
  }
});
