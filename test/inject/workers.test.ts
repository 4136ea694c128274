import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runMesh } from '../support/cli.ts';
import { PIPELINE_AFTER, PIPELINE_BATCH, yamlWorkerCount } from '../../src/commands/inject-run.ts';

// Large inputs are parsed, injected and written on worker threads; the output and the report must
// be those of the single-threaded path, in input order, pass-through documents included.

const deployment = (i: number) => `# workload ${i}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web-${i}
  namespace: team-${i % 7}
spec:
  selector: {matchLabels: {app: web-${i}}}
  template:
    metadata:
      labels: {app: web-${i}, version: "1.${i % 3}"}
      annotations: {note: "on", build: "2024-01-0${(i % 9) + 1}"}
    spec:
      containers:
        - name: web
          image: ghcr.io/example/web:1.${i % 10}
          args: ["--port", "8080", "0b101", "1_000"]
          readinessProbe: {httpGet: {path: /ready, port: 8080}}
`;
const service = (i: number) => `apiVersion: v1\nkind: Service\nmetadata: {name: svc-${i}}\nspec:\n  ports: [{port: 80}]\n`;
const list = (i: number) => `apiVersion: v1\nkind: List\nitems:\n- ${deployment(i).split('\n').slice(1).join('\n  ').trimEnd()}\n`;
const optedOut = (i: number) => `apiVersion: v1\nkind: Namespace\nmetadata: {name: off-${i}, labels: {mesh.dev/inject: disabled}}\n---\n${deployment(i).replace(`namespace: team-${i % 7}`, `namespace: off-${i}`)}`;
const MAKERS = [deployment, deployment, service, list, deployment, optedOut];

/**
 * Namespaces that opt their pods out, declared far from their pods (earlier batches, other worker
 * threads, the documents done before the workers start), relabelled later, inside a List, and
 * spelled with escapes (YAML and JSON).
 */
function namespaceDoc(i: number): string | undefined {
  const off = (name: string) => `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${name}, labels: {mesh.dev/inject: disabled}}\n`;
  if (i === 0) return off('quiet');
  if (i % 150 === 7) return off(`late-${i}`);
  // Relabelled: its later pods are injected again.
  if (i % 150 === 107) return `apiVersion: v1\nkind: Namespace\nmetadata: {name: late-${i - 100}}\n`;
  if (i % 300 === 50) return `apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Namespace, metadata: {name: listed-${i}, labels: {mesh.dev/inject: disabled}}}\n`;
  if (i % 300 === 200) return `apiVersion: v1\nkind: "Name\\x73pace"\nmetadata: {name: escaped-${i}, labels: {mesh.dev/inject: disabled}}\n`;
  if (i % 300 === 250) return `{"apiVersion": "v1", "kind": "Namesp\\u0061ce", "metadata": {"name": "json-${i}", "labels": {"mesh.dev/inject": "disabled"}}}\n`;
  return undefined;
}

/** Which namespace document's pods document i holds, if any. */
function podNamespace(i: number): string | undefined {
  if (i % 10 === 3) return 'quiet';
  const k = i % 150;
  if (k === 77 || k === 140) return `late-${i - k + 7}`;
  const m = i % 300;
  if (m === 120 && i >= 300) return `listed-${i - 370}`;
  if (m === 260) return `escaped-${i - 60}`;
  if (m === 280) return `json-${i - 30}`;
  return undefined;
}

function input(n: number): string {
  const docs: string[] = [];
  for (let i = 0; i < n; i++) {
    const ns = namespaceDoc(i);
    const pods = podNamespace(i);
    docs.push(ns ?? (pods ? deployment(i).replace(`namespace: team-${i % 7}`, `namespace: ${pods}`) : MAKERS[i % MAKERS.length]!(i)));
  }
  return docs.join('---\n');
}

const ARGS = ['inject', '-f', '-', '--kube-version', '1.30', '--report', 'text'];

test('a large stdin input (on worker threads) gives the same bytes and report, in input order, as the single-threaded path; Namespaces reach pods in later batches', async () => {
  // Enough documents to start the workers and send them several batches, plus a partial one.
  const n = PIPELINE_AFTER + PIPELINE_BATCH * 6 + PIPELINE_BATCH / 2;
  const text = input(n);
  const single = await runMesh(ARGS, { input: text, env: { MESH_INJECT_WORKERS: '0' } });
  const pooled = await runMesh(ARGS, { input: text, env: { MESH_INJECT_WORKERS: '2' } });
  assert.equal(single.code, 0, single.stderr);
  assert.equal(pooled.code, 0, pooled.stderr);
  assert.ok(single.stdout.length > 0);
  assert.ok(pooled.stdout === single.stdout, 'worker output differs from the single-threaded output');
  assert.equal(pooled.stderr, single.stderr);
  // The Namespaces reached pods in later batches: declared before the workers started (quiet;
  // listed-50, in a List), in an earlier batch (late-307, relabelled at 407), with escapes (YAML
  // escaped-500, JSON json-550).
  const skipped = (name: string) => new RegExp(`deployment "${name}" skipped: its namespace is labelled mesh.dev/inject=disabled`).test(pooled.stderr);
  for (const name of ['web-503', 'web-420', 'web-377', 'web-560', 'web-580']) assert.ok(skipped(name), name);
  assert.match(pooled.stderr, /deployment "web-440" injected/);
  // Input order: every workload's name appears, in the order of the input.
  const names = [...pooled.stdout.matchAll(/^ {2}name: (web|svc)-(\d+)$/gm)].map((m) => Number(m[2]));
  assert.ok(names.length > PIPELINE_AFTER + PIPELINE_BATCH * 3, `${names.length} names`);
  assert.deepEqual(names, [...names].sort((a, b) => a - b));
  assert.equal(pooled.stdout.split(/^---$/m).length, text.split(/^---$/m).length);
  // And back: uninject on worker threads, the same again.
  const back = ['uninject', '-f', '-', '--report', 'json'];
  const u1 = await runMesh(back, { input: single.stdout, env: { MESH_INJECT_WORKERS: '0' } });
  const u2 = await runMesh(back, { input: single.stdout, env: { MESH_INJECT_WORKERS: '2' } });
  assert.equal(u1.code, 0, u1.stderr);
  assert.ok(u2.stdout === u1.stdout, 'uninject on workers differs');
  assert.equal(u2.stderr, u1.stderr);
});

test('an error in a document the workers handle: the same message, exit code and reports before it as the single-threaded path, no output', async () => {
  const n = PIPELINE_AFTER + PIPELINE_BATCH * 6;
  const docs = input(n).split('---\n');
  docs.splice(n - PIPELINE_BATCH * 2, 0, 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: BAD_NAME}\nspec: {template: {spec: {containers: []}}}\n');
  const text = docs.join('---\n');
  const single = await runMesh(ARGS, { input: text, env: { MESH_INJECT_WORKERS: '0' } });
  const pooled = await runMesh(ARGS, { input: text, env: { MESH_INJECT_WORKERS: '2' } });
  assert.equal(single.code, 2, single.stderr);
  assert.equal(pooled.code, 2);
  assert.equal(pooled.stdout, '');
  assert.match(pooled.stderr, /document \d+ \(line \d+\): deployment "BAD_NAME"/);
  assert.equal(pooled.stderr, single.stderr);
});

test('MESH_INJECT_WORKERS sets the number of worker threads (at most 8); otherwise none', () => {
  const cases: [string | undefined, number][] = [['0', 0], ['1', 1], ['3', 3], ['64', 8], [undefined, 0], ['', 0], ['two', 0], ['-1', 0]];
  for (const [v, want] of cases) assert.equal(yamlWorkerCount(v === undefined ? {} : { MESH_INJECT_WORKERS: v }), want, `MESH_INJECT_WORKERS=${v}`);
});
