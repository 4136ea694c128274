// THE PROOF, part 3: TrafficPolicy (policy attachment) and per-rule retries, timeouts and faults,
// through real @grpc/grpc-js-xds clients configured only by our control plane: circuit breaking
// max requests, outlier detection ejecting a failing backend, ring-hash stickiness, and per-rule
// behaviour that leaves the route's other rules alone. One control plane for the file.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { MemorySource } from '../../src/cluster/source.ts';
import { ControlPlane } from '../../src/controller/controlplane.ts';
import type { KubeObject } from '../../src/cluster/types.ts';
import { many, route, slices, startBackend, svc, tally, until, who, xdsClient, type Backend } from './support.ts';

const NS = 'shop';
let held: Backend, s1: Backend, s2: Backend, s3: Backend, good: Backend, bad: Backend, flaky: Backend, plain: Backend;
let cp: ControlPlane;
let port: number;
const clients: grpc.Client[] = [];

const policy = (name: string, target: Record<string, string>, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'mesh.dev/v1alpha1', kind: 'TrafficPolicy', metadata: { name, namespace: NS }, spec: { targetRefs: [target], ...spec },
});
const service = (name: string): Record<string, string> => ({ group: '', kind: 'Service', name });

function objects(): KubeObject[] {
  return [
    svc(NS, 'limited'), ...slices(NS, 'limited', [held]),
    policy('limited', service('limited'), { connectionPool: { maxRequests: 2 } }),
    svc(NS, 'sticky'), ...slices(NS, 'sticky', [s1, s2, s3]),
    policy('sticky', service('sticky'), { loadBalancer: { type: 'RingHash', hash: { header: { name: 'x-user' } } } }),
    svc(NS, 'spread'), ...slices(NS, 'spread', [s1, s2, s3]),
    svc(NS, 'pool'), ...slices(NS, 'pool', [good, bad]),
    policy('pool', service('pool'), { outlierDetection: { interval: '200ms', baseEjectionTime: '30s', maxEjectionPercent: 50, failurePercentage: { threshold: 50, minimumHosts: 2, requestVolume: 10 } } }),
    // One route, four named rules: only the rule a setting names behaves differently.
    svc(NS, 'rules'), svc(NS, 'flaky'), svc(NS, 'held'), ...slices(NS, 'rules', [plain]), ...slices(NS, 'flaky', [flaky]), ...slices(NS, 'held', [held]),
    route(NS, 'rules', [
      { name: 'retried', matches: [{ headers: [{ name: 'x-rule', value: 'retried' }] }], retry: { attempts: 3, backoff: '10ms' }, backendRefs: [{ name: 'flaky', port: 8080 }] },
      { name: 'unretried', matches: [{ headers: [{ name: 'x-rule', value: 'unretried' }] }], backendRefs: [{ name: 'flaky', port: 8080 }] },
      { name: 'slow', matches: [{ headers: [{ name: 'x-rule', value: 'slow' }] }], timeouts: { request: '200ms' }, backendRefs: [{ name: 'held', port: 8080 }] },
      { name: 'faulty', matches: [{ headers: [{ name: 'x-rule', value: 'faulty' }] }], backendRefs: [{ name: 'rules', port: 8080 }] },
      { name: 'plain', backendRefs: [{ name: 'rules', port: 8080 }] },
    ]),
    policy('faulty-rule', { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: 'rules', sectionName: 'faulty' }, { fault: { abort: { percentage: 100, grpcStatus: grpc.status.RESOURCE_EXHAUSTED } } }),
  ];
}

function client(target: string, node: string): grpc.Client {
  const c = xdsClient(`${target}.${NS}.svc.cluster.local:8080`, port, node, NS);
  clients.push(c);
  return c;
}

before(async () => {
  [held, s1, s2, s3, good, bad, flaky, plain] = await Promise.all([
    startBackend('held', 'hold'), startBackend('s1'), startBackend('s2'), startBackend('s3'),
    startBackend('good'), startBackend('bad', 'down'), startBackend('flaky', 'flaky'), startBackend('plain'),
  ]);
  cp = new ControlPlane({ source: new MemorySource(objects()), debounceMs: 10 });
  port = await cp.start({ host: '127.0.0.1', port: 0 });
});

after(async () => {
  for (const c of clients) c.close();
  await cp.stop();
  await Promise.all([held, s1, s2, s3, good, bad, flaky, plain].map((b) => b.stop()));
});

test('the model accepts every policy of the fixture (no condition is False)', () => {
  const model = cp.currentModel()!;
  assert.deepEqual(model.policyConditions!.filter((c) => c.status !== 'True'), []);
  assert.equal(model.policyConditions!.length, 4);
});

test('circuit breaking: with maxRequests 2, a third concurrent call fails fast while two are in flight', async () => {
  const c = client('limited', 'breaker');
  // The client holds the config once a first call went through (that call is released at once).
  const first = who(c);
  await held.holding(1);
  held.release();
  assert.equal((await first).name, 'held');
  const inFlight = [who(c), who(c)];
  await held.holding(2);
  // Both slots are taken: further calls are refused by the client itself (gRFC A32: UNAVAILABLE), not queued.
  const refused = await Promise.all([who(c), who(c), who(c)]);
  assert.deepEqual(refused.map((r) => r.code), [grpc.status.UNAVAILABLE, grpc.status.UNAVAILABLE, grpc.status.UNAVAILABLE]);
  assert.equal(held.held, 2, 'the refused calls never reached the backend');
  held.release();
  assert.deepEqual((await Promise.all(inFlight)).map((r) => r.name), ['held', 'held']);
  // Slots free again: a call goes through.
  const again = who(c);
  await held.holding(1);
  held.release();
  assert.equal((await again).name, 'held');
});

test('ring hash: one x-user value always reaches the same backend; different users spread; without the policy one user spreads', async () => {
  const c = client('sticky', 'ring');
  const users = Array.from({ length: 16 }, (_, i) => `user-${i}`);
  const home = new Map<string, string>();
  for (const u of users) {
    const t = tally(await many(c, 15, { metadata: { 'x-user': u } }, 5));
    assert.equal(Object.keys(t).length, 1, `${u} stuck to one backend: ${JSON.stringify(t)}`);
    home.set(u, Object.keys(t)[0]!);
  }
  // 16 users on one of 3 backends by chance: 3^-15.
  assert.ok(new Set(home.values()).size >= 2, `users spread over backends: ${JSON.stringify([...home])}`);
  // Control: round robin (no policy) spreads one user's calls over all three.
  const rr = tally(await many(client('spread', 'round-robin'), 30, { metadata: { 'x-user': 'user-0' } }, 5));
  assert.deepEqual(Object.keys(rr).sort(), ['s1', 's2', 's3']);
});

test('outlier detection (TrafficPolicy failurePercentage): the failing endpoint is ejected', async () => {
  const c = client('pool', 'outlier');
  const first = tally(await many(c, 100, {}, 5));
  assert.ok((first[`code ${grpc.status.UNAVAILABLE}`] ?? 0) > 0, `round robin reaches the bad endpoint first: ${JSON.stringify(first)}`);
  await until(c, (t) => t.good === 50);
  const badBefore = bad.calls;
  assert.deepEqual(tally(await many(c, 300, {}, 5)), { good: 300 });
  assert.equal(bad.calls, badBefore, 'the ejected endpoint gets no calls');
});

test('retries per rule: the rule with retry recovers the flaky backend, its sibling rule without retry does not', async () => {
  const c = client('rules', 'rule-retry');
  const before = flaky.calls;
  assert.deepEqual(tally(await many(c, 50, { metadata: { 'x-rule': 'retried' } }, 5)), { flaky: 50 });
  assert.equal(flaky.calls - before, 100, 'each call failed once and was retried once');
  assert.deepEqual(tally(await many(c, 50, { metadata: { 'x-rule': 'unretried' } }, 5)), { [`code ${grpc.status.UNAVAILABLE}`]: 50 });
});

test('timeouts per rule: the rule with a 200ms request timeout ends a held call; other rules are not timed', async () => {
  const c = client('rules', 'rule-timeout');
  assert.deepEqual(await who(c), { name: 'plain', code: 0 });
  const r = await who(c, { metadata: { 'x-rule': 'slow' } });
  assert.equal(r.code, grpc.status.DEADLINE_EXCEEDED);
  held.release();
});

test('fault injection per rule (TrafficPolicy on an HTTPRoute rule by sectionName): that rule aborts, the others answer', async () => {
  const c = client('rules', 'rule-fault');
  assert.deepEqual(tally(await many(c, 50, { metadata: { 'x-rule': 'faulty' } }, 5)), { [`code ${grpc.status.RESOURCE_EXHAUSTED}`]: 50 });
  assert.deepEqual(tally(await many(c, 50, {}, 5)), { plain: 50 });
});
