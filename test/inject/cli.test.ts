import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { loadedAny, runMesh, runMeshInProcess as mesh, runMeshTraced, ROOT } from '../support/cli.ts';

// Most cases run the CLI in-process (same parsing, handlers and error rendering; no process start);
// the README command, a stdin round trip, an exit 2, a closed pipe and the import trace run bin/mesh.
import { validateWorkload } from './schema.ts';

const dir = () => mkdtempSync(join(tmpdir(), 'mesh-inject-cli-'));
const deploy = (name: string) =>
  `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${name}\nspec:\n  selector: {matchLabels: {app: ${name}}}\n  template:\n    metadata: {labels: {app: ${name}}}\n    spec:\n      containers: [{name: app, image: nginx}]\n`;
const docs = (text: string) => parseAllDocuments(text).map((d) => d.toJS() as any);

test('README first command: examples/shop injects cleanly with -R, every workload schema-valid', async () => {
  const r = await runMesh(['inject', '-f', 'examples/shop', '-R', '--report']);
  assert.equal(r.code, 0, r.stderr);
  const out = docs(r.stdout);
  const injected = out.filter((o) => o?.spec?.template?.metadata?.annotations?.['mesh.dev/status']);
  assert.deepEqual(injected.map((o) => o.metadata.name).sort(), ['catalog-v1', 'catalog-v2', 'frontend', 'redis']);
  for (const o of out) validateWorkload(o);
  assert.match(r.stderr, /^deployment "frontend" injected$/m);
  assert.match(r.stderr, /^service "catalog" skipped: kind Service has no pod template$/m);
  assert.match(r.stderr, /^12 resources: .*4 injected/m);
  assert.match(r.stderr, /^native sidecar: off \(auto, and the Kubernetes version is unknown/m);
});

test('stdin in, stdout out in input order; re-injecting the output changes nothing, byte for byte', async () => {
  const input = `${deploy('a')}---\n# keep me\napiVersion: v1\nkind: Service\nmetadata: {name: a}   # odd spacing kept\n---\n${deploy('b')}`;
  const r = await runMesh(['inject', '-f', '-'], { input });
  assert.equal(r.code, 0, r.stderr);
  const parts = r.stdout.split(/^---\n/m);
  assert.equal(parts.length, 3);
  assert.equal(parts[1], '# keep me\napiVersion: v1\nkind: Service\nmetadata: {name: a}   # odd spacing kept\n');
  assert.deepEqual(docs(r.stdout).map((o) => o.metadata.name), ['a', 'a', 'b']);
  const again = await mesh(['inject', '-f', '-', '--report'], { input: r.stdout });
  assert.equal(again.code, 0);
  assert.equal(again.stdout, r.stdout);
  assert.match(again.stderr, /deployment "a" unchanged \(already injected\)/);
});

test('uninject restores the original objects', async () => {
  const input = `${deploy('a')}---\n${deploy('b')}`;
  const injected = await mesh(['inject', '-f', '-', '--native-sidecar', 'on'], { input });
  const r = await mesh(['uninject', '-f', '-', '-v'], { input: injected.stdout });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(docs(r.stdout), docs(input));
  assert.match(r.stderr, /deployment "a" uninjected/);
});

test('-o json prints one List; --report json prints a machine-readable report on stderr', async () => {
  const r = await mesh(['inject', '-f', '-', '-o', 'json', '--report', 'json', '--kube-version', '1.30'], { input: `${deploy('a')}---\nkind: Service\napiVersion: v1\nmetadata: {name: s}\n` });
  assert.equal(r.code, 0, r.stderr);
  const list = JSON.parse(r.stdout);
  assert.equal(list.kind, 'List');
  assert.deepEqual(list.items.map((o: any) => o.kind), ['Deployment', 'Service']);
  const report = JSON.parse(r.stderr);
  assert.deepEqual(report.nativeSidecar, { enabled: true, reason: 'native sidecar: on (auto, Kubernetes 1.30 >= 1.29)' });
  assert.deepEqual(report.resources.map((x: any) => [x.kind, x.name, x.action, x.reason ?? null]), [
    ['Deployment', 'a', 'injected', null],
    ['Service', 's', 'skipped', 'unsupportedKind'],
  ]);
  assert.deepEqual(report.summary, { total: 2, actions: { injected: 1, skipped: 1 }, skipped: { unsupportedKind: 1 } });
});

test('--values and --set apply as for install; an unknown key is exit 2', async () => {
  const d = dir();
  writeFileSync(join(d, 'v.yaml'), 'proxy:\n  image: my/envoy:1\n  uid: 4242\n');
  const r = await mesh(['inject', '-f', '-', '--values', join(d, 'v.yaml'), '--set', 'proxy.uid=4343'], { input: deploy('a') });
  assert.equal(r.code, 0, r.stderr);
  const o = docs(r.stdout)[0];
  const proxy = o.spec.template.spec.containers.find((c: any) => c.name === 'mesh-proxy');
  assert.equal(proxy.image, 'my/envoy:1');
  assert.equal(proxy.securityContext.runAsUser, 4343);
  const bad = await mesh(['inject', '-f', '-', '--set', 'proxy.imag=x'], { input: deploy('a') });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown value "proxy.imag"/);
});

test('bad YAML: exit 2 naming file, document and line; nothing on stdout', async () => {
  const d = dir();
  const f = join(d, 'app.yaml');
  writeFileSync(f, `${deploy('a')}---\nkind: Service\nmetadata:\n  name: x\n    bad: indent\n`);
  const r = await mesh(['inject', '-f', f]);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, new RegExp(`^error: ${f.replace(/[/.]/g, '\\$&')}: document 2 \\(line 15, column 8\\): invalid YAML`, 'm'));
  assert.match(r.stderr, /hint: /);
});

test('an unknown annotation value is exit 2 naming the annotation, the object and where it is', async () => {
  const input = deploy('a').replace('metadata: {labels: {app: a}}', 'metadata: {labels: {app: a}, annotations: {mesh.dev/inject: "yes"}}');
  const r = await mesh(['inject', '-f', '-'], { input });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /error: -: document 1 \(line 1\): deployment "a": annotation mesh\.dev\/inject: "yes" is not enabled or disabled/);
});

test('missing file and bad flags: exit 2 with a hint', async () => {
  const r = await runMesh(['inject', '-f', 'nope.yaml']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /nope\.yaml: no such file or directory/);
  const n = await mesh(['inject']);
  assert.equal(n.code, 2);
  assert.match(n.stderr, /no input: pass -f FILE/);
  const o = await mesh(['inject', '-f', '-', '-o', 'table']);
  assert.equal(o.code, 2);
  assert.match(o.stderr, /this command does not print -o table\n {2}hint: use one of: yaml, json/);
});

test('--in-place rewrites changed files via a temporary file; untouched files keep their bytes', async () => {
  const d = dir();
  cpSync(join(ROOT, 'examples/shop'), d, { recursive: true });
  mkdirSync(join(d, 'more'));
  writeFileSync(join(d, 'more', 'job.yaml'), deploy('nested'));
  const before = readFileSync(join(d, 'namespace.yaml'), 'utf8');
  const r = await mesh(['inject', '-f', d, '-R', '--in-place']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  assert.equal(readFileSync(join(d, 'namespace.yaml'), 'utf8'), before);
  assert.match(readFileSync(join(d, 'frontend.yaml'), 'utf8'), /mesh\.dev\/status/);
  assert.match(readFileSync(join(d, 'more', 'job.yaml'), 'utf8'), /mesh\.dev\/status/);
  assert.deepEqual(readdirSync(d).filter((f) => f.includes('.tmp')), []);
});

test('--in-place is all or nothing: an error in a later file leaves every file as it was', async () => {
  const d = dir();
  writeFileSync(join(d, 'a.yaml'), deploy('a'));
  writeFileSync(join(d, 'b.yaml'), `${deploy('b')}---\n: : bad\n  - [\n`);
  const r = await mesh(['inject', '-f', d, '--in-place']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /b\.yaml: document 2/);
  assert.equal(readFileSync(join(d, 'a.yaml'), 'utf8'), deploy('a'));
  assert.deepEqual(readdirSync(d).sort(), ['a.yaml', 'b.yaml'], 'no temporary file is left behind');
});

test('--in-place into a directory that cannot be written fails with exit 2 and writes nothing', { skip: process.getuid?.() === 0 ? 'root can write anywhere' : false }, async () => {
  const d = dir();
  writeFileSync(join(d, 'a.yaml'), deploy('a'));
  chmodSync(d, 0o555);
  try {
    const r = await mesh(['inject', '-f', join(d, 'a.yaml'), '--in-place']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /cannot write .*a\.yaml/);
    assert.equal(readFileSync(join(d, 'a.yaml'), 'utf8'), deploy('a'));
  } finally {
    chmodSync(d, 0o755);
  }
});

test('kind: List input stays a List with its workloads injected', async () => {
  const input = `apiVersion: v1\nkind: List\nitems:\n- ${deploy('l').trimEnd().replace(/\n/g, '\n  ')}\n`;
  const r = await mesh(['inject', '-f', '-'], { input });
  assert.equal(r.code, 0, r.stderr);
  const out = parse(r.stdout);
  assert.equal(out.kind, 'List');
  assert.ok(out.items[0].spec.template.metadata.annotations['mesh.dev/status']);
});

test('--from-cluster with no kubeconfig is exit 3 with a hint (it is the only flag that reads one)', async () => {
  const r = await mesh(['inject', '-f', '-', '--from-cluster'], { input: deploy('a') });
  assert.equal(r.code, 3);
  assert.match(r.stderr, /no kubeconfig found/);
});

test('offline: inject reads no kubeconfig and loads no Kubernetes client unless --from-cluster', async () => {
  const d = dir();
  const r = await runMeshTraced(['inject', '-f', 'examples/shop', '-R'], { env: { KUBECONFIG: join(d, 'does-not-exist') } });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.modules.some((u) => u.endsWith('/dist/manifests/inject.js')), 'the trace must see the injector load');
  assert.equal(loadedAny(r.modules, ['@kubernetes/client-node']), undefined);
});

test('Namespace documents earlier in the input opt their pods out with mesh.dev/inject=disabled', async () => {
  const ns = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: legacy\n  labels: {mesh.dev/inject: disabled}\n';
  const input = `${ns}---\n${deploy('old').replace('name: old', 'name: old\n  namespace: legacy')}---\n${deploy('new')}`;
  const r = await mesh(['inject', '-f', '-', '--report', 'text'], { input });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /deployment "old" skipped: its namespace is labelled mesh\.dev\/inject=disabled/);
  assert.match(r.stderr, /deployment "new" injected/);
});

test('--in-place keeps a JSON file JSON', async () => {
  const d = dir();
  const obj = parse(deploy('j'));
  writeFileSync(join(d, 'j.json'), JSON.stringify(obj));
  const r = await mesh(['inject', '-f', join(d, 'j.json'), '--in-place']);
  assert.equal(r.code, 0, r.stderr);
  const back = JSON.parse(readFileSync(join(d, 'j.json'), 'utf8'));
  assert.ok(back.spec.template.metadata.annotations['mesh.dev/status']);
});

test('a reader that goes away early (| head) ends the run quietly, exit 0', async () => {
  const { spawn } = await import('node:child_process');
  const { MESH_BIN } = await import('../support/cli.ts');
  const child = spawn(process.execPath, [MESH_BIN, 'inject', '-f', '-'], { env: { HOME: '/nonexistent-home', PATH: process.env.PATH }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c));
  child.stdin.on('error', () => {});
  child.stdout.once('data', () => child.stdout.destroy());
  for (let i = 0; i < 3000; i++) child.stdin.write(`${deploy(`d${i}`)}---\n`);
  child.stdin.end();
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  assert.equal(code, 0, stderr.slice(-500));
  assert.doesNotMatch(stderr, /EPIPE|Error:/);
});

test('a missing file among several fails before anything is written', async () => {
  const d = dir();
  writeFileSync(join(d, 'a.yaml'), deploy('a'));
  const r = await mesh(['inject', '-f', join(d, 'a.yaml'), '-f', join(d, 'missing.yaml')]);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /missing\.yaml: no such file or directory/);
});
