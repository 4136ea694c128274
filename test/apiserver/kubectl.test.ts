// Fidelity proof: the real kubectl (1.32, from PATH) against the test API server. Skipped, with a
// message saying why, when kubectl is not installed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { execa } from 'execa';
import { startApiServer, type TestCluster } from '../support/kube.ts';

const probe = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
const skip = probe.error ? 'kubectl is not on PATH: install kubectl 1.32 to run the kubectl fidelity tests' : false;

let c: TestCluster;
let dir: string;

before(async () => {
  if (skip) return;
  c = await startApiServer();
  dir = mkdtempSync(join(tmpdir(), 'kubectl-test-'));
});
after(async () => {
  if (skip) return;
  await c.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Run kubectl with the test kubeconfig and a private HOME (no discovery cache shared with the user). */
async function kubectl(args: string[], opts: { kubeconfig?: string; input?: string } = {}) {
  const r = await execa('kubectl', ['--kubeconfig', opts.kubeconfig ?? c.kubeconfigPath, ...args], {
    env: { HOME: dir, KUBECONFIG: '', PATH: process.env.PATH ?? '' },
    extendEnv: false,
    reject: false,
    input: opts.input ?? '',
    timeout: 30_000,
  });
  return { code: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const deploymentYaml = (image: string, sidecar = true, replicas = 2) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
  labels: {app: web}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: ${image}
        ports: [{containerPort: 80}]
${sidecar ? '      - name: sidecar\n        image: envoy:1\n' : ''}---
apiVersion: v1
kind: ConfigMap
metadata: {name: web-config, namespace: default}
data: {mode: blue}
`;

describe('kubectl against the test API server', { skip, timeout: 60_000 }, () => {
  test('kubectl version and get show the server and tables like a real cluster', { timeout: 30_000 }, async () => {
    const v = await kubectl(['version', '-o', 'json']);
    assert.equal(v.code, 0, v.stderr);
    assert.equal(JSON.parse(v.stdout).serverVersion.gitVersion, 'v1.32.0');
    const ns = await kubectl(['get', 'namespaces']);
    assert.equal(ns.code, 0, ns.stderr);
    assert.match(ns.stdout, /^NAME\s+STATUS\s+AGE\n/);
    assert.match(ns.stdout, /^default\s+Active\s+\d+s$/m);
    const none = await kubectl(['get', 'pods', '-n', 'kube-public']);
    assert.equal(none.code, 0);
    assert.equal(none.stderr.trim(), 'No resources found in kube-public namespace.');
    const missing = await kubectl(['get', 'deployment', 'nope']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr.trim(), 'Error from server (NotFound): deployments.apps "nope" not found');
  });

  test('kubectl apply (client-side) creates, reports unchanged, configures with a strategic merge patch, and prunes a removed container', { timeout: 30_000 }, async () => {
    const f = file('web.yaml', deploymentYaml('nginx:1'));
    const first = await kubectl(['apply', '-f', f]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, 'deployment.apps/web created\nconfigmap/web-config created');
    const again = await kubectl(['apply', '-f', f]);
    assert.equal(again.stdout, 'deployment.apps/web unchanged\nconfigmap/web-config unchanged');

    const before = c.server.requests.length;
    const changed = await kubectl(['apply', '-f', file('web.yaml', deploymentYaml('nginx:2', false))]);
    assert.equal(changed.code, 0, changed.stderr);
    assert.equal(changed.stdout, 'deployment.apps/web configured\nconfigmap/web-config unchanged');
    const patch = c.server.requests.slice(before).find((r) => r.method === 'PATCH' && r.resource === 'deployments');
    assert.equal(patch?.contentType, 'application/strategic-merge-patch+json');
    assert.match(patch!.query, /fieldManager=kubectl-client-side-apply/);
    // kubectl read the OpenAPI v3 index, found fieldValidation on PATCH, and let the server validate
    // (with /openapi/v2 answering 404, which it tolerates).
    assert.ok(c.server.requests.slice(before).some((r) => r.path === '/openapi/v3' && r.code === 200));
    assert.match(patch!.query, /fieldValidation=Strict/);

    const dep = c.server.store.get({ group: 'apps', resource: 'deployments' }, 'default', 'web') as any;
    assert.deepEqual(dep.spec.template.spec.containers.map((x: any) => `${x.name}=${x.image}`), ['web=nginx:2'], 'the sidecar removed from the file is removed (three-way merge)');
    assert.ok(dep.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'].includes('nginx:2'));
    assert.equal(dep.metadata.generation, 2);

    const got = await kubectl(['get', 'deploy', 'web']);
    assert.match(got.stdout, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\nweb\s+0\/2\s+0\s+0\s+\d+s$/);
  });

  test('kubectl apply --server-side applies, conflicts with another manager (exit 1), and --force-conflicts takes over', { timeout: 30_000 }, async () => {
    const f = file('ssa.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa, namespace: default}\ndata: {color: red}\n');
    const first = await kubectl(['apply', '--server-side', '-f', f]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, 'configmap/ssa serverside-applied');
    const obj = c.server.store.get({ group: '', resource: 'configmaps' }, 'default', 'ssa') as any;
    assert.deepEqual(obj.metadata.managedFields.map((m: any) => `${m.manager}/${m.operation}`), ['kubectl/Apply']);

    const other = file('ssa2.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa, namespace: default}\ndata: {color: blue}\n');
    const conflict = await kubectl(['apply', '--server-side', '--field-manager', 'mesh', '-f', other]);
    assert.equal(conflict.code, 1);
    assert.match(conflict.stderr, /^error: Apply failed with 1 conflict: conflict with "kubectl": \.data\.color\nPlease review the fields above--they currently have other managers/);
    const forced = await kubectl(['apply', '--server-side', '--field-manager', 'mesh', '--force-conflicts', '-f', other]);
    assert.equal(forced.code, 0, forced.stderr);
    const color = await kubectl(['get', 'configmap', 'ssa', '-o', 'jsonpath={.data.color}']);
    assert.equal(color.stdout, 'blue');
  });

  test('kubectl delete removes objects and fails with NotFound for missing ones', { timeout: 30_000 }, async () => {
    await kubectl(['apply', '-f', file('del.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: gone, namespace: default}\n')]);
    const del = await kubectl(['delete', 'configmap', 'gone']);
    assert.equal(del.code, 0, del.stderr);
    assert.equal(del.stdout, 'configmap "gone" deleted');
    assert.equal(c.server.store.get({ group: '', resource: 'configmaps' }, 'default', 'gone'), undefined);
    const again = await kubectl(['delete', 'configmap', 'gone']);
    assert.equal(again.code, 1);
    assert.equal(again.stderr.trim(), 'Error from server (NotFound): configmaps "gone" not found');
    const ns = await kubectl(['create', 'namespace', 'temp']);
    assert.equal(ns.code, 0, ns.stderr);
    await kubectl(['create', 'configmap', 'inside', '-n', 'temp', '--from-literal=a=b']);
    const delNs = await kubectl(['delete', 'namespace', 'temp']);
    assert.equal(delNs.code, 0, delNs.stderr);
    assert.equal(delNs.stdout, 'namespace "temp" deleted');
    assert.equal(c.server.store.get({ group: '', resource: 'configmaps' }, 'temp', 'inside'), undefined);
  });

  test('kubectl get -w prints the table and then a line per event', { timeout: 30_000 }, async () => {
    await kubectl(['create', 'namespace', 'watched']);
    const child = spawn('kubectl', ['--kubeconfig', c.kubeconfigPath, 'get', 'configmaps', '-n', 'watched', '-w', '--output-watch-events'], { env: { HOME: dir, PATH: process.env.PATH ?? '' } });
    const lines: string[] = [];
    const rl = createInterface({ input: child.stdout });
    const seen = (n: number) => new Promise<void>((resolve) => {
      const check = () => lines.length >= n && resolve();
      rl.on('line', (l) => {
        lines.push(l);
        check();
      });
      check();
    });
    try {
      // Start changing things once the watch is open on the server.
      await c.server.watchesOpen();
      const cm = c.server.resource('', 'ConfigMap');
      c.server.api.create(cm, 'watched', { metadata: { name: 'w1' }, data: { a: '1' } });
      c.server.api.patch(cm, 'watched', 'w1', 'application/merge-patch+json', { data: { b: '2' } });
      c.server.api.delete(cm, 'watched', 'w1');
      await seen(4);
    } finally {
      child.kill();
    }
    assert.match(lines[0]!, /^EVENT\s+NAME\s+DATA\s+AGE$/);
    assert.deepEqual(lines.slice(1, 4).map((l) => l.split(/\s+/).slice(0, 3).join(' ')), ['ADDED w1 1', 'MODIFIED w1 2', 'DELETED w1 2']);
  });

  test('kubectl auth can-i answers yes (exit 0) and no (exit 1) from the rules', { timeout: 30_000 }, async () => {
    const yes = await kubectl(['auth', 'can-i', 'delete', 'pods', '-n', 'default']);
    assert.equal(yes.code, 0);
    assert.equal(yes.stdout.trim(), 'yes');
    const token = c.server.addUser('reader', [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] }]);
    const kc = c.kubeconfigFor(token, 'reader');
    const read = await kubectl(['auth', 'can-i', 'list', 'pods', '-n', 'default'], { kubeconfig: kc });
    assert.equal(read.code, 0);
    assert.equal(read.stdout.trim(), 'yes');
    const no = await kubectl(['auth', 'can-i', 'delete', 'pods', '-n', 'default'], { kubeconfig: kc });
    assert.equal(no.code, 1);
    assert.equal(no.stdout.trim(), 'no');
    // The admin may impersonate: --as checks another user's permissions.
    const asReader = await kubectl(['auth', 'can-i', 'delete', 'pods', '-n', 'default', '--as', 'reader']);
    assert.equal(asReader.code, 1);
    assert.equal(asReader.stdout.trim(), 'no');
    const readerAsAdmin = await kubectl(['get', 'pods', '--as', 'admin'], { kubeconfig: kc });
    assert.equal(readerAsAdmin.code, 1);
    assert.equal(readerAsAdmin.stderr.trim(), 'Error from server (Forbidden): users "admin" is forbidden: User "reader" cannot impersonate resource "users" in API group "" at the cluster scope');
    const forbidden = await kubectl(['get', 'deployments', '-n', 'default'], { kubeconfig: kc });
    assert.equal(forbidden.code, 1);
    assert.equal(forbidden.stderr.trim(), 'Error from server (Forbidden): deployments.apps is forbidden: User "reader" cannot list resource "deployments" in API group "apps" in the namespace "default"');
  });

  test('kubectl retries a throttled request (429 with Retry-After) and succeeds', { timeout: 30_000 }, async () => {
    c.server.addFault({ verb: 'list', resource: 'configmaps', namespace: 'kube-public', code: 429, message: 'Too many requests, please try again later.', retryAfterSeconds: 0, times: 2 });
    const r = await kubectl(['get', 'configmaps', '-n', 'kube-public']);
    assert.equal(r.code, 0, r.stderr);
    const throttled = c.server.requests.filter((x) => x.resource === 'configmaps' && x.namespace === 'kube-public' && x.code === 429);
    assert.equal(throttled.length, 2);
  });

  test('kubectl get --chunk-size pages through a list with limit and continue, every object once and in order', { timeout: 30_000 }, async () => {
    // Names that differ by "-", "." and digits at the same position, in two namespaces: pages split inside and across them.
    const names = ['a-1', 'a-10', 'a.1', 'a1', 'b', 'b-0', 'c'];
    c.server.seed([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'paging-a' } },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'paging-b' } },
      ...['paging-a', 'paging-b'].flatMap((namespace) => names.map((name) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, labels: { paging: 'yes' } } }))),
    ]);
    const from = c.server.requests.length;
    const r = await kubectl(['get', 'configmaps', '-A', '-l', 'paging=yes', '--chunk-size=2', '-o', 'name']);
    assert.equal(r.code, 0, r.stderr);
    const whole = await kubectl(['get', 'configmaps', '-A', '-l', 'paging=yes', '--chunk-size=0', '-o', 'name']);
    assert.equal(r.stdout, whole.stdout);
    assert.equal(r.stdout.trim().split('\n').length, 2 * names.length);
    const pages = c.server.requests.slice(from).filter((x) => x.resource === 'configmaps' && /(^|&)limit=2(&|$)/.test(x.query));
    assert.equal(pages.length, 7);
    assert.equal(pages.filter((x) => x.query.includes('continue=')).length, 6);
  });

  test('kubectl logs prints what the test registered for the container', { timeout: 30_000 }, async () => {
    c.server.seed([{ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'talker', namespace: 'default' }, spec: { containers: [{ name: 'app', image: 'a' }, { name: 'proxy', image: 'p' }] } }]);
    c.server.setPodLogs('default', 'talker', 'proxy', 'line 1\nline 2\nline 3\n');
    const r = await kubectl(['logs', 'talker', '-c', 'proxy', '--tail=2']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'line 2\nline 3');
  });

  test('kubectl serves custom resources once their CRD is established', { timeout: 30_000 }, async () => {
    const crd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.test.mesh.dev}
spec:
  group: test.mesh.dev
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget, shortNames: [gd]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    additionalPrinterColumns:
    - {name: Size, type: integer, jsonPath: .spec.size}
    - {name: Ready, type: string, jsonPath: '.status.conditions[?(@.type=="Ready")].status'}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
`;
    const r = await kubectl(['apply', '-f', file('crd.yaml', crd)]);
    assert.equal(r.code, 0, r.stderr);
    const cr = await kubectl(['apply', '-f', file('cr.yaml', 'apiVersion: test.mesh.dev/v1\nkind: Gadget\nmetadata: {name: g1, namespace: default}\nspec: {size: 3}\n')]);
    assert.equal(cr.code, 0, cr.stderr);
    assert.equal(cr.stdout, 'gadget.test.mesh.dev/g1 created');
    const cr2 = await kubectl(['apply', '-f', file('cr.yaml', 'apiVersion: test.mesh.dev/v1\nkind: Gadget\nmetadata: {name: g1, namespace: default}\nspec: {size: 4}\n')]);
    assert.equal(cr2.stdout, 'gadget.test.mesh.dev/g1 configured');
    const status = await kubectl(['patch', 'gadget', 'g1', '--subresource=status', '--type=merge', '-p', '{"status":{"conditions":[{"type":"Ready","status":"True"}]}}']);
    assert.equal(status.code, 0, status.stderr);
    const got = await kubectl(['get', 'gd']);
    assert.match(got.stdout, /^NAME\s+SIZE\s+READY\s+AGE\ng1\s+4\s+True\s+\d+s$/, 'additionalPrinterColumns are the columns');
    const crds = await kubectl(['get', 'crd']);
    assert.match(crds.stdout, /^NAME\s+CREATED AT\ngadgets\.test\.mesh\.dev\s+\d{4}-\d\d-\d\dT/);
  });
});
