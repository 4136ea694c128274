// The admission webhook: `mesh controller --source files` with a root CA serves POST /inject over
// HTTPS with a certificate from our CA; the patch it returns for a Deployment's pod, applied, is
// exactly what `mesh inject` prints for that pod. Plus the answers to everything that is not a
// pod CREATE, and the handler's behaviour in-process.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:https';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TLSSocket } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { parse, stringify } from 'yaml';
import { reviewAdmission, type WebhookContext } from '../../src/controller/webhook.ts';
import { resolveValues } from '../../src/manifests/values.ts';
import { generateRoot } from '../../src/pki/index.ts';
import { applyPatch } from '../support/json-patch.ts';
import { MESH_BIN, ROOT, runMeshInProcess } from '../support/cli.ts';

let dir: string;
let child: ChildProcess;
let port = 0;
let rootPem = '';
let stderr = '';
const HOST = 'mesh-controller.mesh-system.svc';

/** A pod as the ReplicaSet controller makes it from a Deployment's template (no name yet: generateName). */
const deploymentPod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    generateName: 'web-7d4b9c-',
    namespace: 'shop',
    labels: { app: 'web', 'pod-template-hash': '7d4b9c' },
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-7d4b9c', uid: '5e0f0f8e-1111-4222-8333-444455556666', controller: true, blockOwnerDeletion: true }],
  },
  spec: {
    serviceAccountName: 'web',
    containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ name: 'http', containerPort: 8080 }], readinessProbe: { httpGet: { path: '/ready', port: 'http' } } }],
  },
};

function review(uid: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      namespace: 'shop',
      operation: 'CREATE',
      userInfo: { username: 'system:serviceaccount:kube-system:replicaset-controller' },
      object: deploymentPod,
      dryRun: false,
      ...over,
    },
  };
}

/** POST to the webhook, verifying its certificate against our root for the Service's DNS name. */
function post(path: string, body: string): Promise<{ status: number; json: any; peer: X509Certificate }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', ca: rootPem, servername: HOST, headers: { 'content-type': 'application/json' } }, (res) => {
      const peer = new X509Certificate((res.socket as TLSSocket).getPeerCertificate().raw);
      let data = '';
      res.on('data', (c) => (data += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: data ? JSON.parse(data) : undefined, peer }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mesh-webhook-'));
  const root = await generateRoot({ trustDomain: 'cluster.local' });
  rootPem = root.certPem;
  writeFileSync(join(dir, 'ca.crt'), root.certPem);
  writeFileSync(join(dir, 'ca.key'), root.keyPem, { mode: 0o600 });
  writeFileSync(join(dir, 'values.yaml'), stringify({ proxy: { nativeSidecar: 'on', logLevel: 'debug' } }));
  mkdirSync(join(dir, 'k8s'));
  writeFileSync(join(dir, 'k8s', 'ns.yaml'), stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { 'mesh.dev/inject': 'enabled' } } }) + '---\n' + stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'legacy', labels: { 'mesh.dev/inject': 'disabled' } } }));
  child = spawn(process.execPath, [MESH_BIN, 'controller', '--source', 'files', join(dir, 'k8s'), '--address', '127.0.0.1', '--plaintext-xds', '--xds-port', '0', '--xds-tls-port', '0', '--metrics-port', '0', '--webhook-port', '0', '--ca-cert', join(dir, 'ca.crt'), '--ca-key', join(dir, 'ca.key'), '--values', join(dir, 'values.yaml')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (b: Buffer) => {
      stderr += b.toString();
      const m = /admission webhook listening on https:\/\/[\d.]+:(\d+)\/inject/.exec(stderr);
      if (m) {
        port = Number(m[1]);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`controller exited ${code}: ${stderr}`)));
  });
});

after(() => {
  if (child?.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

test('a Deployment-made pod: the patch, applied, equals `mesh inject` output; uid echoed; TLS verifies against the root', async () => {
  const r = await post('/inject', JSON.stringify(review('8d2f5a1c-0001')));
  assert.equal(r.status, 200);
  assert.ok(r.peer.checkHost(HOST), 'serving certificate names the Service');
  assert.ok(r.peer.checkHost(`${HOST}.cluster.local`));
  assert.ok(r.peer.verify(new X509Certificate(rootPem).publicKey), 'signed by our root');
  const res = r.json.response;
  assert.equal(r.json.apiVersion, 'admission.k8s.io/v1');
  assert.equal(r.json.kind, 'AdmissionReview');
  assert.equal(res.uid, '8d2f5a1c-0001');
  assert.equal(res.allowed, true);
  assert.equal(res.patchType, 'JSONPatch');
  const patched = applyPatch(deploymentPod, JSON.parse(Buffer.from(res.patch, 'base64').toString('utf8')));
  const cli = await runMeshInProcess(['inject', '-f', '-', '--values', join(dir, 'values.yaml')], { input: stringify(deploymentPod) });
  assert.equal(cli.code, 0, cli.stderr);
  assert.deepStrictEqual(patched, parse(cli.stdout));
  // The values file asked for native sidecars: the proxy is an init container with restartPolicy Always.
  assert.ok((patched as any).spec.initContainers.some((c: any) => c.name === 'mesh-proxy' && c.restartPolicy === 'Always'));
});

test('a pod in a namespace labelled mesh.dev/inject=disabled (from the source) is allowed without a patch', async () => {
  const r = await post('/inject', JSON.stringify(review('u-legacy', { namespace: 'legacy', object: { ...deploymentPod, metadata: { ...deploymentPod.metadata, namespace: 'legacy' } } })));
  assert.equal(r.json.response.uid, 'u-legacy');
  assert.equal(r.json.response.allowed, true);
  assert.equal(r.json.response.patch, undefined);
});

test('non-pod, non-CREATE and malformed reviews pass through unpatched with a warning; non-reviews are a 400', async () => {
  const cases: [string, Record<string, unknown>][] = [
    ['svc', { kind: { group: '', version: 'v1', kind: 'Service' }, resource: { group: '', version: 'v1', resource: 'services' }, object: { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' } } }],
    ['upd', { operation: 'UPDATE' }],
    ['noobj', { object: null }],
    ['junk', { object: { spec: 'nonsense' } }],
  ];
  for (const [uid, over] of cases) {
    const r = await post('/inject', JSON.stringify(review(uid, over)));
    assert.equal(r.status, 200, uid);
    assert.equal(r.json.response.uid, uid);
    assert.equal(r.json.response.allowed, true, uid);
    assert.equal(r.json.response.patch, undefined, uid);
    assert.ok(r.json.response.warnings?.length, uid);
  }
  for (const body of ['not json', '{"kind":"Pod"}', '[]', JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: {} })]) {
    const r = await post('/inject', body);
    assert.equal(r.status, 400, body);
  }
  // Still serving after all that.
  const ok = await post('/inject', JSON.stringify(review('after')));
  assert.equal(ok.json.response.uid, 'after');
  assert.ok(ok.json.response.patch);
});

test('reviewAdmission: values that cannot be read deny with a 500 status; an unknown namespace still injects', async () => {
  const ctx: WebhookContext = { values: () => Promise.reject(new Error('ConfigMap gone')), nativeSidecar: () => false, namespaceLabels: async () => undefined };
  const denied = (await reviewAdmission(review('v1'), ctx)).body as any;
  assert.equal(denied.response.uid, 'v1');
  assert.equal(denied.response.allowed, false);
  assert.match(denied.response.status.message, /ConfigMap gone/);
  const ok = (await reviewAdmission(review('v2'), { ...ctx, values: async () => resolveValues() })).body as any;
  assert.equal(ok.response.allowed, true);
  assert.ok(ok.response.patch);
});

test('reviewAdmission: a pod with a null container or a wrong-typed field is refused with the field named, not a TypeError', async () => {
  const ctx: WebhookContext = { values: async () => resolveValues(), nativeSidecar: () => false, namespaceLabels: async () => undefined };
  const cases: [unknown, RegExp][] = [
    [{ ...deploymentPod, spec: { containers: [null] } }, /spec\.containers\[0\] is null, expected a container/],
    [{ ...deploymentPod, spec: { containers: [{ name: 'web' }], initContainers: 'x' } }, /spec\.initContainers is the string "x", expected a list of containers/],
    [{ ...deploymentPod, metadata: { ...deploymentPod.metadata, annotations: { a: 5 } } }, /metadata\.annotations\["a"\] is the number 5, expected a string/],
  ];
  for (const [object, re] of cases) {
    const r = (await reviewAdmission(review('bad', { object }), ctx)).body as any;
    assert.equal(r.response.allowed, false);
    assert.match(r.response.status.message, re);
    assert.doesNotMatch(r.response.status.message, /Cannot read properties|is not a function/);
  }
});

test('the controller logs the webhook and never a key', () => {
  assert.match(stderr, /admission webhook listening/);
  assert.doesNotMatch(stderr, /PRIVATE KEY/);
});

test('files source: SIGHUP re-reads --ca-cert/--ca-key; a new root there gives the webhook a certificate chained to it, without a restart', async () => {
  const next = await generateRoot({ trustDomain: 'cluster.local' });
  writeFileSync(join(dir, 'ca.key'), next.keyPem, { mode: 0o600 });
  writeFileSync(join(dir, 'ca.crt'), next.certPem);
  const renewed = new Promise<void>((resolve) => {
    const check = (): void => {
      if (/serving certificate renewed \(new root\)/.test(stderr)) resolve();
    };
    child.stderr!.on('data', check);
    check();
  });
  child.kill('SIGHUP');
  await renewed;
  const old = rootPem;
  rootPem = next.certPem;
  const r = await post('/inject', JSON.stringify(review('after-rotation')));
  assert.equal(r.json.response.uid, 'after-rotation');
  assert.ok(r.peer.verify(new X509Certificate(next.certPem).publicKey), 'signed by the new root');
  assert.ok(!r.peer.verify(new X509Certificate(old).publicKey));
  assert.doesNotMatch(stderr, /PRIVATE KEY/);
});
