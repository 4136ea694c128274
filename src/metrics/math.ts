import type { Bucket } from './prometheus.js';

/**
 * Increase of a counter between two readings. A smaller second reading means the counter was
 * reset (the proxy restarted), and, as Prometheus's rate() does, the whole second reading counts
 * as the increase.
 */
export function counterIncrease(before: number, after: number): number {
  return after >= before ? after - before : after;
}

/** Per-second rate of a counter read twice `seconds` apart; undefined when no time passed. */
export function counterRate(before: number, after: number, seconds: number): number | undefined {
  if (!(seconds > 0)) return undefined;
  return counterIncrease(before, after) / seconds;
}

/**
 * Share of requests that did not fail (non-5xx / total), in [0, 1]; undefined with no requests
 * (nothing to judge, shown as "-", not as 100%).
 */
export function successRate(total: number, failures: number): number | undefined {
  if (!(total > 0)) return undefined;
  return Math.min(1, Math.max(0, (total - failures) / total));
}

/** Share `part / whole` in [0, 1]; undefined when `whole` is 0. */
export function share(part: number, whole: number): number | undefined {
  if (!(whole > 0)) return undefined;
  return Math.min(1, Math.max(0, part / whole));
}

/**
 * Increase of a cumulative histogram between two readings, bucket by bucket (matched on `le`).
 * A reset of any bucket (a smaller second reading) means the proxy restarted: the second reading
 * is used whole. Buckets only in `after` count whole; buckets only in `before` are dropped.
 */
export function histogramIncrease(before: readonly Bucket[], after: readonly Bucket[]): Bucket[] {
  // The usual case, the same bounds in the same (rising) order: bucket i matches bucket i.
  if (sameBounds(before, after)) {
    let reset = false;
    for (let i = 0; i < after.length && !reset; i++) reset = after[i]!.count < before[i]!.count;
    return after.map((b, i) => ({ le: b.le, count: reset ? b.count : b.count - before[i]!.count }));
  }
  const prev = new Map(before.map((b) => [b.le, b.count]));
  const reset = after.some((b) => b.count < (prev.get(b.le) ?? 0));
  return after.map((b) => ({ le: b.le, count: reset ? b.count : b.count - (prev.get(b.le) ?? 0) }));
}

/** Add histograms bucket by bucket (like `sum by (le)`); the result is sorted by `le`. */
export function sumHistograms(hs: readonly (readonly Bucket[])[]): Bucket[] {
  // The usual case (every proxy has the same buckets): add by index, in the same order as below.
  if (hs.length > 0 && hs.every((h) => sameBounds(hs[0]!, h))) {
    return hs[0]!.map((b, i) => {
      let count = 0;
      for (const h of hs) count += h[i]!.count;
      return { le: b.le, count };
    });
  }
  const m = new Map<number, number>();
  for (const h of hs) for (const b of h) m.set(b.le, (m.get(b.le) ?? 0) + b.count);
  return [...m].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le);
}

/**
 * Whether two histograms have the same bounds at the same places, strictly rising (so no bound
 * repeats and none is NaN): then matching buckets by index is matching them by `le`.
 */
function sameBounds(a: readonly Bucket[], b: readonly Bucket[]): boolean {
  if (a.length !== b.length || a.length === 0) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i]!.le !== b[i]!.le) return false;
    if (i > 0 && !(a[i]!.le > a[i - 1]!.le)) return false;
  }
  return true;
}

/**
 * The q-quantile (0 <= q <= 1) of a cumulative histogram, computed exactly as Prometheus's
 * histogram_quantile() does for classic buckets:
 * - q < 0 gives -Inf, q > 1 gives +Inf, q NaN gives NaN;
 * - fewer than two buckets, no +Inf bucket, or no observations give NaN;
 * - bucket counts are made monotonic first (a lower count after a higher one is raised to it);
 * - the rank q * total is located in the first bucket whose count reaches it, and the value is
 *   interpolated linearly inside that bucket, whose lower bound is the previous bucket's `le`
 *   (0 for the first bucket, unless its upper bound is <= 0, then that bound is returned);
 * - a rank falling in the +Inf bucket returns the highest finite upper bound.
 */
export function histogramQuantile(q: number, buckets: readonly Bucket[]): number {
  if (Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const bs = coalesce(buckets);
  if (bs.length < 2) return NaN;
  if (bs[bs.length - 1]!.le !== Infinity) return NaN;
  let max = -Infinity;
  for (const b of bs) {
    if (b.count < max) b.count = max;
    else max = b.count;
  }
  const observations = bs[bs.length - 1]!.count;
  if (!(observations > 0)) return NaN;
  let rank = q * observations;
  let b = bs.length - 1;
  for (let i = 0; i < bs.length - 1; i++) {
    if (bs[i]!.count >= rank) {
      b = i;
      break;
    }
  }
  if (b === bs.length - 1) return bs[bs.length - 2]!.le;
  if (b === 0 && bs[0]!.le <= 0) return bs[0]!.le;
  let start = 0;
  const end = bs[b]!.le;
  let count = bs[b]!.count;
  if (b > 0) {
    start = bs[b - 1]!.le;
    count -= bs[b - 1]!.count;
    rank -= bs[b - 1]!.count;
  }
  return start + (end - start) * (rank / count);
}

/** Sorted copy with buckets of equal `le` added together (as Prometheus coalesces them). */
function coalesce(buckets: readonly Bucket[]): Bucket[] {
  const sorted = [...buckets].filter((b) => !Number.isNaN(b.le)).sort((a, b) => a.le - b.le);
  const out: Bucket[] = [];
  for (const b of sorted) {
    const last = out[out.length - 1];
    if (last && last.le === b.le) last.count += b.count;
    else out.push({ le: b.le, count: b.count });
  }
  return out;
}
