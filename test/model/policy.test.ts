import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backendPolicy, buildModel } from '../../src/model/index.ts';
import type { KubeObject } from '../../src/cluster/types.ts';

const NS = 'shop';
const svc: KubeObject = {
  apiVersion: 'v1', kind: 'Service',
  metadata: { name: 'web', namespace: NS, annotations: { 'mesh.dev/circuit-breaker': '{"maxRequests":7}', 'mesh.dev/outlier-detection': '{"consecutive5xx":9}' } },
  spec: { ports: [{ name: 'http', port: 80 }, { name: 'grpc', port: 90 }] },
};
const route: KubeObject = {
  apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'web', namespace: NS, annotations: { 'mesh.dev/fault': '{"abort":{"percent":1,"httpStatus":500}}' } },
  spec: { parentRefs: [{ group: '', kind: 'Service', name: 'web' }], rules: [{ name: 'a', backendRefs: [{ name: 'web', port: 80 }] }, { name: 'b', backendRefs: [{ name: 'web', port: 80 }] }] },
};
let n = 0;
const tp = (name: string, targetRefs: unknown[], spec: Record<string, unknown>, created?: string): KubeObject => ({
  apiVersion: 'mesh.dev/v1alpha1', kind: 'TrafficPolicy', metadata: { name, namespace: NS, uid: String(n++), ...(created ? { creationTimestamp: created } : {}) }, spec: { targetRefs, ...spec },
});
const S = (sectionName?: string) => ({ group: '', kind: 'Service', name: 'web', ...(sectionName ? { sectionName } : {}) });
const R = (sectionName?: string) => ({ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: 'web', ...(sectionName ? { sectionName } : {}) });

test('a port policy overrides the Service-wide one block by block, and both replace the annotations they set', () => {
  const m = buildModel([svc, tp('all', [S()], { connectionPool: { maxRequests: 100 }, loadBalancer: { type: 'LeastRequest' } }), tp('grpc', [S('grpc')], { loadBalancer: { type: 'RingHash', hash: { sourceIP: true } } })]);
  const s = m.services[0]!;
  assert.deepEqual(backendPolicy(s, 80), { connectionPool: { maxRequests: 100, maxConnections: undefined, maxPendingRequests: undefined, maxRetries: undefined }, outlier: s.outlier, loadBalancer: { type: 'LeastRequest' } });
  assert.deepEqual(backendPolicy(s, 90)?.loadBalancer, { type: 'RingHash', hash: { sourceIP: true } });
  assert.equal(backendPolicy(s, 90)?.connectionPool?.maxRequests, 100, 'the port policy has no connectionPool: the Service-wide one applies');
  assert.equal(backendPolicy(s, 90)?.outlier?.consecutive5xx, 9, 'no policy sets outlierDetection: the annotation shorthand still applies');
  assert.equal(backendPolicy(buildModel([svc]).services[0]!, 80)?.connectionPool?.maxRequests, 7);
});

test('per-rule fault: a rule policy beats a route-wide policy, which beats the mesh.dev/fault annotation', () => {
  const m = buildModel([svc, route, tp('route', [R()], { fault: { delay: { fixedDelay: '1s' } } }), tp('rule-b', [R('b')], { fault: { abort: { grpcStatus: 8, percentage: 50 } } })]);
  const [a, b] = m.routes[0]!.rules;
  assert.deepEqual(a!.fault, { delay: { percent: 100, fixedDelayMs: 1000 } });
  assert.deepEqual(b!.fault, { abort: { percent: 50, grpcStatus: 8 } });
  assert.deepEqual(buildModel([svc, route]).routes[0]!.rules[0]!.fault, { abort: { percent: 1, httpStatus: 500, grpcStatus: undefined } });
});

test('conditions: missing targets, conflicts (the oldest wins) and refused values are Accepted=False with the GEP-713 reason, never a throw', () => {
  const m = buildModel([
    svc, route,
    tp('newer', [S()], { connectionPool: { maxRequests: 1 } }, '2026-02-01T00:00:00Z'),
    tp('older', [S()], { connectionPool: { maxRequests: 2 } }, '2026-01-01T00:00:00Z'),
    tp('ghost', [{ group: '', kind: 'Service', name: 'nope' }], { connectionPool: { maxRequests: 1 } }),
    tp('no-port', [S('https')], { connectionPool: { maxRequests: 1 } }),
    tp('no-rule', [R('zzz')], { fault: { abort: {} } }),
    tp('zero', [S('http')], { connectionPool: { maxConnections: 0 } }),
    tp('negative', [S('http')], { rateLimit: { requests: -1 } }),
    tp('wrong-kind', [R()], { connectionPool: { maxRequests: 1 } }),
    tp('gateway', [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'edge' }], { connectionPool: { maxRequests: 1 } }),
    tp('hash-rr', [S('grpc')], { loadBalancer: { type: 'RoundRobin', hash: { sourceIP: true } } }),
    tp('bad-duration', [S('grpc')], { timeouts: { idle: '0s' } }),
    tp('garbage', 'nope' as unknown as unknown[], {}),
  ]);
  const got = Object.fromEntries(m.policyConditions!.map((c) => [c.policy.split('/')[1], `${c.status} ${c.reason}`]));
  assert.deepEqual(got, {
    older: 'True Accepted', newer: 'False Conflicted', ghost: 'False TargetNotFound', 'no-port': 'False TargetNotFound', 'no-rule': 'False TargetNotFound',
    zero: 'False Invalid', negative: 'False Invalid', 'wrong-kind': 'False Invalid', gateway: 'False Invalid', 'hash-rr': 'False Invalid', 'bad-duration': 'False Invalid', garbage: 'False Invalid',
  });
  assert.equal(backendPolicy(m.services[0]!, 80)?.connectionPool?.maxRequests, 2, 'the oldest policy is the one applied');
  assert.match(m.policyConditions!.find((c) => c.policy === 'shop/newer')!.message, /older TrafficPolicy shop\/older/);
  assert.match(m.policyConditions!.find((c) => c.policy === 'shop/zero')!.message, /connectionPool\.maxConnections must be a whole number of at least 1 \(got 0\)/);
  assert.ok(m.warnings.some((w) => w.object === 'TrafficPolicy shop/ghost' && /does not exist/.test(w.message)));
});
