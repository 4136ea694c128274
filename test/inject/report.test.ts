import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runMesh } from '../support/cli.ts';

const deploy = (name: string, annotations = '') =>
  `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${name}\nspec:\n  selector: {matchLabels: {app: ${name}}}\n  template:\n    metadata: {labels: {app: ${name}}${annotations}}\n    spec:\n      containers: [{name: app, image: nginx}]\n`;
const job = (name: string) => `apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: ${name}\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: app, image: busybox}]\n`;
const service = (name: string) => `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\nspec:\n  ports: [{port: 80}]\n`;
const stream = (...docs: string[]) => docs.join('---\n');
const mixed = stream(deploy('a'), deploy('b'), service('s'), deploy('off', ', annotations: {mesh.dev/inject: disabled}'));
const lines = (s: string) => s.split('\n').filter(Boolean);

test('by default the report is one summary line with skip reasons in words, plus the native-sidecar mode since proxies were added', async () => {
  const r = await runMesh(['inject', '-f', '-'], { input: mixed });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(lines(r.stderr), [
    'native sidecar: off (auto, and the Kubernetes version is unknown: pass --kube-version or --from-cluster)',
    '4 resources: 2 injected, 2 skipped (skipped: 1 not a workload kind mesh injects; 1 opted out by annotation mesh.dev/inject=disabled)',
  ]);
  assert.doesNotMatch(r.stderr, /unsupportedKind|optedOut/, 'no internal codes in text');
});

test('-v and --report list every resource; --report json keeps the codes for machines', async () => {
  for (const flag of [['-v'], ['--report'], ['--report', 'text']]) {
    const r = await runMesh(['inject', '-f', '-', ...flag], { input: mixed });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^deployment "a" injected$/m, flag.join(' '));
    assert.match(r.stderr, /^service "s" skipped: kind Service has no pod template$/m);
    assert.match(r.stderr, /^4 resources: /m);
  }
  const j = await runMesh(['inject', '-f', '-', '--report', 'json'], { input: mixed });
  assert.deepEqual(JSON.parse(j.stderr).summary.skipped, { unsupportedKind: 1, optedOut: 1 });
});

test('-q prints no report at all; -q with --report is a contradiction (exit 2)', async () => {
  const r = await runMesh(['inject', '-f', '-', '-q'], { input: mixed });
  assert.equal(r.code, 0);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /mesh-proxy/);
  const both = await runMesh(['inject', '-f', '-', '-q', '--report', 'json'], { input: mixed });
  assert.equal(both.code, 2);
});

test('the same note on many resources prints once, naming a few and counting the rest', async () => {
  const input = stream(...Array.from({ length: 50 }, (_, i) => job(`j${i}`)));
  for (const flag of [[], ['-v']]) {
    const r = await runMesh(['inject', '-f', '-', '--native-sidecar', 'off', ...flag], { input });
    assert.equal(r.code, 0, r.stderr);
    const notes = lines(r.stderr).filter((l) => l.includes('a Job pod with a classic sidecar'));
    assert.equal(notes.length, 1, r.stderr);
    assert.match(notes[0]!, /\(job "j0", job "j1", job "j2" and 47 more\)$/);
  }
});

test('the native-sidecar notice only when it matters: not when nothing got a proxy, not when --native-sidecar chose it', async () => {
  const none = await runMesh(['inject', '-f', '-'], { input: stream(service('s'), service('t')) });
  assert.deepEqual(lines(none.stderr), ['2 resources: 2 skipped (skipped: 2 not a workload kind mesh injects)']);
  const chosen = await runMesh(['inject', '-f', '-', '--native-sidecar', 'on'], { input: deploy('a') });
  assert.deepEqual(lines(chosen.stderr), ['1 resource: 1 injected']);
});

test('uninject reports the same way: one summary line by default', async () => {
  const injected = await runMesh(['inject', '-f', '-', '-q'], { input: stream(deploy('a'), service('s')) });
  const r = await runMesh(['uninject', '-f', '-'], { input: injected.stdout });
  assert.deepEqual(lines(r.stderr), ['2 resources: 1 uninjected, 1 skipped (skipped: 1 not a workload kind mesh injects)']);
});

test('inject and uninject refuse -n and -A (exit 2): they read manifests, each document keeps its namespace', async () => {
  for (const args of [['inject', '-n', 'shop'], ['uninject', '-A'], ['-n', 'shop', 'inject']]) {
    const r = await runMesh([...args, '-f', '-'], { input: deploy('a') });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /does not take (-n\/--namespace|-A\/--all-namespaces): it reads manifests/);
    assert.equal(r.stdout, '');
  }
});
