// Offline views stand workload templates in for pods. `mesh check -f` adds the template pods'
// workloads to the model it already has (withPods) instead of building a second model: the
// workloads must be exactly those of building the model with the template pods among its objects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../src/cluster/types.ts';
import { buildModel, templatePods, withPods, withTemplatePods } from '../../src/model/index.ts';
import { seededRandom } from '../support/random.ts';

function manifests(seed: number): KubeObject[] {
  const rnd = seededRandom(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const out: KubeObject[] = [];
  for (const ns of ['a', 'b', 'c']) {
    const ann = rnd() < 0.4 ? { 'mesh.dev/mtls': pick(['STRICT', 'PERMISSIVE', 'DISABLE']) } : undefined;
    if (rnd() < 0.7) out.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, ...(ann ? { annotations: ann } : {}) } });
  }
  for (let i = 0; i < 60; i++) {
    const ns = pick(['a', 'b', 'c']);
    const app = `app${Math.floor(rnd() * 12)}`;
    const labels = { app, ...(rnd() < 0.5 ? { version: pick(['v1', 'v2']) } : {}) };
    const podSpec = {
      serviceAccountName: pick(['default', app]),
      containers: [{ name: 'c', image: 'x', ports: [{ name: 'http', containerPort: 8080 }, { name: 'grpc', containerPort: 9090 }] }],
    };
    const annotations: Record<string, string> = rnd() < 0.2 ? { 'mesh.dev/mtls': 'STRICT' } : {};
    const r = rnd();
    if (r < 0.45) {
      out.push({ apiVersion: 'apps/v1', kind: pick(['Deployment', 'StatefulSet', 'DaemonSet']), metadata: { name: `${app}-${i}`, namespace: ns }, spec: { selector: { matchLabels: { app } }, template: { metadata: { labels, annotations }, spec: podSpec } } });
    } else if (r < 0.65) {
      out.push({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `${app}-pod-${i}`, namespace: ns, labels, annotations }, spec: podSpec, status: { phase: 'Running', podIP: `10.0.0.${i}` } });
    } else if (r < 0.9) {
      out.push({ apiVersion: 'v1', kind: 'Service', metadata: { name: `${app}-${i}`, namespace: ns }, spec: { selector: rnd() < 0.8 ? { app } : undefined, ports: [{ name: pick(['http', 'grpc', 'tcp']), port: 80, targetPort: pick([8080, 'http', 'grpc', 9090]) }] } });
    } else {
      out.push({ apiVersion: 'mesh.dev/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name: `p${i}`, namespace: ns }, spec: { selector: { matchLabels: { app } }, rules: [{}] } });
    }
  }
  return out;
}

for (const seed of [1, 2, 3, 4, 5, 6]) {
  test(`withPods(model, templatePods) has the workloads of a model built with the template pods (seed ${seed})`, () => {
    const objects = manifests(seed);
    const whole = buildModel(withTemplatePods(objects));
    const added = withPods(buildModel(objects), templatePods(objects));
    assert.ok(whole.workloads.length > 0);
    assert.deepStrictEqual(added.workloads, whole.workloads);
    assert.deepStrictEqual(added.authz, whole.authz);
    assert.deepStrictEqual(added.namespaces, whole.namespaces);
  });
}

test('templatePods: none for a workload whose pods are in the input, one for each other workload', () => {
  const objects = manifests(7);
  const withOwn = objects.filter((o) => o.kind === 'Pod');
  const workloads = objects.filter((o) => ['Deployment', 'StatefulSet', 'DaemonSet'].includes(o.kind));
  const pods = templatePods(objects);
  assert.ok(pods.length > 0 && pods.length <= workloads.length);
  assert.deepStrictEqual(withTemplatePods(objects), [...objects, ...pods]);
  for (const p of pods) {
    const w = workloads.find((x) => x.metadata.name === p.metadata.name && x.metadata.namespace === p.metadata.namespace)!;
    const sel = (w.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels;
    assert.ok(!withOwn.some((o) => o.metadata.namespace === w.metadata.namespace && Object.entries(sel).every(([k, v]) => o.metadata.labels?.[k] === v)), `${p.metadata.name} has pods of its own`);
  }
});
