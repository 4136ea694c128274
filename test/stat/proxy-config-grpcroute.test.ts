import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runMeshInProcess } from '../support/cli.ts';

// Offline, GRPCRoutes are read from the files like HTTPRoutes: proxy-config shows the routes a
// sidecar would get, and check names nothing wrong with a valid one.
test('proxy-config -f shows a GRPCRoute as a sidecar gets it; check -f accepts it', async () => {
  const r = await runMeshInProcess(['proxy-config', 'route', 'deploy/web', '-n', 'shop', '-f', 'test/fixtures/grpcroute', '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const rc = (JSON.parse(r.stdout) as { routes: { name: string; virtual_hosts: { routes: { name: string; match: unknown; route: { weighted_clusters: { clusters: Record<string, unknown>[] } } }[] }[] }[] }).routes.find((x) => x.name === 'rpc.shop.svc.cluster.local:7070')!;
  const routes = rc.virtual_hosts[0]!.routes;
  assert.deepEqual(routes.map((x) => [x.name, x.match]), [['shop.rpc.0.0', { path: '/shop.Rpc/Get' }], ['shop.rpc.1.0', { prefix: '/' }]]);
  assert.deepEqual(routes[0]!.route.weighted_clusters.clusters[0]!.request_headers_to_add, [{ header: { key: 'x-v', value: '2' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' }]);
  assert.deepEqual(routes[1]!.route.weighted_clusters.clusters.map((c) => c.weight), [90, 10]);
  const check = await runMeshInProcess(['check', '-f', 'test/fixtures/grpcroute', '-o', 'json']);
  assert.equal(check.code, 0, check.stdout + check.stderr);
});
