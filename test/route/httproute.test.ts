import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { buildModel } from '../../src/model/index.ts';
import type { KubeObject } from '../../src/cluster/types.ts';
import { buildCanaryRoute, readCanaryConfig, ruleViews, setWeights, splitRuleIndex, splitWeights, type CanaryConfig } from '../../src/route/httproute.ts';
import { ROOT } from '../support/cli.ts';
import { assertGolden } from '../support/golden.ts';

const FIXTURES = join(ROOT, 'test/fixtures/route');

for (const file of readdirSync(FIXTURES).filter((f) => f.endsWith('.input.yaml')).sort()) {
  const name = file.replace('.input.yaml', '');
  test(`golden: canary route ${name}`, () => {
    const input = parse(readFileSync(join(FIXTURES, file), 'utf8'));
    const route = buildCanaryRoute(input);
    const out = stringify(route, { lineWidth: 0 });
    assert.equal(stringify(buildCanaryRoute(input), { lineWidth: 0 }), out, 'same input, same bytes');
    assertGolden(join(FIXTURES, `${name}.golden.yaml`), out);
  });
}

const svc = (name: string, port: number): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'shop' }, spec: { selector: { app: name }, ports: [{ name: 'http', port }] } });
const cfg: CanaryConfig = { service: 'web', stable: 'web', canary: 'web-v2', stablePort: 8080, canaryPort: 8080, matchHeaders: [{ name: 'x-canary', value: 'true' }], timeoutMs: 1500 };
const rollout = { phase: 'Paused' as const, stable: 'web', canary: 'web-v2', canaryWeight: 10, message: '', updatedAt: '' };

test('the control plane model reads our route as we meant it: weights, header match, timeout, retries, faults', () => {
  const route = buildCanaryRoute({
    namespace: 'shop', cfg, split: { stable: 90, canary: 10 }, stage: 'split', rollout,
    policy: { retry: { attempts: 3, perTryTimeoutMs: 250, retryOn: ['5xx', 'reset'] }, fault: { abort: { httpStatus: 503, percent: 5 }, delay: { fixedDelayMs: 100, percent: 10 } } },
  });
  const model = buildModel([svc('web', 8080), svc('web-v2', 8080), route]);
  assert.deepEqual(model.warnings, []);
  assert.equal(model.routes.length, 1);
  const r = model.routes[0]!;
  assert.equal(r.parent, 'shop/web');
  assert.equal(r.rules.length, 2);
  const [pinned, split] = r.rules;
  assert.deepEqual(pinned!.matches[0]!.headers, [{ name: 'x-canary', type: 'Exact', value: 'true' }]);
  assert.deepEqual(pinned!.backends.map((b) => [b.service, b.weight]), [['shop/web', 0], ['shop/web-v2', 100]]);
  assert.deepEqual(split!.backends.map((b) => [b.service, b.port, b.weight]), [['shop/web', 8080, 90], ['shop/web-v2', 8080, 10]]);
  assert.equal(split!.timeoutMs, 1500);
  assert.deepEqual(split!.retry, { attempts: 3, perTryTimeoutMs: 250, backoffMs: undefined, retryOn: ['5xx', 'reset'], codes: [] });
  assert.deepEqual(split!.fault, { abort: { percent: 5, httpStatus: 503, grpcStatus: undefined }, delay: { percent: 10, fixedDelayMs: 100 } });
});

test('promote and rollback move every rule: the header-pinned rule follows the rollback too', () => {
  const promoted = buildCanaryRoute({ namespace: 'shop', cfg, split: { stable: 0, canary: 100 }, stage: 'promoted', rollout });
  const back = buildCanaryRoute({ namespace: 'shop', cfg, split: { stable: 100, canary: 0 }, stage: 'rolledBack', rollout });
  const weights = (r: KubeObject) => buildModel([svc('web', 8080), svc('web-v2', 8080), r]).routes[0]!.rules.map((rule) => rule.backends.map((b) => b.weight));
  assert.deepEqual(weights(promoted), [[0, 100], [0, 100]]);
  assert.deepEqual(weights(back), [[100, 0], [100, 0]]);
});

test('an update keeps foreign annotations, labels and the resourceVersion; policy undefined keeps, null removes', () => {
  const first = buildCanaryRoute({ namespace: 'shop', cfg, split: { stable: 90, canary: 10 }, stage: 'split', rollout, policy: { retry: { attempts: 1 } } });
  first.metadata.resourceVersion = '42';
  first.metadata.annotations!['team'] = 'payments';
  first.metadata.managedFields = [{ manager: 'kubectl' }];
  first.status = { parents: [] };
  const second = buildCanaryRoute({ namespace: 'shop', cfg, split: { stable: 50, canary: 50 }, stage: 'split', rollout, existing: first });
  assert.equal(second.metadata.resourceVersion, '42');
  assert.equal(second.metadata.annotations!['team'], 'payments');
  assert.equal(second.metadata.annotations!['mesh.dev/retry'], '{"attempts":1}');
  assert.equal(second.metadata.managedFields, undefined);
  assert.equal(second.status, undefined);
  assert.equal(first.metadata.annotations!['mesh.dev/rollout'], JSON.stringify(rollout), 'input not modified');
  const third = buildCanaryRoute({ namespace: 'shop', cfg, split: { stable: 50, canary: 50 }, stage: 'split', rollout, existing: second, policy: { retry: null } });
  assert.equal(third.metadata.annotations!['mesh.dev/retry'], undefined);
  assert.deepEqual(readCanaryConfig(third), cfg);
});

test('set changes only the split rule; unlisted backends get 0, new ones are added with their port', () => {
  const route = buildCanaryRoute({ namespace: 'shop', cfg, split: { stable: 90, canary: 10 }, stage: 'split', rollout });
  assert.equal(splitRuleIndex(route), 1);
  const changed = setWeights(route, [{ backend: 'web-v2', weight: 60 }, { backend: 'web-v3', weight: 40 }], (b) => (b === 'web-v3' ? 9090 : undefined));
  assert.deepEqual(splitWeights(changed), [{ name: 'web', weight: 0, percent: 0 }, { name: 'web-v2', weight: 60, percent: 60 }, { name: 'web-v3', weight: 40, percent: 40 }]);
  assert.deepEqual(ruleViews(changed)[0]!.backends, ruleViews(route)[0]!.backends, 'the header rule is untouched');
  assert.deepEqual(splitWeights(route).map((w) => w.weight), [90, 10], 'input not modified');
  assert.throws(() => setWeights(route, [{ backend: 'ghost', weight: 100 }], () => undefined), /ghost is not a Service/);
});

test('hand-written routes: set finds the only rule or the one catch-all rule, and refuses to guess otherwise', () => {
  const hand = (rules: unknown[]): KubeObject => ({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'web', namespace: 'shop' }, spec: { rules } });
  assert.equal(splitRuleIndex(hand([{ backendRefs: [{ name: 'web', port: 80 }] }])), 0);
  assert.equal(splitRuleIndex(hand([{ matches: [{ path: { type: 'PathPrefix', value: '/api' } }], backendRefs: [] }, { backendRefs: [{ name: 'web', port: 80 }] }])), 1);
  assert.throws(() => splitRuleIndex(hand([{ matches: [{ path: { value: '/a' } }] }, { matches: [{ path: { value: '/b' } }] }])), /cannot tell which one carries the split/);
  assert.deepEqual(ruleViews(hand([{ matches: [{ path: { type: 'PathPrefix', value: '/api' }, headers: [{ name: 'x', value: '1' }] }], backendRefs: [{ name: 'web', port: 80 }] }]))[0], { match: 'path /api* & header x=1', backends: [{ name: 'web', port: 80, weight: 1 }] });
});
