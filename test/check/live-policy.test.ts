// `mesh check` on a live cluster reads TrafficPolicies too: the same MSH0034-0036 findings as
// `mesh check -f`, from the same model the controller judges them with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { check, useRoots, type Obj } from './live-support.ts';

useRoots();

const crd: Obj = {
  apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'trafficpolicies.mesh.dev' },
  spec: { group: 'mesh.dev', scope: 'Namespaced', names: { kind: 'TrafficPolicy', plural: 'trafficpolicies', singular: 'trafficpolicy', listKind: 'TrafficPolicyList' }, versions: [{ name: 'v1alpha1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }] },
};
const policy = (name: string, target: string): Obj => ({ apiVersion: 'mesh.dev/v1alpha1', kind: 'TrafficPolicy', metadata: { name, namespace: 'shop' }, spec: { targetRefs: [{ group: '', kind: 'Service', name: target }], connectionPool: { maxRequests: 10 } } });

test('live: a TrafficPolicy whose target does not exist fails the policy analysis with MSH0034 (exit 1)', async () => {
  const { report, code } = await check({ edit: (objs) => [...objs, crd, policy('ok', 'web'), policy('ghost', 'nope')] });
  const analysis = report.checks.find((c) => c.id === 'policy.analysis')!;
  assert.equal(analysis.status, 'fail');
  const findings = report.findings.filter((f) => f.code.startsWith('MSH003'));
  assert.deepEqual(findings.map((f) => [f.code, f.resource.name]), [['MSH0034', 'ghost']]);
  assert.match(findings[0]!.message, /targetRef Service shop\/nope does not exist/);
  assert.equal(code, 1);
});
