import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ROUTE_CONTROLLER_NAME, routeStatus } from '../../src/controller/route-status.ts';
import type { KubeObject } from '../../src/cluster/types.ts';
import type { RouteCondition } from '../../src/model/types.ts';

const route = (status?: unknown): KubeObject => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name: 'r', namespace: 'shop', generation: 3 },
  spec: { parentRefs: [{ kind: 'Gateway', name: 'edge' }, { group: '', kind: 'Service', name: 'web', port: 80 }, { group: '', kind: 'Service', name: 'api', namespace: 'backend' }] },
  ...(status ? { status } : {}),
});
const cond = (parent: string, type: RouteCondition['type'], status: RouteCondition['status'], reason: string): RouteCondition => ({ route: 'shop/r', parent, type, status, reason, message: `${type} ${reason}` });
const T0 = '2026-01-01T00:00:00Z';
const T1 = '2026-02-02T00:00:00Z';

test('routeStatus: one entry per Service parentRef as written, observedGeneration, transition times, other controllers kept', () => {
  const theirs = { parentRef: { kind: 'Gateway', name: 'edge' }, controllerName: 'example.io/gw', conditions: [] };
  const conds = [cond('shop/web:80', 'Accepted', 'True', 'Accepted'), cond('shop/web:80', 'ResolvedRefs', 'True', 'ResolvedRefs'), cond('backend/api', 'Accepted', 'False', 'NoMatchingParent')];
  const s = routeStatus(route({ parents: [theirs] }), conds, T0)!;
  const parents = s.parents as { parentRef: unknown; controllerName: string; conditions: Record<string, unknown>[] }[];
  assert.deepEqual(parents[0], theirs);
  assert.deepEqual(parents.slice(1).map((p) => p.parentRef), [{ group: '', kind: 'Service', name: 'web', port: 80 }, { group: '', kind: 'Service', name: 'api', namespace: 'backend' }]);
  assert.ok(parents.slice(1).every((p) => p.controllerName === ROUTE_CONTROLLER_NAME));
  assert.deepEqual(parents[1]!.conditions[0], { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'Accepted Accepted', observedGeneration: 3, lastTransitionTime: T0 });

  // Nothing new: nothing to write, whatever the clock says.
  assert.equal(routeStatus(route(s), conds, T1), undefined);
  // A condition that flips gets a new transition time; one that stays keeps its time.
  const flipped = [cond('shop/web:80', 'Accepted', 'True', 'Accepted'), cond('shop/web:80', 'ResolvedRefs', 'False', 'BackendNotFound'), cond('backend/api', 'Accepted', 'False', 'NoMatchingParent')];
  const s2 = routeStatus(route(s), flipped, T1)!;
  const web = (s2.parents as { conditions: Record<string, unknown>[] }[])[1]!.conditions;
  assert.deepEqual(web.map((c) => [c.type, c.status, c.lastTransitionTime]), [['Accepted', 'True', T0], ['ResolvedRefs', 'False', T1]]);
});

test('routeStatus: our stale entries for parents the route no longer names are dropped, other fields of status kept', () => {
  const stale = { parentRef: { group: '', kind: 'Service', name: 'old' }, controllerName: ROUTE_CONTROLLER_NAME, conditions: [] };
  const s = routeStatus(route({ parents: [stale], extra: 1 }), [cond('shop/web:80', 'Accepted', 'True', 'Accepted')], T0)!;
  assert.equal(s.extra, 1);
  assert.deepEqual((s.parents as { parentRef: { name: string } }[]).map((p) => p.parentRef.name), ['web']);
});

test('RouteStatusWriter: an HTTPRoute and a GRPCRoute of the same name each get their own kind\'s conditions', async () => {
  const { RouteStatusWriter } = await import('../../src/controller/route-status.ts');
  const written: KubeObject[] = [];
  const cluster = { replaceStatus: async (o: KubeObject) => { written.push(o); return o; } } as unknown as ConstructorParameters<typeof RouteStatusWriter>[0];
  const writer = new RouteStatusWriter(cluster, () => undefined, () => new Date(T0));
  const ref = { group: '', kind: 'Service', name: 'web', port: 80 };
  const http: KubeObject = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'r', namespace: 'shop' }, spec: { parentRefs: [ref] } };
  const grpc: KubeObject = { ...http, kind: 'GRPCRoute' };
  const conds: RouteCondition[] = [
    { ...cond('shop/web:80', 'Accepted', 'True', 'Accepted') },
    { ...cond('shop/web:80', 'Accepted', 'False', 'Conflicted'), kind: 'GRPCRoute' },
  ];
  await writer.sync([http, grpc], conds);
  const reasons = (o: KubeObject): string[] => ((o.status as { parents: { conditions: { reason: string }[] }[] }).parents[0]!.conditions).map((c) => c.reason);
  assert.deepEqual(written.map((o) => [o.kind, reasons(o)]), [['HTTPRoute', ['Accepted']], ['GRPCRoute', ['Conflicted']]]);
});
