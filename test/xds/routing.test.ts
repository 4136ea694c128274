// THE PROOF, part 1: real @grpc/grpc-js-xds clients, configured only by our control plane over
// ADS on 127.0.0.1, calling real gRPC backends: weighted routing, header matches, route timeouts,
// retries, fault injection (abort and delay) and weights changed at runtime.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { MemorySource } from '../../src/cluster/source.ts';
import { ControlPlane } from '../../src/controller/controlplane.ts';
import type { KubeObject } from '../../src/cluster/types.ts';
import { many, route, slices, startBackend, svc, tally, until, waitForAck, who, xdsClient, type Backend } from './support.ts';

const NS = 'shop';
let v1: Backend, v2: Backend, flaky: Backend;
let source: MemorySource;
let cp: ControlPlane;
let port: number;
const clients: grpc.Client[] = [];

function objects(weights: [number, number], extra: KubeObject[] = []): KubeObject[] {
  return [
    svc(NS, 'catalog'), svc(NS, 'catalog-v2'), svc(NS, 'flaky'), svc(NS, 'slow'), svc(NS, 'faulty'), svc(NS, 'delayed'),
    ...slices(NS, 'catalog', [v1]), ...slices(NS, 'catalog-v2', [v2]), ...slices(NS, 'flaky', [flaky]),
    ...slices(NS, 'slow', [v1]), ...slices(NS, 'faulty', [v1]), ...slices(NS, 'delayed', [v1]),
    route(NS, 'catalog', [
      { matches: [{ headers: [{ name: 'x-canary', value: 'true' }] }], backendRefs: [{ name: 'catalog-v2', port: 8080 }] },
      { backendRefs: [{ name: 'catalog', port: 8080, weight: weights[0] }, { name: 'catalog-v2', port: 8080, weight: weights[1] }] },
    ]),
    route(NS, 'flaky', [{ backendRefs: [{ name: 'flaky', port: 8080 }] }], { 'mesh.dev/retry': '{"attempts":3,"retryOn":"unavailable","backoff":"10ms"}' }),
    route(NS, 'slow', [{ timeouts: { request: '200ms' }, backendRefs: [{ name: 'slow', port: 8080 }] }]),
    route(NS, 'faulty', [{ backendRefs: [{ name: 'faulty', port: 8080 }] }], { 'mesh.dev/fault': '{"abort":{"percent":25,"grpcStatus":8}}' }),
    route(NS, 'delayed', [{ backendRefs: [{ name: 'delayed', port: 8080 }] }], { 'mesh.dev/fault': '{"delay":{"percent":100,"fixedDelay":"2s"}}' }),
    ...extra,
  ];
}

function client(target: string, node: string): grpc.Client {
  const c = xdsClient(`${target}.${NS}.svc.cluster.local:8080`, port, node, NS);
  clients.push(c);
  return c;
}

before(async () => {
  [v1, v2, flaky] = await Promise.all([startBackend('v1'), startBackend('v2'), startBackend('flaky', 'flaky')]);
  source = new MemorySource(objects([90, 10]));
  cp = new ControlPlane({ source, debounceMs: 10 });
  port = await cp.start({ host: '127.0.0.1', port: 0 });
});

after(async () => {
  for (const c of clients) c.close();
  await cp.stop();
  await Promise.all([v1, v2, flaky].map((b) => b.stop()));
});

// Sample sizes: large enough that a correct weighting lands inside the bounds but for a chance
// of about one in a million (more than 4.5 standard deviations), small enough not to cost seconds.
test('a 10% canary gets 10% +- 2 points of 5,000 calls', async () => {
  const c = client('catalog', 'weighted');
  // 10% of 5,000: standard deviation 0.42 points, so +- 2 points is 4.7 sigma.
  const t = tally(await many(c, 5_000));
  assert.equal((t.v1 ?? 0) + (t.v2 ?? 0), 5_000, JSON.stringify(t));
  const share = (t.v2 ?? 0) / 50;
  assert.ok(share >= 8 && share <= 12, `canary share ${share}%`);
});

test('a header match always reaches the canary', async () => {
  const c = client('catalog', 'header');
  const t = tally(await many(c, 500, { metadata: { 'x-canary': 'true' } }));
  assert.deepEqual(t, { v2: 500 });
});

test('the route timeout fires on a slow backend (the caller set no deadline)', async () => {
  const c = client('slow', 'timeout');
  assert.deepEqual(await who(c), { name: 'v1', code: 0 }, 'fast calls pass');
  const r = await who(c, { delayMs: 3000 });
  assert.equal(r.code, grpc.status.DEADLINE_EXCEEDED);
});

test('retries recover a flaky backend whose first attempts all fail', async () => {
  const c = client('flaky', 'retry');
  const before = flaky.calls;
  const t = tally(await many(c, 200, {}, 10));
  assert.deepEqual(t, { flaky: 200 });
  assert.equal(flaky.calls - before, 400, 'every call failed once and was retried once');
  // Control: the same backend without the retry policy fails every call.
  source.set(objects([90, 10]).map((o) => (o.kind === 'HTTPRoute' && o.metadata.name === 'flaky' ? { ...o, metadata: { name: 'flaky', namespace: NS } } : o)));
  cp.flush();
  await waitForAck(cp, 'retry');
  await until(c, (x) => x[`code ${grpc.status.UNAVAILABLE}`] === 50);
  source.set(objects([90, 10]));
  cp.flush();
});

test('fault injection aborts the stated fraction with the stated code', async () => {
  const c = client('faulty', 'abort');
  // 25% of 2,500: standard deviation 0.87 points, so +- 4 points is 4.6 sigma.
  const t = tally(await many(c, 2500));
  const aborted = t[`code ${grpc.status.RESOURCE_EXHAUSTED}`] ?? 0;
  assert.equal(aborted + (t.v1 ?? 0), 2500, JSON.stringify(t));
  const pct = aborted / 25;
  assert.ok(pct >= 21 && pct <= 29, `aborted ${pct}% (want 25)`);
});

test('fault injection delays calls (a 1 s deadline expires on an instant backend)', async () => {
  const c = client('delayed', 'delay');
  const r = await who(c, { deadlineMs: 1000 });
  assert.equal(r.code, grpc.status.DEADLINE_EXCEEDED);
});

test('weights changed at runtime: the client follows the new weights', async () => {
  const c = client('catalog', 'shift');
  source.set(objects([100, 0]));
  cp.flush();
  await who(c);
  await waitForAck(cp, 'shift');
  assert.deepEqual(tally(await many(c, 300)), { v1: 300 });
  for (const [weights, want] of [[[0, 100], 'v2'], [[50, 50], 'both'], [[100, 0], 'v1']] as const) {
    source.set(objects([weights[0], weights[1]]));
    cp.flush();
    await waitForAck(cp, 'shift');
    // New clusters need their own CDS/EDS round trips after the route ACK; the client switches once it holds them.
    await until(c, (t) => (want === 'both' ? (t.v1 ?? 0) > 0 && (t.v2 ?? 0) > 0 : t[want] === 50));
    // One backend: every call goes there, 300 show it. Both: 50/50 of 1,000 calls, +- 100 is 6.3 sigma.
    const n = want === 'both' ? 1000 : 300;
    const t = tally(await many(c, n));
    if (want === 'both') assert.ok(Math.abs((t.v1 ?? 0) - 500) < 100, JSON.stringify(t));
    else assert.deepEqual(t, { [want]: n }, `weights ${weights.join('/')}`);
  }
});
