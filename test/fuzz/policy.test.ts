// Fuzz: TrafficPolicies with almost-right and junk specs through the model and the xDS
// translation. A bad policy is an Accepted=False condition, never a throw; whatever the model
// accepts encodes and holds Envoy's validate rules (so no proxy would NACK it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildModel } from '../../src/model/index.ts';
import { proxylessResources, sidecarResources, type Resources } from '../../src/xds/translate.ts';
import { encodeResource } from '../../src/xds/encode.ts';
import type { KubeObject } from '../../src/cluster/types.ts';
import { validateRules } from '../support/pgv.ts';

const SCALE = Number(process.env.FUZZ_RUNS ?? 1);
const junk: fc.Arbitrary<unknown> = fc.oneof(fc.constant(null), fc.boolean(), fc.integer({ min: -3, max: 3 }), fc.double(), fc.string({ maxLength: 6 }), fc.constantFrom('0s', '-1s', '1ms', '10ms', '1s', '1h', 'x', ''), fc.constant({}), fc.constant([]));
// Mostly valid values with a few bad ones: a policy is accepted often enough to reach the translation.
const bad = (good: fc.Arbitrary<unknown>, worse: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> => fc.oneof({ weight: 12, arbitrary: good }, { weight: 1, arbitrary: worse });
const num = bad(fc.integer({ min: 1, max: 100 }), fc.oneof(fc.integer({ min: -2, max: 0 }), fc.constantFrom(0.5, 1e12, Number.NaN), junk));
const dur = bad(fc.constantFrom('1ms', '50ms', '1s', '1.5s', '999h'), fc.oneof(fc.constantFrom('49ms', '0s', '-5s', 'soon'), junk));
const maybe = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(a, { nil: undefined, freq: 2 });
const rare = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: a });
const target = bad(
  fc.oneof(
    fc.record({ group: fc.constant(''), kind: fc.constant('Service'), name: fc.constant('web'), sectionName: maybe(fc.constantFrom('http', 'grpc')) }),
    fc.record({ group: fc.constant('gateway.networking.k8s.io'), kind: fc.constant('HTTPRoute'), name: fc.constant('web'), sectionName: maybe(fc.constant('a')) }),
  ),
  fc.oneof(
    fc.record({ group: fc.constantFrom('', 'core', 'x.io'), kind: fc.constantFrom('Service', 'Gateway'), name: fc.constantFrom('web', 'nope', ''), sectionName: maybe(fc.constantFrom('http', 'grpc', 'zzz')) }),
    fc.record({ group: fc.constantFrom('gateway.networking.k8s.io'), kind: fc.constantFrom('HTTPRoute'), name: fc.constantFrom('web', 'nope'), sectionName: maybe(fc.constantFrom('a', 'zzz')) }),
    junk,
  ),
);
const spec = fc.record({
  targetRefs: bad(fc.array(target, { minLength: 1, maxLength: 2 }), junk),
  connectionPool: rare(bad(fc.record({ maxConnections: maybe(num), maxPendingRequests: maybe(num), maxRequests: maybe(num), maxRetries: maybe(num) }), junk)),
  outlierDetection: rare(bad(fc.record({ consecutive5xx: maybe(num), consecutiveGatewayErrors: maybe(num), interval: maybe(dur), baseEjectionTime: maybe(dur), maxEjectionPercent: maybe(num), failurePercentage: maybe(fc.oneof(fc.record({ threshold: maybe(num), minimumHosts: maybe(num), requestVolume: maybe(num) }), junk)) }), junk)),
  loadBalancer: rare(bad(fc.record({ type: maybe(fc.oneof(fc.constantFrom('RoundRobin', 'LeastRequest', 'RingHash', 'Maglev', 'Random', 'roundrobin'), junk)), hash: maybe(fc.oneof(fc.record({ header: maybe(fc.oneof(fc.record({ name: fc.oneof(fc.constantFrom('x-user', 'X-Y', ''), junk) }), junk)), cookie: maybe(fc.oneof(fc.record({ name: fc.oneof(fc.constantFrom('sid', ''), junk), ttl: maybe(dur) }), junk)), sourceIP: maybe(fc.oneof(fc.constant(true), junk)) }), junk)) }), junk)),
  timeouts: rare(bad(fc.record({ idle: maybe(dur), connect: maybe(dur) }), junk)),
  rateLimit: rare(bad(fc.record({ requests: maybe(num), interval: maybe(dur), burst: maybe(num) }), junk)),
  fault: rare(bad(fc.record({ abort: maybe(fc.oneof(fc.record({ percentage: maybe(num), httpStatus: maybe(fc.oneof(fc.constantFrom(199, 200, 503, 600), junk)), grpcStatus: maybe(fc.oneof(fc.constantFrom(0, 1, 14, 17), junk)) }), junk)), delay: maybe(fc.oneof(fc.record({ percentage: maybe(num), fixedDelay: maybe(dur) }), junk)) }), junk)),
  extra: rare(rare(junk)),
}).map((s) => JSON.parse(JSON.stringify(s, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? undefined : v))) as Record<string, unknown>);

const base: KubeObject[] = [
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { clusterIP: '10.96.0.5', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'grpc', port: 90, targetPort: 9090 }] } },
  { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: 'shop', labels: { app: 'web' } }, spec: {}, status: { podIP: '10.1.0.5' } },
  { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'web', namespace: 'shop' }, spec: { parentRefs: [{ group: '', kind: 'Service', name: 'web' }], rules: [{ name: 'a', matches: [{ path: { type: 'PathPrefix', value: '/a' } }], backendRefs: [{ name: 'web', port: 80 }] }, { backendRefs: [{ name: 'web', port: 90 }] }] } },
];

function checkAll(res: Resources, proxyless = false): void {
  for (const [typeUrl, byName] of Object.entries(res)) {
    for (const r of Object.values(byName)) {
      encodeResource(typeUrl, r);
      // Proxyless clusters keep the deprecated SAN matcher on purpose (encode.test.ts says why).
      const bad = validateRules(typeUrl, r).filter((e) => !(proxyless && /\.validation_context\.match_subject_alt_names: deprecated field$/.test(e)));
      assert.deepEqual(bad, [], JSON.stringify(r).slice(0, 300));
    }
  }
}

test('fuzz: TrafficPolicies: a condition for every policy, no throw; what is accepted encodes and passes Envoy validation', () => {
  let accepted = 0;
  fc.assert(
    fc.property(fc.array(spec, { minLength: 1, maxLength: 3 }), (specs) => {
      const policies: KubeObject[] = specs.map((s, i) => ({ apiVersion: 'mesh.dev/v1alpha1', kind: 'TrafficPolicy', metadata: { name: `p${i}`, namespace: 'shop' }, spec: s }));
      const m = buildModel([...base, ...policies]);
      assert.equal(m.policyConditions!.length, policies.length, 'one Accepted condition per policy');
      accepted += m.policyConditions!.filter((c) => c.status === 'True').length;
      checkAll(sidecarResources(m, { id: 's', kind: 'sidecar', namespace: 'shop', pod: 'web-1' }));
      checkAll(proxylessResources(m, { id: 'g', kind: 'grpc', namespace: 'shop' }), true);
    }),
    { numRuns: Math.max(1, Math.round(60 * SCALE)) },
  );
  assert.ok(accepted > 0, 'some generated policies are accepted, so the translation of accepted policies is exercised');
});
