/**
 * Small, bounded bookkeeping for callers that misbehave: a short-lived set (negative caches), a
 * per-key budget (token bucket) and a log that counts repeats instead of writing each one. Every
 * structure holds at most `maxKeys` keys (oldest dropped first), so a flood of distinct keys costs
 * bounded memory. Time comes from an injected clock (milliseconds), so tests need no sleeps.
 */

/** A clock in milliseconds (Date.now in production). */
export type Clock = () => number;

const MAX_KEYS = 10_000;

/** Drop the oldest keys of a Map (insertion order) until it holds at most `max`. */
function trim<K, V>(map: Map<K, V>, max: number): void {
  while (map.size > max) map.delete(map.keys().next().value as K);
}

/** Keys remembered for `ttlMs` after they were added (e.g. hashes of tokens a TokenReview refused). */
export class ExpiringSet {
  private readonly until = new Map<string, number>();

  constructor(private readonly ttlMs: number, private readonly now: Clock = Date.now, private readonly maxKeys = MAX_KEYS) {}

  /** Remember `key` for ttlMs from now. */
  add(key: string): void {
    this.until.delete(key);
    this.until.set(key, this.now() + this.ttlMs);
    trim(this.until, this.maxKeys);
  }

  /** Whether `key` was added less than ttlMs ago. */
  has(key: string): boolean {
    const t = this.until.get(key);
    if (t === undefined) return false;
    if (t > this.now()) return true;
    this.until.delete(key);
    return false;
  }
}

/**
 * A token bucket per key: `burst` tokens, refilled at `perSecond`. take() spends one when there is
 * one; give() returns one (a call that turned out well should not count against its caller).
 */
export class KeyedBudget {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly burst: number, private readonly perSecond: number, private readonly now: Clock = Date.now, private readonly maxKeys = MAX_KEYS) {}

  private bucket(key: string): { tokens: number; at: number } {
    const now = this.now();
    let b = this.buckets.get(key);
    if (!b) {
      b = { tokens: this.burst, at: now };
      this.buckets.set(key, b);
      trim(this.buckets, this.maxKeys);
    }
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.perSecond);
    b.at = now;
    return b;
  }

  /** Spend one token of `key`; false (nothing spent) when the bucket is empty. */
  take(key: string): boolean {
    const b = this.bucket(key);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Give one token back to `key` (up to the burst). */
  give(key: string): void {
    const b = this.bucket(key);
    b.tokens = Math.min(this.burst, b.tokens + 1);
  }

  /** Seconds until `key` has a token again (0 when it has one now). */
  waitSeconds(key: string): number {
    const b = this.bucket(key);
    return b.tokens >= 1 ? 0 : Math.ceil((1 - b.tokens) / this.perSecond);
  }
}

/**
 * Log lines that may repeat without end (refused calls, NACKs): the first line of a key in each
 * interval is written as is; later ones of the same key are only counted, and when the interval
 * has passed one summary line per key says how many were held back
 * (`summary(key, count, seconds)`, seconds from the first to the last of them). Summaries are written by the next record() after the interval
 * or by flush(); an unref'd timer calls flush() so a flood that stops is still summarised.
 */
export class RepeatLog {
  private readonly counts = new Map<string, { count: number; since: number; last: number }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly log: (line: string) => void,
    private readonly summary: (key: string, count: number, seconds: number) => string,
    private readonly intervalMs = 10_000,
    private readonly now: Clock = Date.now,
    private readonly maxKeys = MAX_KEYS,
  ) {}

  /** Write `line` unless `key` was logged within the interval; then count it for the summary. */
  record(key: string, line: () => string): void {
    const now = this.now();
    this.flush(false);
    const c = this.counts.get(key);
    if (c) {
      c.count++;
      c.last = now;
      this.schedule();
      return;
    }
    this.counts.set(key, { count: 0, since: now, last: now });
    trim(this.counts, this.maxKeys);
    this.log(line());
  }

  /** Write the summaries of keys whose interval has passed (all of them with `all`). */
  flush(all = true): void {
    const now = this.now();
    for (const [key, c] of this.counts) {
      if (!all && now - c.since < this.intervalMs) continue;
      this.counts.delete(key);
      if (c.count > 0) this.log(this.summary(key, c.count, Math.max(1, Math.ceil((c.last - c.since) / 1000))));
    }
  }

  /** Drop the timer (the pending counts are flushed). */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.flush();
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush(false);
      if ([...this.counts.values()].some((c) => c.count > 0)) this.schedule();
    }, this.intervalMs);
    this.timer.unref();
  }
}
