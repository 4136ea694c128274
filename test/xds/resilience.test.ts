// THE PROOF, part 2: outlier ejection of a failing endpoint, and clients that keep working while
// the controller is killed, then follow new config once it is back.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { MemorySource } from '../../src/cluster/source.ts';
import { ControlPlane } from '../../src/controller/controlplane.ts';
import type { KubeObject } from '../../src/cluster/types.ts';
import { many, route, slices, startBackend, svc, tally, until, waitForAck, xdsClient, type Backend } from './support.ts';

const NS = 'shop';
let good: Backend, bad: Backend, v1: Backend, v2: Backend;
const clients: grpc.Client[] = [];
const planes: ControlPlane[] = [];

const OUTLIER = JSON.stringify({
  interval: '200ms', baseEjectionTime: '30s', maxEjectionPercent: 50,
  failurePercentageThreshold: 50, failurePercentageMinimumHosts: 2, failurePercentageRequestVolume: 10, enforcingFailurePercentage: 100,
});

function objects(weights: [number, number]): KubeObject[] {
  return [
    svc(NS, 'pool', { 'mesh.dev/outlier-detection': OUTLIER }), ...slices(NS, 'pool', [good, bad]),
    svc(NS, 'catalog'), svc(NS, 'catalog-v2'), ...slices(NS, 'catalog', [v1]), ...slices(NS, 'catalog-v2', [v2]),
    route(NS, 'catalog', [{ backendRefs: [{ name: 'catalog', port: 8080, weight: weights[0] }, { name: 'catalog-v2', port: 8080, weight: weights[1] }] }]),
  ];
}

async function plane(objs: KubeObject[], port: number): Promise<{ cp: ControlPlane; source: MemorySource; port: number }> {
  const source = new MemorySource(objs);
  const cp = new ControlPlane({ source, debounceMs: 10 });
  planes.push(cp);
  return { cp, source, port: await cp.start({ host: '127.0.0.1', port }) };
}

before(async () => {
  [good, bad, v1, v2] = await Promise.all([startBackend('good'), startBackend('bad', 'down'), startBackend('v1'), startBackend('v2')]);
});

after(async () => {
  for (const c of clients) c.close();
  for (const cp of planes) await cp.stop();
  await Promise.all([good, bad, v1, v2].map((b) => b.stop()));
});

test('outlier detection ejects the failing endpoint', async () => {
  const { port } = await plane(objects([100, 0]), 0);
  const c = xdsClient(`pool.${NS}.svc.cluster.local:8080`, port, 'outlier', NS);
  clients.push(c);
  const first = tally(await many(c, 100, {}, 5));
  assert.ok((first[`code ${grpc.status.UNAVAILABLE}`] ?? 0) > 0, `round robin reaches the bad endpoint first: ${JSON.stringify(first)}`);
  await until(c, (t) => t.good === 50);
  const badBefore = bad.calls;
  assert.deepEqual(tally(await many(c, 500, {}, 5)), { good: 500 });
  assert.equal(bad.calls, badBefore, 'the ejected endpoint gets no calls');
});

test('clients keep working while the controller is down, and follow new config after it restarts', async () => {
  const first = await plane(objects([100, 0]), 0);
  const c = xdsClient(`catalog.${NS}.svc.cluster.local:8080`, first.port, 'restart', NS);
  clients.push(c);
  assert.deepEqual(tally(await many(c, 100)), { v1: 100 });
  await first.cp.stop();
  assert.deepEqual(tally(await many(c, 500)), { v1: 500 }, 'the last config keeps serving');
  const second = await plane(objects([0, 100]), first.port);
  assert.equal(second.port, first.port);
  await waitForAck(second.cp, 'restart', 30_000);
  await until(c, (t) => t.v2 === 50);
  assert.deepEqual(tally(await many(c, 300)), { v2: 300 }, 'the restarted controller is in charge');
});
