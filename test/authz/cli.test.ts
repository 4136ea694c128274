// `mesh authz check` and `mesh authz list`: offline over manifests (-f) and live against the test
// API server, answering from the same description of authorization the xDS translation renders.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { runMeshInProcess } from '../support/cli.ts';
import { startApiServer, type TestCluster } from '../support/kube.ts';

const DIR = fileURLToPath(new URL('../fixtures/authz/', import.meta.url));
const check = (...args: string[]) => runMeshInProcess(['authz', 'check', ...args, '-n', 'shop', '-f', DIR]);

test('check: an ALLOW rule allows (exit 0) and is named; a DENY rule wins over it (exit 1)', async () => {
  const ok = await check('deploy/frontend', 'deploy/catalog-v1', '--path', '/items/1', '-o', 'json');
  assert.equal(ok.code, 0, ok.stderr);
  const r = JSON.parse(ok.stdout);
  assert.equal(r.allowed, true);
  assert.deepEqual([r.results[0].decision, r.results[0].policy, r.results[0].rule, r.results[0].principal], ['ALLOW', 'shop/catalog-from-frontend', 0, 'spiffe://cluster.local/ns/shop/sa/frontend']);
  const denied = await check('deploy/frontend', 'svc/catalog', '--port', '8080', '--path', '/admin/x');
  assert.equal(denied.code, 1);
  assert.match(denied.stdout, /catalog-v1\.shop:8080\s+GET \/admin\/x\s+DENY\s+shop\/no-admin rule 0/);
  assert.match(denied.stdout, /catalog-v2\.shop:8080/, 'svc/ stands for every pod it selects');
});

test('check: the default decides when no rule matches: ALLOW policies deny the rest, no policy allows', async () => {
  const other = await check('sa/catalog', 'deploy/catalog-v1', '--method', 'POST', '--path', '/items', '-o', 'yaml');
  assert.equal(other.code, 1);
  assert.match(other.stdout, /by: default/);
  assert.match(other.stdout, /no rule of the ALLOW policies \(shop\/catalog-from-frontend\) matches/);
  const open = await check('unauthenticated', 'sts/redis');
  assert.equal(open.code, 0);
  assert.match(open.stdout, /ALLOW\s+default\s+no AuthorizationPolicy applies/);
});

test('check: default deny from the values (--default-deny offline) or the namespace label', async () => {
  const r = await check('deploy/frontend', 'sts/redis', '--default-deny');
  assert.equal(r.code, 1);
  assert.match(r.stdout, /the namespace denies by default and no ALLOW policy applies/);
  const labelled = await runMeshInProcess(['authz', 'check', 'deploy/frontend', 'sts/redis', '-n', 'shop', '-f', DIR, '-f', fileURLToPath(new URL('../fixtures/authz-default-deny/namespace.yaml', import.meta.url))]);
  assert.equal(labelled.code, 1, 'a later Namespace document with mesh.dev/default-deny=true wins');
});

test('check: bad input is a usage error naming it (exit 2)', async () => {
  for (const [args, want] of [
    [['deploy/frontend', 'deploy/nope'], /Deployment shop\/nope not found/],
    [['svc/catalog', 'deploy/catalog-v1'], /FROM "svc\/catalog" must name a workload/],
    [['spiffe://x', 'deploy/catalog-v1'], /not a mesh SPIFFE ID/],
    [['deploy/frontend', 'deploy/catalog-v1', '--port', '0'], /--port 0: not a port number/],
    [['deploy/frontend', 'deploy/catalog-v1', '--path', 'items'], /a request path starts with \//],
  ] as const) {
    const r = await check(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, want);
  }
});

test('list: policies, who may call the workload (SOME when it depends on the path), what it may call', async () => {
  const r = await runMeshInProcess(['authz', 'list', 'deploy/catalog-v1', '-n', 'shop', '-f', DIR, '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const rep = JSON.parse(r.stdout);
  assert.equal(rep.identity, 'spiffe://cluster.local/ns/shop/sa/catalog');
  assert.deepEqual(rep.policies.map((p: { policy: string; action: string }) => `${p.action} ${p.policy}`), ['ALLOW shop/catalog-from-frontend', 'DENY shop/no-admin']);
  const byCaller = Object.fromEntries(rep.inbound.map((x: { from: string; decision: string }) => [x.from, x.decision]));
  assert.deepEqual(byCaller, {
    'spiffe://cluster.local/ns/shop/sa/catalog': 'DENY',
    'spiffe://cluster.local/ns/shop/sa/default': 'DENY',
    'spiffe://cluster.local/ns/shop/sa/frontend': 'SOME',
    unauthenticated: 'DENY',
  });
  assert.deepEqual(rep.outbound.map((x: { to: string; decision: string }) => `${x.to} ${x.decision}`), ['catalog-v2 DENY', 'frontend ALLOW', 'redis ALLOW']);
});

let kube: TestCluster;
before(async () => {
  const docs = async (path: string) => parseAllDocuments(await readFile(path, 'utf8')).map((d) => d.toJS()).filter(Boolean);
  const crds = (await docs(fileURLToPath(new URL('../../templates/crds.yaml', import.meta.url)))).filter((d) => d.metadata.name === 'authorizationpolicies.mesh.dev');
  const objects = (await Promise.all(['namespace', 'catalog', 'frontend', 'redis', 'policies'].map((f) => docs(`${DIR}${f}.yaml`)))).flat();
  const config = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'mesh-config', namespace: 'mesh-system' }, data: { 'values.yaml': 'trustDomain: cluster.local\nmtls: {mode: STRICT}\nauthorization: {defaultDeny: true}\n' } };
  const pods = ['frontend', 'catalog-v1'].map((name) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `${name}-1`, namespace: 'shop', labels: objects.find((o) => o.metadata.name === name && o.kind === 'Deployment').spec.template.metadata.labels }, spec: objects.find((o) => o.metadata.name === name && o.kind === 'Deployment').spec.template.spec, status: { phase: 'Running', podIP: '10.0.0.1' } }));
  kube = await startApiServer({ seed: [...crds, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'mesh-system' } }, config, ...objects, ...pods] });
});
after(() => kube.stop());

test('live: objects from the cluster, mesh-wide default deny and STRICT mTLS from the installed values', async () => {
  const live = (...args: string[]) => runMeshInProcess(['authz', ...args, '-n', 'shop', '--kubeconfig', kube.kubeconfigPath]);
  const allowed = await live('check', 'deploy/frontend', 'deploy/catalog-v1', '--path', '/items');
  assert.equal(allowed.code, 0, allowed.stderr + allowed.stdout);
  assert.match(allowed.stdout, /catalog-v1-1\.shop:8080/, 'the running pod, not a template');
  const redis = await live('check', 'deploy/frontend', 'sts/redis', '-o', 'json');
  assert.equal(redis.code, 1);
  assert.match(JSON.parse(redis.stdout).results[0].reason, /denies by default/);
  const plain = await live('check', 'unauthenticated', 'deploy/catalog-v1', '-o', 'json');
  assert.equal(plain.code, 1);
  assert.equal(JSON.parse(plain.stdout).results[0].by, 'mtls', 'STRICT from the installed values refuses a caller without a certificate');
});
