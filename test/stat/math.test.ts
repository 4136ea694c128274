import { test } from 'node:test';
import assert from 'node:assert/strict';
import { counterIncrease, counterRate, histogramIncrease, histogramQuantile, share, successRate, sumHistograms } from '../../src/metrics/math.ts';
import type { Bucket } from '../../src/metrics/prometheus.ts';

const INF = Infinity;
const b = (pairs: [number, number][]): Bucket[] => pairs.map(([le, count]) => ({ le, count }));

// 40 observations: 10 in (0,0.5], 10 in (0.5,1], 10 in (1,5], 10 above 5. Values worked out by hand
// with Prometheus's rule: rank = q*40, first bucket whose count >= rank, linear inside it.
const H = b([[0.5, 10], [1, 20], [5, 30], [INF, 40]]);
const quantileCases: { name: string; q: number; buckets: Bucket[]; want: number }[] = [
  { name: 'q=0 is the lower edge of the first bucket', q: 0, buckets: H, want: 0 },
  { name: 'rank 10 ends the first bucket, whose lower bound is 0', q: 0.25, buckets: H, want: 0.5 },
  { name: 'rank 12: 2 of 10 into (0.5,1]', q: 0.3, buckets: H, want: 0.6 },
  { name: 'median: rank 20 is the top of (0.5,1]', q: 0.5, buckets: H, want: 1 },
  { name: 'rank 24: 4 of 10 into (1,5]', q: 0.6, buckets: H, want: 2.6 },
  { name: 'rank 30 is the top of (1,5]', q: 0.75, buckets: H, want: 5 },
  { name: 'rank 36 falls in +Inf: the highest finite bound', q: 0.9, buckets: H, want: 5 },
  { name: 'q=1 also lands in +Inf', q: 1, buckets: H, want: 5 },
  { name: 'unsorted input is sorted first', q: 0.6, buckets: [...H].reverse(), want: 2.6 },
  { name: 'non-monotonic counts are raised (5,3,10 -> 5,5,10)', q: 0.5, buckets: b([[1, 5], [2, 3], [INF, 10]]), want: 1 },
  { name: 'equal bounds are added together', q: 0.5, buckets: b([[1, 2], [1, 3], [INF, 10]]), want: 1 },
  { name: 'a first bucket with bound <= 0 returns that bound', q: 0.2, buckets: b([[-1, 5], [0, 10], [INF, 10]]), want: -1 },
  { name: 'Envoy-like ms buckets: p99 of 100 requests, 98 <= 5 ms, 2 in (5,10]', q: 0.99, buckets: b([[0.5, 0], [1, 50], [5, 98], [10, 100], [INF, 100]]), want: 7.5 },
];
for (const c of quantileCases) {
  test(`histogramQuantile: ${c.name}`, () => {
    assert.ok(Math.abs(histogramQuantile(c.q, c.buckets) - c.want) < 1e-9, `got ${histogramQuantile(c.q, c.buckets)}, want ${c.want}`);
  });
}

test('histogramQuantile: NaN for empty, single-bucket, no +Inf, or zero-observation histograms', () => {
  assert.ok(Number.isNaN(histogramQuantile(0.5, [])));
  assert.ok(Number.isNaN(histogramQuantile(0.5, b([[INF, 10]]))));
  assert.ok(Number.isNaN(histogramQuantile(0.5, b([[1, 5], [2, 10]]))), 'no +Inf bucket');
  assert.ok(Number.isNaN(histogramQuantile(0.5, b([[1, 0], [INF, 0]]))), 'no observations');
  assert.ok(Number.isNaN(histogramQuantile(NaN, H)));
});

test('histogramQuantile: q outside [0,1] gives -Inf / +Inf like Prometheus', () => {
  assert.equal(histogramQuantile(-0.1, H), -Infinity);
  assert.equal(histogramQuantile(1.1, H), Infinity);
});

test('counters: increase and rate, with a reset counting the second reading whole', () => {
  assert.equal(counterIncrease(100, 160), 60);
  assert.equal(counterRate(100, 160, 2), 30);
  assert.equal(counterIncrease(100, 40), 40, 'the proxy restarted: 40 since the restart');
  assert.equal(counterRate(100, 40, 4), 10);
  assert.equal(counterRate(1, 2, 0), undefined, 'no time passed: no rate');
});

test('success rate is non-5xx over total; no requests is "no data", not 100%', () => {
  assert.equal(successRate(200, 10), 0.95);
  assert.equal(successRate(3, 3), 0);
  assert.equal(successRate(0, 0), undefined);
  assert.equal(share(3, 4), 0.75);
  assert.equal(share(1, 0), undefined);
});

test('histogram increase per bucket; a reset in any bucket uses the second reading whole', () => {
  assert.deepEqual(histogramIncrease(b([[1, 5], [INF, 8]]), b([[1, 9], [INF, 20]])), b([[1, 4], [INF, 12]]));
  assert.deepEqual(histogramIncrease(b([[1, 5], [INF, 8]]), b([[1, 1], [INF, 2]])), b([[1, 1], [INF, 2]]));
  assert.deepEqual(histogramIncrease([], b([[1, 1], [INF, 2]])), b([[1, 1], [INF, 2]]), 'a new series counts from zero');
});

test('summing histograms adds matching buckets (sum by le) and keeps them sorted', () => {
  assert.deepEqual(sumHistograms([b([[1, 1], [INF, 2]]), b([[INF, 5], [0.5, 1], [1, 3]])]), b([[0.5, 1], [1, 4], [INF, 7]]));
});

test('histogramIncrease and sumHistograms: matching buckets by index (same bounds, the usual case) gives what matching by le gives', async () => {
  const { seededRandom } = await import('../support/random.ts');
  // The definitions by `le`, as written before the by-index path existed.
  const increaseByLe = (before: readonly Bucket[], after: readonly Bucket[]): Bucket[] => {
    const prev = new Map(before.map((x) => [x.le, x.count]));
    const reset = after.some((x) => x.count < (prev.get(x.le) ?? 0));
    return after.map((x) => ({ le: x.le, count: reset ? x.count : x.count - (prev.get(x.le) ?? 0) }));
  };
  const sumByLe = (hs: readonly (readonly Bucket[])[]): Bucket[] => {
    const m = new Map<number, number>();
    for (const h of hs) for (const x of h) m.set(x.le, (m.get(x.le) ?? 0) + x.count);
    return [...m].map(([le, count]) => ({ le, count })).sort((p, q) => p.le - q.le);
  };
  const rnd = seededRandom(22);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const ENVOY = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000, INF];
  // Bounds: Envoy's, a prefix, shuffled, repeated, with NaN or -0 and 0, or none.
  const bounds = (): number[] => {
    const kind = pick(['envoy', 'envoy', 'prefix', 'shuffled', 'repeat', 'odd', 'empty']);
    if (kind === 'envoy') return ENVOY;
    if (kind === 'prefix') return ENVOY.slice(0, 1 + Math.floor(rnd() * ENVOY.length));
    if (kind === 'shuffled') return [...ENVOY].sort(() => rnd() - 0.5);
    if (kind === 'repeat') return [1, 5, 5, 10, INF];
    if (kind === 'odd') return pick([[-0, 0, INF], [NaN, 1, INF], [0, -0, 1], [1, NaN]]);
    return [];
  };
  const counts = (les: readonly number[], base?: readonly Bucket[]): Bucket[] => {
    let c = 0;
    return les.map((le, i) => ({ le, count: base && rnd() < 0.95 ? (base[i]?.count ?? 0) + Math.floor(rnd() * 3) : (c += Math.floor(rnd() * 50) + (rnd() < 0.05 ? 0.5 : 0)) }));
  };
  for (let i = 0; i < 1000; i++) {
    const les = bounds();
    const before = counts(les);
    const after = rnd() < 0.7 ? counts(les, before) : counts(rnd() < 0.5 ? les : bounds());
    assert.deepEqual(histogramIncrease(before, after), increaseByLe(before, after), `case ${i}: ${JSON.stringify([before, after])}`);
    const hs = Array.from({ length: Math.floor(rnd() * 5) }, () => counts(rnd() < 0.85 ? les : bounds()));
    assert.deepEqual(sumHistograms(hs), sumByLe(hs), `case ${i}: ${JSON.stringify(hs)}`);
  }
});
