// The per-namespace and label indexes (src/model/grouped.ts) answer exactly what the linear scans
// they replaced answered, in the same order: compared on generated workloads and policies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inNamespace, policyApplies, selectedIn, selecting } from '../../src/model/index.ts';
import type { AuthzPolicy } from '../../src/model/index.ts';
import { seededRandom } from '../support/random.ts';

type W = { name: string; namespace: string; labels: Record<string, string> };

function labelsOf(rnd: () => number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ['app', 'tier', 'version']) if (rnd() < 0.6) out[k] = `v${Math.floor(rnd() * 3)}`;
  return out;
}

for (const seed of [1, 2, 3, 4, 5]) {
  test(`indexes equal the linear scans (seed ${seed})`, () => {
    const rnd = seededRandom(seed);
    const ns = () => `ns${Math.floor(rnd() * 3)}`;
    const workloads: W[] = Array.from({ length: 120 }, (_, i) => ({ name: `w${i}`, namespace: ns(), labels: labelsOf(rnd) }));
    const policies = Array.from({ length: 80 }, (_, i) => {
      const r = rnd();
      const selector = r < 0.15 ? undefined : r < 0.25 ? {} : labelsOf(rnd);
      return { name: `p${i}`, namespace: ns(), action: 'ALLOW', rules: [], ...(selector ? { selector } : {}) } as unknown as AuthzPolicy;
    });
    for (const n of ['ns0', 'ns1', 'ns2', 'nsX']) {
      assert.deepEqual(inNamespace(workloads, n), workloads.filter((w) => w.namespace === n));
      for (const p of policies) {
        const linear = workloads.filter((w) => policyApplies(p, n, w.labels) && w.namespace === n && p.namespace === n);
        if (p.namespace === n) assert.deepEqual(selectedIn(workloads, n, p.selector), linear, `${p.name} in ${n}`);
      }
      for (const w of workloads.filter((x) => x.namespace === n)) {
        assert.deepEqual(selecting(policies, n, w.labels), policies.filter((p) => policyApplies(p, n, w.labels)), `${w.name}`);
      }
    }
  });
}
