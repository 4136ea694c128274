import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAllDocuments } from 'yaml';
import { runMesh, runMeshInProcess } from '../support/cli.ts';

// In-process (the CLI's main, HOME empty as for runMesh); bin/mesh where the process matters: one
// of the two renders compared, and the exit 2.
import { getJson, withCluster } from './kube-helpers.ts';

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; data?: Record<string, string>; webhooks?: { clientConfig: { caBundle?: string } }[] };
const docs = (yaml: string) => parseAllDocuments(yaml).map((d) => d.toJS() as Obj);
const find = (objs: Obj[], kind: string, name: string) => objs.find((o) => o.kind === kind && o.metadata.name === name);
const b64pem = (s: string | undefined) => Buffer.from(s ?? '', 'base64').toString('utf8');

test('install --dry-run with no cluster prints what install creates: root CA Secret (redacted), trust bundle, webhook caBundle', async () => {
  // HOME points at an empty directory (as runMesh sets it): there is no kubeconfig at all.
  const r = await runMeshInProcess(['install', '--dry-run']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /no cluster .*showing what install creates on a new cluster/);
  const objs = docs(r.stdout);
  const secret = find(objs, 'Secret', 'mesh-root-ca');
  assert.ok(secret, 'the root CA Secret is listed');
  assert.deepEqual(Object.values(secret.data ?? {}), ['<redacted>', '<redacted>', '<redacted>'], 'Secret data is redacted');
  const bundle = find(objs, 'ConfigMap', 'mesh-trust-bundle');
  assert.match(bundle?.data?.['ca.crt'] ?? '', /^-----BEGIN CERTIFICATE-----/);
  const webhook = find(objs, 'MutatingWebhookConfiguration', 'mesh-sidecar-injector');
  assert.equal(b64pem(webhook?.webhooks?.[0]?.clientConfig.caBundle), bundle?.data?.['ca.crt'], 'the caBundle is the trust bundle root');
  assert.doesNotMatch(r.stdout, /PRIVATE KEY/);
});

test('install --dry-run -o json prints a v1 List of the same objects; -o name their names', async () => {
  const [j, n] = await Promise.all([runMeshInProcess(['install', '--dry-run', '-o', 'json']), runMeshInProcess(['install', '--dry-run', '-o', 'name'])]);
  assert.equal(j.code, 0, j.stderr);
  const list = JSON.parse(j.stdout) as { kind: string; items: Obj[] };
  assert.equal(list.kind, 'List');
  assert.ok(find(list.items, 'Secret', 'mesh-root-ca'));
  assert.equal(n.code, 0, n.stderr);
  assert.ok(n.stdout.split('\n').includes('secret/mesh-root-ca'));
  assert.ok(n.stdout.split('\n').includes('deployment.apps/mesh-controller'));
  assert.equal(n.stdout.trim().split('\n').length, list.items.length);
});

test('manifest generate without a CA says on stderr what is left out and how to add it; output stays the same', async () => {
  const [a, b] = await Promise.all([runMesh(['manifest', 'generate']), runMeshInProcess(['manifest', 'generate'])]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(a.stdout, b.stdout);
  const objs = docs(a.stdout);
  assert.equal(find(objs, 'Secret', 'mesh-root-ca'), undefined);
  assert.match(a.stderr, /Secret mesh-system\/mesh-root-ca/);
  assert.match(a.stderr, /ConfigMap mesh-system\/mesh-trust-bundle/);
  assert.match(a.stderr, /mesh-sidecar-injector has no caBundle/);
  assert.match(a.stderr, /--generate-ca/);
  assert.match(a.stderr, /--ca-cert FILE --ca-key FILE/);
});

test('manifest generate --generate-ca renders everything needed to run: Secret with key, trust bundle, caBundle', async () => {
  const r = await runMeshInProcess(['manifest', 'generate', '--generate-ca']);
  assert.equal(r.code, 0, r.stderr);
  const objs = docs(r.stdout);
  const secret = find(objs, 'Secret', 'mesh-root-ca');
  assert.match(b64pem(secret?.data?.['tls.key']), /-----BEGIN (EC |RSA )?PRIVATE KEY-----/);
  const cert = b64pem(secret?.data?.['tls.crt']);
  assert.match(cert, /^-----BEGIN CERTIFICATE-----/);
  assert.equal(find(objs, 'ConfigMap', 'mesh-trust-bundle')?.data?.['ca.crt'], cert);
  assert.equal(b64pem(find(objs, 'MutatingWebhookConfiguration', 'mesh-sidecar-injector')?.webhooks?.[0]?.clientConfig.caBundle), cert);
  assert.doesNotMatch(r.stderr, /note: no root CA/);
  assert.match(r.stderr, /private key/);
});

test('manifest generate --generate-ca with --ca-cert is refused (exit 2)', async () => {
  const r = await runMesh(['manifest', 'generate', '--generate-ca', '--ca-cert', 'test/fixtures/ca/root.crt', '--ca-key', 'test/fixtures/ca/root.key']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--generate-ca and --ca-cert\/--ca-key exclude each other/);
});

test('upgrade --dry-run prints the diff and the prune list and writes nothing (test API server)', async () => {
  await withCluster(async (c, mesh) => {
    assert.equal((await mesh(['install', '--yes', '--profile', 'ha'])).code, 0);
    const start = c.server.requests.length;
    const dry = await mesh(['upgrade', '--set', 'controller.podDisruptionBudget=false', '--set', 'controller.replicas=2', '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /^\+ {2}replicas: 2$/m);
    assert.match(dry.stdout, /^PodDisruptionBudget\/mesh-system\/mesh-controller would be pruned$/m);
    assert.match(dry.stderr, /dry run: nothing was changed/);
    const writes = c.server.requests.slice(start).filter((q) => q.method !== 'GET');
    assert.deepEqual(writes.map((q) => `${q.method} ${q.resource}`), []);
    assert.equal((await getJson(c, '/apis/apps/v1/namespaces/mesh-system/deployments/mesh-controller')).spec.replicas, 3);
    const json = await mesh(['upgrade', '--set', 'controller.replicas=2', '--dry-run', '-o', 'json']);
    assert.equal(json.code, 0, json.stderr);
    const doc = JSON.parse(json.stdout) as { differ: boolean; objects: { ref: string; change: string }[] };
    assert.equal(doc.differ, true);
    assert.ok(doc.objects.some((o) => o.ref === 'Deployment/mesh-system/mesh-controller' && o.change === 'changed'));

    // uninstall --dry-run speaks the same formats: data, not text, under -o json; names under -o name.
    const before = c.server.requests.length;
    const uj = await mesh(['uninstall', '--dry-run', '-o', 'json']);
    assert.equal(uj.code, 0, uj.stderr);
    const would = (JSON.parse(uj.stdout) as { wouldDelete: string[] }).wouldDelete;
    assert.equal(would[0], 'MutatingWebhookConfiguration/mesh-sidecar-injector', 'the webhook goes first');
    assert.ok(would.includes('Deployment/mesh-system/mesh-controller'));
    const un = await mesh(['uninstall', '--dry-run', '-o', 'name']);
    assert.equal(un.code, 0, un.stderr);
    assert.ok(un.stdout.split('\n').includes('deployment.apps/mesh-controller'));
    assert.deepEqual(c.server.requests.slice(before).filter((q) => q.method !== 'GET').map((q) => `${q.method} ${q.resource}`), []);
  });
});
