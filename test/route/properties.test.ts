import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildModel } from '../../src/model/index.ts';
import { buildCanaryRoute, type CanaryConfig, type CanaryStage } from '../../src/route/httproute.ts';
import { decide, splitFor } from '../../src/route/rollout.ts';
import { service } from './support.ts';

const cfgArb: fc.Arbitrary<CanaryConfig> = fc.record({
  service: fc.constant('web'),
  stable: fc.constantFrom('web', 'web-v1'),
  canary: fc.constant('web-v2'),
  stablePort: fc.constant(8080),
  canaryPort: fc.constant(8080),
  matchHeaders: fc.array(fc.record({ name: fc.constantFrom('x-canary', 'x-user'), value: fc.string({ minLength: 1, maxLength: 5 }) }), { maxLength: 2 }),
  matchPath: fc.option(fc.record({ type: fc.constantFrom('PathPrefix' as const, 'Exact' as const), value: fc.constantFrom('/api', '/login') }), { nil: undefined }),
  timeoutMs: fc.option(fc.integer({ min: 1, max: 120_000 }), { nil: undefined }),
});

test('property: every rule of a canary route splits exactly 100% and the model reads it without warnings', () => {
  fc.assert(
    fc.property(cfgArb, fc.integer({ min: 0, max: 100 }), fc.constantFrom<CanaryStage>('split', 'promoted', 'rolledBack'), (cfg, w, stage) => {
      const clean = JSON.parse(JSON.stringify(cfg)) as CanaryConfig;
      const route = buildCanaryRoute({ namespace: 'shop', cfg: clean, split: splitFor(w), stage, rollout: { phase: 'Paused', stable: cfg.stable, canary: cfg.canary, canaryWeight: w, message: '', updatedAt: '' } });
      const model = buildModel([service('web'), service('web-v1'), service('web-v2'), route]);
      assert.deepEqual(model.warnings, []);
      const rules = model.routes[0]!.rules;
      for (const r of rules) assert.equal(r.backends.reduce((s, b) => s + b.weight, 0), 100);
      const toCanary = (i: number) => rules[i]!.backends.find((b) => b.service === 'shop/web-v2')!.weight;
      const split = cfg.matchHeaders.length ? 1 : 0;
      if (stage === 'promoted') rules.forEach((_, i) => assert.equal(toCanary(i), 100));
      if (stage === 'rolledBack') rules.forEach((_, i) => assert.equal(toCanary(i), 0));
      if (stage === 'split') assert.equal(toCanary(split), w);
      if (clean.timeoutMs !== undefined) for (const r of rules) assert.equal(r.timeoutMs, clean.timeoutMs);
    }),
    { numRuns: 300 },
  );
});

test('property: a rollout promotes only if every interval was healthy, never goes back a step, and stops at the first failure', () => {
  fc.assert(
    fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 6 }).map((a) => a.sort((x, y) => x - y)), fc.array(fc.boolean(), { minLength: 7, maxLength: 7 }), (steps, health) => {
      let step = 0;
      let weight = steps[0]!;
      for (let i = 0; ; i++) {
        const d = decide(steps, step, { ok: health[i]!, failures: health[i] ? [] : ['bad'] });
        if (d.action === 'rollback') {
          assert.equal(health[i], false);
          assert.ok(health.slice(0, i).every(Boolean));
          return;
        }
        assert.equal(health[i], true);
        if (d.action === 'promote') {
          assert.equal(i, steps.length - 1, 'promotes right after the last step');
          return;
        }
        assert.ok(d.weight > weight, 'weights only increase');
        step = d.step;
        weight = d.weight;
      }
    }),
    { numRuns: 500 },
  );
});
