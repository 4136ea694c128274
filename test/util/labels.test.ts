// src/util/labels.ts is the one label-selector evaluator of the tree. It must agree with the test
// API server's (test/support/apiserver/selectors.ts, which kubectl drives in test/apiserver) on
// every well-formed selector, and explain a miss requirement by requirement.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labelRequirements, labelSelectorMatches, mapSelects, requirementMet } from '../../src/util/labels.ts';
import { selectorMatches as serverMatches } from '../support/apiserver/selectors.ts';
import { seededRandom } from '../support/random.ts';

const KEYS = ['app', 'tier', 'team'];
const VALUES = ['a', 'b', 'c'];
const OPS = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

test('labelSelectorMatches agrees with the test API server on 2,000 generated selectors and label sets', () => {
  const rnd = seededRandom(11);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  for (let i = 0; i < 2000; i++) {
    const labels: Record<string, string> = {};
    for (const k of KEYS) if (rnd() < 0.6) labels[k] = pick(VALUES);
    const matchLabels: Record<string, string> = {};
    for (const k of KEYS) if (rnd() < 0.3) matchLabels[k] = pick(VALUES);
    const matchExpressions = Array.from({ length: Math.floor(rnd() * 3) }, () => {
      const operator = pick(OPS);
      return { key: pick(KEYS), operator, ...(operator === 'In' || operator === 'NotIn' ? { values: VALUES.filter(() => rnd() < 0.5) } : {}) };
    });
    const selector = { matchLabels, matchExpressions };
    assert.equal(labelSelectorMatches(selector, labels), serverMatches(selector, labels), JSON.stringify({ selector, labels }));
  }
});

test('absent and empty selectors, unknown operators and malformed entries', () => {
  assert.equal(labelSelectorMatches(undefined, { app: 'a' }), true, 'absent selects everything (webhook semantics)');
  assert.equal(labelSelectorMatches({}, {}), true);
  assert.equal(labelSelectorMatches({ matchExpressions: [{ key: 'app', operator: 'Matches', values: ['a'] }] }, { app: 'a' }), false, 'an unknown operator is never met');
  assert.equal(labelSelectorMatches({ matchLabels: { app: 1 } }, { app: '1' }), false, 'a non-string label value never matches');
  assert.equal(labelSelectorMatches({ matchExpressions: ['app'] }, { app: 'a' }), false, 'an expression that is not an object never matches');
  assert.equal(mapSelects(undefined, { app: 'a' }), false, 'a Service without selector selects no pod');
  assert.equal(mapSelects({}, { app: 'a' }), false);
  assert.equal(mapSelects({ app: 'a' }, { app: 'a', x: 'y' }), true);
  const unmet = labelRequirements({ matchLabels: { app: 'a' }, matchExpressions: [{ key: 'tier', operator: 'Exists' }] }).filter((r) => !requirementMet(r, { app: 'b' }));
  assert.deepEqual(unmet, [{ key: 'app', operator: 'In', values: ['a'], matchLabel: true }, { key: 'tier', operator: 'Exists', values: [] }]);
});
