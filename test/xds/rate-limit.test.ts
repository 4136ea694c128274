// Local rate limiting (TrafficPolicy rateLimit), proven on the emitted config by the test-side
// Envoy evaluator (no Envoy binary here): which of N requests in a window get 429, with which
// x-ratelimit-* headers, per Service port and per HTTPRoute rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildModel } from '../../src/model/index.ts';
import { sidecarResources } from '../../src/xds/translate.ts';
import { TYPE } from '../../src/xds/protos.ts';
import { strictCheck } from '../../src/xds/encode.ts';
import type { KubeObject } from '../../src/cluster/types.ts';
import { inboundRateLimit, type SimRequest } from '../support/envoy-sim.ts';

const NS = 'shop';
const objects = (policies: KubeObject[]): KubeObject[] => [
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: NS }, spec: { clusterIP: '10.96.0.5', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'http-admin', port: 81, targetPort: 8081 }] } },
  { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: NS, labels: { app: 'web' } }, spec: { containers: [{ name: 'web' }] }, status: { podIP: '10.1.0.5' } },
  {
    apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'web', namespace: NS },
    spec: { parentRefs: [{ group: '', kind: 'Service', name: 'web', port: 80 }], rules: [{ name: 'search', matches: [{ path: { type: 'PathPrefix', value: '/search' } }], backendRefs: [{ name: 'web', port: 80 }] }, { name: 'rest', backendRefs: [{ name: 'web', port: 80 }] }] },
  },
  ...policies,
];
const policy = (name: string, target: Record<string, string>, rateLimit: Record<string, unknown>): KubeObject => ({
  apiVersion: 'mesh.dev/v1alpha1', kind: 'TrafficPolicy', metadata: { name, namespace: NS }, spec: { targetRefs: [target], rateLimit },
});
const onPort = policy('port', { group: '', kind: 'Service', name: 'web', sectionName: 'http' }, { requests: 5, interval: '1s' });
const onRule = policy('rule', { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: 'web', sectionName: 'search' }, { requests: 2, interval: '500ms', burst: 3 });

function inbound(policies: KubeObject[]) {
  const model = buildModel(objects(policies));
  assert.deepEqual(model.policyConditions!.filter((c) => c.status !== 'True'), []);
  return sidecarResources(model, { id: 's', kind: 'sidecar', namespace: NS, pod: 'web-1' });
}
const get = (path: string): SimRequest => ({ host: 'web', path });
const at = (atMs: number, path = '/'): { atMs: number; req: SimRequest } => ({ atMs, req: get(path) });

test('per port: 8 requests at once against 5 per second: the first 5 pass, 3 get 429, refilled after the interval', () => {
  const res = inbound([onPort]);
  for (const l of Object.values(res[TYPE.listener])) assert.deepEqual(strictCheck('envoy.config.listener.v3.Listener', l), []);
  const v = inboundRateLimit(res, 8080, [...Array.from({ length: 8 }, (_, i) => at(i)), at(999), at(1000), at(1001)]);
  assert.deepEqual(v.map((x) => x.status), [200, 200, 200, 200, 200, 429, 429, 429, 429, 200, 200]);
  assert.deepEqual(v.map((x) => x.headers['x-ratelimit-remaining']), ['4', '3', '2', '1', '0', '0', '0', '0', '0', '4', '3']);
  assert.deepEqual(v[5]!.headers, { 'x-ratelimit-limit': '5', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1' });
  // The other port of the same Service has no policy: never limited.
  assert.ok(inboundRateLimit(res, 8081, Array.from({ length: 50 }, (_, i) => at(i))).every((x) => x.status === 200 && !('x-ratelimit-limit' in x.headers)));
});

test('per rule: requests the rule matches spend its own bucket (burst 3, 2 per 500ms); other requests spend the port bucket', () => {
  const res = inbound([onPort, onRule]);
  const v = inboundRateLimit(res, 8080, [at(0, '/search'), at(1, '/search?q=a'), at(2, '/search/x'), at(3, '/search'), at(4, '/'), at(500, '/search'), at(501, '/search'), at(502, '/search')]);
  assert.deepEqual(v.map((x) => [x.route, x.status]), [
    ['shop.web.0.0', 200], ['shop.web.0.0', 200], ['shop.web.0.0', 200], ['shop.web.0.0', 429],
    ['shop.web.1.0', 200],
    ['shop.web.0.0', 200], ['shop.web.0.0', 200], ['shop.web.0.0', 429],
  ]);
  assert.equal(v[4]!.headers['x-ratelimit-remaining'], '4', 'the port bucket was untouched by /search');
  // Only the rule policy: the rest of the port is not limited at all.
  const ruleOnly = inboundRateLimit(inbound([onRule]), 8080, Array.from({ length: 20 }, (_, i) => at(i, '/')));
  assert.ok(ruleOnly.every((x) => x.status === 200));
});

test('no policy: no local rate limit filter on the inbound side; a refused policy (requests 0) programs nothing', () => {
  const filters = (res: ReturnType<typeof inbound>): string[] =>
    ((res[TYPE.listener].inbound as any).filter_chains as any[]).flatMap((c) => c.filters[0].typed_config.http_filters.map((f: { name: string }) => f.name));
  assert.ok(!filters(inbound([])).includes('envoy.filters.http.local_ratelimit'));
  const model = buildModel(objects([policy('zero', { group: '', kind: 'Service', name: 'web' }, { requests: 0 })]));
  assert.deepEqual(model.policyConditions!.map((c) => [c.policy, c.status, c.reason]), [['shop/zero', 'False', 'Invalid']]);
  const res = sidecarResources(model, { id: 's', kind: 'sidecar', namespace: NS, pod: 'web-1' });
  assert.ok(!filters(res).includes('envoy.filters.http.local_ratelimit'));
});
