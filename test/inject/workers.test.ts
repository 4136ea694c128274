import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runMesh } from '../support/cli.ts';
import { availableParallelism } from 'node:os';
import { PIPELINE_AFTER, PIPELINE_BATCH, yamlWorkerCount } from '../../src/commands/inject-run.ts';

// Large inputs have their YAML written on worker threads; the output must be the bytes the
// single-threaded path writes, in input order, pass-through documents included.

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

function input(n: number): string {
  const docs: string[] = [];
  for (let i = 0; i < n; i++) docs.push(MAKERS[i % MAKERS.length]!(i));
  return docs.join('---\n');
}

test('a large stdin input (YAML on worker threads) gives the same bytes, in input order, as the single-threaded path', async () => {
  // Enough injected objects to start the workers and send them several batches, plus a partial one.
  const n = Math.ceil(((PIPELINE_AFTER + PIPELINE_BATCH * 5 + PIPELINE_BATCH / 2) * MAKERS.length) / 4);
  const text = input(n);
  const args = ['inject', '-f', '-', '--kube-version', '1.30'];
  const single = await runMesh(args, { input: text, env: { MESH_INJECT_WORKERS: '0' } });
  const pooled = await runMesh(args, { input: text, env: { MESH_INJECT_WORKERS: '2' } });
  assert.equal(single.code, 0, single.stderr);
  assert.equal(pooled.code, 0, pooled.stderr);
  assert.ok(single.stdout.length > 0);
  assert.ok(pooled.stdout === single.stdout, 'worker output differs from the single-threaded output');
  assert.equal(pooled.stderr, single.stderr);
  // Input order: every workload's name appears, in the order of the input.
  const names = [...pooled.stdout.matchAll(/^ {2}name: (web|svc)-(\d+)$/gm)].map((m) => Number(m[2]));
  assert.ok(names.length > PIPELINE_AFTER + PIPELINE_BATCH * 5);
  assert.deepEqual(names, [...names].sort((a, b) => a - b));
  assert.equal(pooled.stdout.split(/^---$/m).length, text.split(/^---$/m).length);
});

test('MESH_INJECT_WORKERS sets the number of YAML worker threads; otherwise 2 on more than one core', () => {
  const auto = availableParallelism() > 1 ? 2 : 0;
  const cases: [string | undefined, number][] = [['0', 0], ['1', 1], ['3', 3], ['64', 8], [undefined, auto], ['', auto], ['two', auto], ['-1', auto]];
  for (const [v, want] of cases) assert.equal(yamlWorkerCount(v === undefined ? {} : { MESH_INJECT_WORKERS: v }), want, `MESH_INJECT_WORKERS=${v}`);
});
