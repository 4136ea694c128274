// `mesh controller --source kubernetes` against the test API server: the webhook's values come
// from the mesh-config ConfigMap, its serving certificate from the root in the mesh-root-ca Secret,
// namespace labels from the Namespace informer; the CA service reviews tokens with TokenReview.
// Without the Secret, the webhook and CA are disabled with a log line.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { request } from 'node:https';
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

let c: TestCluster;
let rootPem = '';
const installed = { proxy: { nativeSidecar: 'off', logLevel: 'warn' }, trustDomain: 'corp.example' };

interface Running {
  log: () => string;
  /** Resolves when the log matches (the controller logs each write it makes). */
  waitLog: (re: RegExp) => Promise<void>;
  ports: Record<string, number>;
  stop: () => Promise<number>;
}

async function start(meshNamespace: string, want: RegExp[], identity?: string): Promise<Running> {
  const { ui, err, waitFor } = captureUi({ yes: true });
  const signals = new EventEmitter();
  const opts: ControllerOptions = { source: 'kubernetes', paths: [], address: '127.0.0.1', xdsPort: 0, metricsPort: 0, webhookPort: 0, debounceMs: 10, kubeconfig: c.kubeconfigPath, meshNamespace, ...(identity ? { identity } : {}) };
  const done = runController(opts, ui, signals);
  await Promise.race([
    Promise.all(want.map((re) => waitFor(re))),
    done.then(
      () => Promise.reject(new Error(`controller stopped: ${err()}`)),
      (e: Error) => Promise.reject(new Error(`controller failed: ${e.message}\n${err()}`)),
    ),
  ]);
  const ports: Record<string, number> = {};
  for (const [name, re] of [['xds', /ADS listening on [\d.]+:(\d+)/], ['webhook', /webhook listening on https:\/\/[\d.]+:(\d+)/]] as const) {
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
  };
}

const pod = (ns: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { generateName: 'web-5f7c-', namespace: ns, labels: { app: 'web' } },
  spec: { serviceAccountName: 'web', containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 8080 }] }] },
});

function admit(port: number, uid: string, ns: string): Promise<any> {
  const body = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid, kind: { group: '', version: 'v1', kind: 'Pod' }, namespace: ns, operation: 'CREATE', object: pod(ns) } });
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/inject', method: 'POST', ca: rootPem, servername: 'mesh-controller.mesh-system.svc' }, (res) => {
      let data = '';
      res.on('data', (x) => (data += x));
      res.on('end', () => resolve(JSON.parse(data)));
    });
    req.on('error', reject);
    req.end(body);
  });
}

before(async () => {
  const root = await generateRoot({ trustDomain: 'corp.example' });
  rootPem = root.certPem;
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  c = await startApiServer({
    seed: [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'mesh-system' } },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { 'mesh.dev/inject': 'enabled' } } },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'legacy', labels: { 'mesh.dev/inject': 'disabled' } } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'mesh-config', namespace: 'mesh-system' }, data: { 'values.yaml': stringify(installed) } },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'mesh-root-ca', namespace: 'mesh-system' }, type: 'kubernetes.io/tls', data: { 'tls.crt': b64(root.certPem), 'tls.key': b64(root.keyPem), 'ca.crt': b64(root.certPem) } },
    ],
  });
});

after(async () => {
  await c?.stop();
});

test('kubernetes source: webhook with mesh-config values and namespace labels; CA service with TokenReview', async () => {
  const run = await start('mesh-system', [/ADS listening/, /webhook listening/]);
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
    const Client = certificateServiceClient();
    const client = new Client(`127.0.0.1:${run.ports.xds}`, grpc.credentials.createInsecure()) as grpc.Client & Record<string, any>;
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${token}`);
    const res = await new Promise<any>((resolve, reject) => client.CreateCertificate({ csr: csrPem }, md, (e: Error | null, x: unknown) => (e ? reject(e) : resolve(x))));
    client.close();
    assert.match(res.cert_chain[0], /BEGIN CERTIFICATE/);
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

test('kubernetes source without the root CA Secret: webhook and CA disabled, with a clear log line; ADS still serves', async () => {
  const run = await start('elsewhere', [/ADS listening/]);
  try {
    assert.match(run.log(), /CA and admission webhook disabled: no Secret elsewhere\/mesh-root-ca/);
    assert.equal(run.ports.webhook, undefined);
  } finally {
    assert.equal(await run.stop(), 0);
  }
});

test('two replicas: both serve the webhook, one leads; when it stops the other takes over', async () => {
  const r1 = await start('mesh-system', [/webhook listening/, /became the leader/], 'replica-1');
  const r2 = await start('mesh-system', [/webhook listening/], 'replica-2');
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
