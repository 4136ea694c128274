import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parse } from 'yaml';
import { toYaml } from '../../src/cluster/yaml.ts';
import { injectObject, jsonPatch, webhookPatch } from '../../src/manifests/inject.ts';
import { resolveValues } from '../../src/manifests/values.ts';
import { runMeshInProcess } from '../support/cli.ts';
import { applyPatch } from '../support/json-patch.ts';
import { workload } from './arbitraries.ts';

const values = resolveValues();
const pods = workload.filter((w) => w.kind === 'Pod');

test('webhook patch applied to a pod == the injected pod (generated pods, both sidecar modes)', () => {
  fc.assert(
    fc.property(pods, fc.boolean(), (pod, native) => {
      const { patch, report } = webhookPatch(pod, values, { nativeSidecar: native });
      const expected = injectObject(pod, values, { nativeSidecar: native }).object;
      assert.deepStrictEqual(applyPatch(pod, patch), expected);
      if (report.action === 'skipped') assert.deepEqual(patch, []);
      else assert.ok(patch.length > 0);
    }),
    { numRuns: 100 },
  );
});

test('webhook patch of an already injected pod is empty', () => {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { containers: [{ name: 'app', image: 'nginx' }] } };
  const injected = injectObject(pod, values, { nativeSidecar: true }).object;
  assert.deepEqual(webhookPatch(injected, values, { nativeSidecar: true }).patch, []);
});

test('webhook patch == what the CLI (`mesh inject`) prints for the same pod', async () => {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-1', namespace: 'shop', labels: { app: 'web' } },
    spec: {
      serviceAccountName: 'web',
      containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ name: 'http', containerPort: 8080 }], readinessProbe: { httpGet: { path: '/ready', port: 'http' } } }],
    },
  };
  for (const mode of ['on', 'off'] as const) {
    const r = await runMeshInProcess(['inject', '-f', '-', '--native-sidecar', mode], { input: toYaml(pod) });
    assert.equal(r.code, 0, r.stderr);
    const cli = parse(r.stdout);
    const { patch } = webhookPatch(pod, values, { nativeSidecar: mode === 'on' });
    assert.deepStrictEqual(applyPatch(pod, patch), cli);
  }
});

test('jsonPatch escapes keys per RFC 6901 and removes keys', () => {
  const ops = jsonPatch({ a: { 'x/y~z': 1, gone: true } }, { a: { 'x/y~z': 2 } });
  assert.deepEqual(ops, [
    { op: 'remove', path: '/a/gone' },
    { op: 'replace', path: '/a/x~1y~0z', value: 2 },
  ]);
});
