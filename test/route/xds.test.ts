// End to end: routes written by the `mesh route` handlers drive the real control plane, and real
// @grpc/grpc-js-xds clients follow them. (The statistical proofs of each feature live in
// test/xds/; this checks that what mesh route writes is what the control plane serves.)
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type * as grpc from '@grpc/grpc-js';
import { MemorySource } from '../../src/cluster/source.ts';
import { ControlPlane } from '../../src/controller/controlplane.ts';
import type { KubeObject } from '../../src/cluster/types.ts';
import { validateCanaryOptions, type RawCanaryFlags } from '../../src/route/options.ts';
import { runCanary, runFinish } from '../../src/commands/route-run.ts';
import type { RouteDeps } from '../../src/route/run.ts';
import { many, slices, startBackend, svc, tally, until, xdsClient, type Backend } from '../xds/support.ts';
import { captureUi, fakeClock, MemoryCluster, scriptedMetrics } from './support.ts';

const NS = 'shop';
let stable: Backend, canary: Backend;
let cluster: MemoryCluster;
let cp: ControlPlane;
let client: grpc.Client;

before(async () => {
  [stable, canary] = await Promise.all([startBackend('stable'), startBackend('canary')]);
  const endpoints: KubeObject[] = [...slices(NS, 'web', [stable]), ...slices(NS, 'web-v2', [canary])];
  cluster = new MemoryCluster();
  for (const o of [svc(NS, 'web'), svc(NS, 'web-v2')]) cluster.put(o);
  const source = new MemorySource([...cluster.objects.values(), ...endpoints]);
  // The control plane's watch, with no API server in between.
  cluster.afterWrite = (objs) => source.set([...objs, ...endpoints]);
  cp = new ControlPlane({ source, debounceMs: 10 });
  const port = await cp.start({ host: '127.0.0.1', port: 0 });
  client = xdsClient(`web.${NS}.svc.cluster.local:8080`, port, 'route-e2e', NS);
});

after(async () => {
  client?.close();
  await cp?.stop();
  await Promise.all([stable?.stop(), canary?.stop()]);
});

const canaryCmd = (flags: RawCanaryFlags, deps: Partial<RouteDeps> = {}) =>
  runCanary({ ...validateCanaryOptions('web', flags), namespace: NS, output: 'table' }, captureUi().ui, { cluster, clock: fakeClock(), ...deps });

test('mesh route canary with a header match: the header always reaches the canary, the rest stays stable', async () => {
  assert.equal(await canaryCmd({ canary: 'web-v2', weight: '0', matchHeader: ['x-canary=true'] }), 0);
  await until(client, (t) => t.stable === 50);
  assert.deepEqual(tally(await many(client, 300, { metadata: { 'x-canary': 'true' } })), { canary: 300 });
  assert.deepEqual(tally(await many(client, 300)), { stable: 300 });
});

test('a progressive rollout that fails its gate rolls every client back to stable, header traffic too', async () => {
  const metrics = scriptedMetrics(() => ({ rps: 10, successRate: 0.5, p99Ms: 10 }));
  assert.equal(await canaryCmd({ canary: 'web-v2', steps: '50,100', interval: '1s', maxErrorRate: '1%' }, { metrics }), 1);
  await until(client, (t) => t.stable === 50);
  assert.deepEqual(tally(await many(client, 300, { metadata: { 'x-canary': 'true' } })), { stable: 300 });
});

test('promote sends every call to the canary', async () => {
  assert.equal(await runFinish('promote', { namespace: NS, output: 'table', service: 'web', dryRun: false }, captureUi().ui, { cluster }), 0);
  await until(client, (t) => t.canary === 50);
  assert.deepEqual(tally(await many(client, 500)), { canary: 500 });
});
