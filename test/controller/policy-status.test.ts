// The Accepted condition the leader writes on AuthorizationPolicies and ExternalServices: why a
// policy does nothing (skipped, bad principal, selects no workload, conflicts) is on the object.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PolicyStatusWriter, policyConditions, policyStatus } from '../../src/controller/policy-status.ts';
import { buildModel } from '../../src/model/index.ts';
import type { Cluster, KubeObject } from '../../src/cluster/types.ts';

const authz = (name: string, spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'mesh.dev/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name, namespace: 'shop', generation: 2, resourceVersion: '7' }, spec });
const ext = (name: string, created: string, spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'mesh.dev/v1alpha1', kind: 'ExternalService', metadata: { name, namespace: 'shop', creationTimestamp: created, resourceVersion: '8' }, spec });
const objects: KubeObject[] = [
  { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: 'shop', labels: { app: 'web' } }, spec: { containers: [{ name: 'app' }] } },
  authz('ok', { selector: { matchLabels: { app: 'web' } }, rules: [{ from: [{ principals: ['cluster.local/ns/shop/sa/front'] }] }] }),
  authz('nothing', { selector: { matchLabels: { app: 'gone' } }, rules: [] }),
  authz('bad-action', { action: 'AUDIT' }),
  authz('bad-principal', { rules: [{ from: [{ principals: ['frontend'] }] }] }),
  ext('payments', '2026-01-01T00:00:00Z', { hosts: ['api.payments.example'], ports: [{ number: 443, protocol: 'TLS' }] }),
  ext('late', '2026-02-01T00:00:00Z', { hosts: ['api.payments.example'], ports: [{ number: 443, protocol: 'TLS' }] }),
];

test('policyConditions: Accepted, TargetNotFound, Invalid and Conflicted with a message that says why', () => {
  const c = policyConditions(objects, buildModel(objects));
  const r = (k: string) => [c.get(k)?.status, c.get(k)?.reason];
  assert.deepEqual(r('AuthorizationPolicy shop/ok'), ['True', 'Accepted']);
  assert.deepEqual(r('AuthorizationPolicy shop/nothing'), ['False', 'TargetNotFound']);
  assert.deepEqual(r('AuthorizationPolicy shop/bad-action'), ['False', 'Invalid']);
  assert.match(c.get('AuthorizationPolicy shop/bad-action')!.message, /action AUDIT is not ALLOW or DENY/);
  assert.match(c.get('AuthorizationPolicy shop/bad-principal')!.message, /principal frontend is not TRUST_DOMAIN/);
  assert.deepEqual(r('ExternalService shop/payments'), ['True', 'Accepted']);
  assert.deepEqual(r('ExternalService shop/late'), ['False', 'Conflicted']);
  assert.match(c.get('ExternalService shop/late')!.message, /already registered by ExternalService shop\/payments/);
});

test('policyStatus: observedGeneration and transition time kept while the status does not change; nothing new writes nothing', () => {
  const o = objects[1]!;
  const s = policyStatus(o, { status: 'True', reason: 'Accepted', message: 'm' }, '2026-01-01T00:00:00Z')!;
  assert.deepEqual(s, { conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: 'm', lastTransitionTime: '2026-01-01T00:00:00Z', observedGeneration: 2 }], observedGeneration: 2 });
  assert.equal(policyStatus({ ...o, status: s }, { status: 'True', reason: 'Accepted', message: 'm' }, '2026-03-03T00:00:00Z'), undefined);
});

test('PolicyStatusWriter writes each policy once through the status subresource, and not again from the same version', async () => {
  const writes: KubeObject[] = [];
  const cluster = { replaceStatus: async (obj: KubeObject) => { writes.push(obj); return obj; } } as unknown as Cluster;
  const w = new PolicyStatusWriter(cluster);
  const model = buildModel(objects);
  await w.sync(objects, model);
  await w.sync(objects, model);
  assert.deepEqual(writes.map((x) => `${x.kind} ${x.metadata.name} ${(x.status as { conditions: { reason: string }[] }).conditions[0]!.reason}`).sort(), [
    'AuthorizationPolicy bad-action Invalid', 'AuthorizationPolicy bad-principal Invalid', 'AuthorizationPolicy nothing TargetNotFound', 'AuthorizationPolicy ok Accepted',
    'ExternalService late Conflicted', 'ExternalService payments Accepted',
  ]);
});

test('policyConditions: a TrafficPolicy carries the condition the model judged it with (GEP-713 reasons)', () => {
  const tp = (name: string, created: string, spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'mesh.dev/v1alpha1', kind: 'TrafficPolicy', metadata: { name, namespace: 'shop', creationTimestamp: created }, spec });
  const svc: KubeObject = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { ports: [{ name: 'http', port: 80 }] } };
  const objs = [svc, tp('first', '2026-01-01T00:00:00Z', { targetRefs: [{ group: '', kind: 'Service', name: 'web' }], connectionPool: { maxRequests: 5 } }),
    tp('second', '2026-02-01T00:00:00Z', { targetRefs: [{ group: '', kind: 'Service', name: 'web' }], connectionPool: { maxRequests: 9 } }),
    tp('ghost', '2026-01-01T00:00:00Z', { targetRefs: [{ group: '', kind: 'Service', name: 'nope' }], connectionPool: { maxRequests: 1 } }),
    tp('zero', '2026-01-01T00:00:00Z', { targetRefs: [{ group: '', kind: 'Service', name: 'web', sectionName: 'http' }], rateLimit: { requests: 0 } })];
  const c = policyConditions(objs, buildModel(objs));
  const r = (k: string) => [c.get(`TrafficPolicy shop/${k}`)?.status, c.get(`TrafficPolicy shop/${k}`)?.reason];
  assert.deepEqual([r('first'), r('second'), r('ghost'), r('zero')], [['True', 'Accepted'], ['False', 'Conflicted'], ['False', 'TargetNotFound'], ['False', 'Invalid']]);
});
