import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { runMesh, runMeshInProcess as mesh } from '../support/cli.ts';

// Most cases run the CLI in-process (same parsing, handlers and error rendering; no process start);
// bin/mesh runs where the process itself matters: output identical across processes, exit 1 of diff.

const tmp = mkdtempSync(join(tmpdir(), 'mesh-manifest-'));
const CA_CERT = 'test/fixtures/ca/root.crt';

test('mesh manifest generate is byte-identical across runs and parses as Kubernetes objects', async () => {
  const [a, b] = await Promise.all([runMesh(['manifest', 'generate', '--profile', 'ha']), mesh(['manifest', 'generate', '--profile', 'ha'])]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(a.stdout, b.stdout);
  const docs = parseAllDocuments(a.stdout).map((d) => d.toJS());
  assert.ok(docs.length > 10);
  assert.ok(docs.every((d) => d.apiVersion && d.kind && d.metadata?.name));
  assert.ok(docs.some((d) => d.kind === 'PodDisruptionBudget'));
});

test('-f and --set apply in order; -o json prints a v1 List', async () => {
  const f = join(tmp, 'values.yaml');
  writeFileSync(f, 'controller:\n  replicas: 5\ntrustDomain: example.org\n');
  const r = await mesh(['manifest', 'generate', '-f', f, '--set', 'controller.replicas=2', '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const list = JSON.parse(r.stdout);
  assert.equal(list.kind, 'List');
  const d = list.items.find((o: any) => o.kind === 'Deployment');
  assert.equal(d.spec.replicas, 2);
  assert.match(list.items.find((o: any) => o.metadata.name === 'mesh-config').data['values.yaml'], /trustDomain: example.org/);
});

const bad: [string, string[], RegExp][] = [
  ['a mistyped --set key', ['--set', 'controller.replcas=3'], /unknown value "controller.replcas"[\s\S]*did you mean "controller.replicas"/],
  ['a bad enum', ['--set', 'mtls.mode=strict'], /must be one of STRICT, PERMISSIVE/],
  ['an unknown profile', ['--profile', 'hha'], /unknown profile "hha"[\s\S]*did you mean "ha"/],
  ['a missing values file', ['-f', '/nonexistent/values.yaml'], /cannot read values file \/nonexistent\/values.yaml: no such file/],
  ['--ca-cert without --ca-key', ['--ca-cert', CA_CERT], /--ca-key is missing/],
];
for (const [name, args, message] of bad) {
  test(`values errors exit 2 with one line naming the problem: ${name}`, async () => {
    const r = await mesh(['manifest', 'generate', ...args]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
  });
}

test('a values file with broken YAML names the file and line (exit 2)', async () => {
  const f = join(tmp, 'broken.yaml');
  writeFileSync(f, 'controller:\n  replicas: [1,\n');
  const r = await mesh(['manifest', 'generate', '-f', f]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, new RegExp(`${f.replace(/[.]/g, '\\.')}:\\d+: not valid YAML`));
});

test('mesh profile list and show', async () => {
  const l = await mesh(['profile', 'list']);
  assert.equal(l.code, 0);
  assert.match(l.stdout, /^NAME\s+DESCRIPTION\n/);
  for (const p of ['default', 'minimal', 'demo', 'ha']) assert.match(l.stdout, new RegExp(`^${p}\\s`, 'm'));
  const s = await mesh(['profile', 'show', 'demo', '-o', 'json']);
  assert.equal(JSON.parse(s.stdout).mtls.mode, 'PERMISSIVE');
  const d = await mesh(['profile', 'show', 'ha', '--diff']);
  assert.match(d.stdout, /replicas: 3/);
  assert.doesNotMatch(d.stdout, /trustDomain/, '--diff shows only what the profile changes');
  const u = await mesh(['profile', 'show', 'minmal']);
  assert.equal(u.code, 2);
  assert.match(u.stderr, /did you mean "minimal"/);
});

test('mesh manifest diff A B: exit 0 when equal, 1 with a unified diff when not', async () => {
  const a = join(tmp, 'a.yaml');
  const b = join(tmp, 'b.yaml');
  writeFileSync(a, (await mesh(['manifest', 'generate'])).stdout);
  writeFileSync(b, (await mesh(['manifest', 'generate', '--profile', 'ha'])).stdout);
  const same = await mesh(['manifest', 'diff', a, a]);
  assert.equal(same.code, 0, same.stderr);
  assert.equal(same.stdout, '');
  assert.match(same.stderr, /no differences/);
  const r = await runMesh(['manifest', 'diff', a, b]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /^--- a\/Deployment\/mesh-system\/mesh-controller$/m);
  assert.match(r.stdout, /^- {2}replicas: 1$/m);
  assert.match(r.stdout, /^\+ {2}replicas: 3$/m);
  assert.match(r.stdout, /^--- \/dev\/null\n\+\+\+ b\/PodDisruptionBudget\/mesh-system\/mesh-controller$/m);
  assert.match(r.stderr, /1 added/);
});

test('mesh manifest diff needs two files or --cluster (exit 2)', async () => {
  const r = await mesh(['manifest', 'diff', 'only-one.yaml']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /needs two files \(got 1\)/);
});

test('--ca-cert/--ca-key are validated: not a CA, key mismatch, expired (exit 2 naming the file)', async () => {
  const { generateRoot } = await import('../../src/pki/index.ts');
  const old = await generateRoot({ trustDomain: 'cluster.local', ttl: '1h', now: new Date('2020-01-01T00:00:00Z') });
  const oldCert = join(tmp, 'old.crt');
  const oldKey = join(tmp, 'old.key');
  writeFileSync(oldCert, old.certPem);
  writeFileSync(oldKey, old.keyPem);
  const cases: [string, string, RegExp][] = [
    ['test/fixtures/ca/leaf.crt', 'test/fixtures/ca/leaf.key', /--ca-cert test\/fixtures\/ca\/leaf\.crt is not a CA certificate/],
    ['test/fixtures/ca/root.crt', 'test/fixtures/ca/leaf.key', /--ca-key test\/fixtures\/ca\/leaf\.key does not match/],
    [oldCert, oldKey, /expired/],
  ];
  for (const [cert, key, re] of cases) {
    const r = await mesh(['manifest', 'generate', '--ca-cert', cert, '--ca-key', key]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, re);
    assert.equal(r.stdout, '');
  }
  const ok = await mesh(['manifest', 'generate', '--ca-cert', 'test/fixtures/ca/root.crt', '--ca-key', 'test/fixtures/ca/root.key']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /kind: Secret/);
  assert.match(ok.stdout, /caBundle: /);
});

test('manifest diff -o json|yaml prints the differences as data (exit 1 when they differ, as without -o)', async () => {
  const a = join(tmp, 'diff-a.yaml');
  const b = join(tmp, 'diff-b.yaml');
  writeFileSync(a, 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: y}\ndata: {k: one}\n');
  writeFileSync(b, 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: y}\ndata: {k: two}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: z, namespace: y}\n');
  const r = await runMesh(['manifest', 'diff', a, b, '-o', 'json']);
  assert.equal(r.code, 1, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.differ, true);
  assert.deepEqual(doc.summary, { added: 1, changed: 1, removed: 0 });
  assert.deepEqual(doc.objects.map((o: any) => [o.ref, o.change]), [['ConfigMap/y/x', 'changed'], ['ConfigMap/y/z', 'added']]);
  assert.match(doc.objects[0].diff, /^- {2}k: one$/m);
  const same = await runMesh(['manifest', 'diff', a, a, '-o', 'yaml']);
  assert.equal(same.code, 0);
  assert.match(same.stdout, /^differ: false$/m);
});
