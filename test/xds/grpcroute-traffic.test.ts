// THE PROOF for GRPCRoute: real @grpc/grpc-js-xds clients, configured only by our control plane over
// ADS, calling real gRPC backends through GRPCRoutes on Service parents (GAMMA): weights (0 included),
// method and header matches (Exact and RE2), retries (mesh.dev/retry), the HTTPRoute backendRequest
// timeout, and a backend-level filter grpc-js cannot apply refused cleanly.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { MemorySource } from '../../src/cluster/source.ts';
import { ControlPlane } from '../../src/controller/controlplane.ts';
import type { KubeObject } from '../../src/cluster/types.ts';
import { callPath, many, route, slices, startBackend, svc, tally, who, xdsClient, type Backend } from './support.ts';

const NS = 'rpc';
let v1: Backend, v2: Backend, flaky: Backend;
let cp: ControlPlane;
let port: number;
const clients: grpc.Client[] = [];

const grpcRoute = (parent: string, rules: unknown[], annotations?: Record<string, string>): KubeObject => ({
  apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GRPCRoute',
  metadata: { name: parent, namespace: NS, ...(annotations ? { annotations } : {}) },
  spec: { parentRefs: [{ group: '', kind: 'Service', name: parent, port: 8080 }], rules },
});
const to = (name: string, weight?: number, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ name, port: 8080, ...(weight === undefined ? {} : { weight }), ...extra });

function objects(): KubeObject[] {
  const parents = ['all-v1', 'all-v2', 'half', 'match', 'svc-only', 'retry', 'slow', 'edits'];
  return [
    ...['v1', 'v2', 'flaky', ...parents].map((n) => svc(NS, n)),
    ...slices(NS, 'v1', [v1]), ...slices(NS, 'v2', [v2]), ...slices(NS, 'flaky', [flaky]), ...slices(NS, 'slow', [v1]),
    grpcRoute('all-v1', [{ backendRefs: [to('v1', 100), to('v2', 0)] }]),
    grpcRoute('all-v2', [{ backendRefs: [to('v1', 0), to('v2', 100)] }]),
    grpcRoute('half', [{ backendRefs: [to('v1', 50), to('v2', 50)] }]),
    grpcRoute('match', [
      { matches: [{ method: { service: 'meshtest.Echo', method: 'Who' }, headers: [{ name: 'x-canary', value: 'true' }] }], backendRefs: [to('v2')] },
      { matches: [{ method: { type: 'RegularExpression', service: 'meshtest\\.E.*', method: 'Wh.' }, headers: [{ name: 'x-track', type: 'RegularExpression', value: 'beta-[0-9]+' }] }], backendRefs: [to('v2')] },
      { backendRefs: [to('v1')] },
    ]),
    grpcRoute('svc-only', [{ matches: [{ method: { service: 'meshtest.Echo' } }], backendRefs: [to('v1')] }]),
    grpcRoute('retry', [{ backendRefs: [to('flaky')] }], { 'mesh.dev/retry': '{"attempts":2,"retryOn":"unavailable","backoff":"10ms"}' }),
    // GRPCRoute has no timeouts field: a gRPC service's call deadline comes from an HTTPRoute rule.
    route(NS, 'slow', [{ timeouts: { request: '10s', backendRequest: '1s' }, backendRefs: [{ name: 'slow', port: 8080 }] }]),
    grpcRoute('edits', [{ backendRefs: [to('v1', 1, { filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-v', value: '1' }] } }] })] }]),
  ];
}

function client(target: string): grpc.Client {
  const c = xdsClient(`${target}.${NS}.svc.cluster.local:8080`, port, `grpc-${target}`, NS);
  clients.push(c);
  return c;
}

before(async () => {
  [v1, v2, flaky] = await Promise.all([startBackend('v1'), startBackend('v2'), startBackend('flaky', 'flaky')]);
  cp = new ControlPlane({ source: new MemorySource(objects()), debounceMs: 10 });
  port = await cp.start({ host: '127.0.0.1', port: 0 });
});

after(async () => {
  for (const c of clients) c.close();
  await cp.stop();
  await Promise.all([v1, v2, flaky].map((b) => b.stop()));
});

test('GRPCRoute weights: 100/0 and 0/100 send every call to one backend; 50/50 splits 400 calls within +-60', async () => {
  const [a, b, half] = await Promise.all([many(client('all-v1'), 100), many(client('all-v2'), 100), many(client('half'), 400)]);
  assert.deepEqual(tally(a), { v1: 100 }, 'weight 0 gets nothing');
  assert.deepEqual(tally(b), { v2: 100 });
  // 50/50 of 400: standard deviation 10 calls, so +-60 is 6 sigma.
  const t = tally(half);
  assert.equal((t.v1 ?? 0) + (t.v2 ?? 0), 400, JSON.stringify(t));
  assert.ok(Math.abs((t.v1 ?? 0) - 200) < 60, JSON.stringify(t));
});

test('GRPCRoute matches: exact method + header and RE2 service/method + RE2 header before the catch-all rule', async () => {
  const c = client('match');
  assert.deepEqual(tally(await many(c, 100)), { v1: 100 }, 'the rule without matches');
  assert.deepEqual(tally(await many(c, 100, { metadata: { 'x-canary': 'true' } })), { v2: 100 }, 'exact method and header');
  assert.deepEqual(tally(await many(c, 100, { metadata: { 'x-track': 'beta-42' } })), { v2: 100 }, 'RE2 method and header');
  assert.deepEqual(tally(await many(c, 100, { metadata: { 'x-track': 'beta-x' } })), { v1: 100 }, 'an RE2 header match is a full match');
});

test('a service-only GRPCRoute match is the service, not a string prefix: other services match no rule', async () => {
  const c = client('svc-only');
  assert.deepEqual(tally(await many(c, 50)), { v1: 50 });
  // `/meshtest.EchoX/Who` and other services match no rule; grpc-js fails such calls (UNAVAILABLE) without reaching a backend.
  const before = v1.calls + v2.calls;
  assert.equal((await callPath(c, '/meshtest.EchoX/Who')).code, grpc.status.UNAVAILABLE);
  assert.equal((await callPath(c, '/meshtest.Other/Who', { 'x-canary': 'true' })).code, grpc.status.UNAVAILABLE);
  assert.equal(v1.calls + v2.calls, before);
});

test('GRPCRoute retries (mesh.dev/retry): a backend failing every first attempt answers every call, each tried twice', async () => {
  const start = flaky.calls;
  assert.deepEqual(tally(await many(client('retry'), 100, {}, 10)), { flaky: 100 });
  assert.equal(flaky.calls - start, 200);
});

test('the HTTPRoute backendRequest timeout is the call deadline of a proxyless client (one attempt, no retries)', async () => {
  const c = client('slow');
  assert.deepEqual(await who(c), { name: 'v1', code: 0 });
  // 1 s leaves a loaded machine room for the instant call; the slow one takes twice that.
  assert.equal((await who(c, { delayMs: 2000 })).code, grpc.status.DEADLINE_EXCEEDED);
});

test('a backend-level header filter grpc-js cannot apply ends the calls with UNKNOWN instead of being ignored', async () => {
  const before = v1.calls;
  assert.deepEqual(tally(await many(client('edits'), 20)), { [`code ${grpc.status.UNKNOWN}`]: 20 });
  assert.equal(v1.calls, before);
});
