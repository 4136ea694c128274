/**
 * When the control plane applies source changes (src/controller/controlplane.ts): structural
 * changes are debounced (one rebuild per quiet `debounceMs`, but at least every `maxDelayMs` during
 * a burst), endpoint changes throttled (at most one incremental update per `endpointIntervalMs`;
 * one after a quiet interval goes on the next turn of the event loop). It only keeps time: what
 * is pending and how to apply it is the caller's. The clock is injected so tests need no sleeps.
 */

/** Time and timers (the real ones by default). */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** A wait of the process clock: a timer, or for no delay an immediate. */
type SystemWait = { timer: NodeJS.Timeout } | { immediate: NodeJS.Immediate };

/**
 * The process clock. A wait of 0 ms is a setImmediate: it runs after the I/O already pending, on
 * this turn of the event loop, where a 0 ms timer waits for the next turn's timers and at least
 * 1 ms (an endpoint change after a quiet interval waited that long before it was applied).
 */
export const SYSTEM_CLOCK: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms): SystemWait => (ms <= 0 ? { immediate: setImmediate(fn) } : { timer: setTimeout(fn, ms) }),
  clearTimeout: (h) => {
    const w = h as SystemWait;
    if ('immediate' in w) clearImmediate(w.immediate);
    else clearTimeout(w.timer);
  },
};

/** Options of {@link ChangeScheduler}. */
export interface ChangeSchedulerOptions {
  /** Quiet time that ends a burst of structural changes (default 100 ms). */
  debounceMs?: number;
  /** A burst is cut into a rebuild at least this often (default 1 s). */
  maxDelayMs?: number;
  /** Minimum time between incremental endpoint updates (default 10 ms, never more than debounceMs). */
  endpointIntervalMs?: number;
  clock?: Clock;
}

/** What the scheduler calls when a wait is over. */
export interface ChangeHandlers {
  /** Structural changes are due: the caller calls takeRebuild() and rebuilds. */
  rebuild(): void;
  /** Endpoint changes are due: the caller calls takeEndpoints() (unless it has nothing to apply). */
  endpoints(): void;
}

/**
 * The timing of pending changes. Each kind remembers when its first unapplied change was seen
 * (`changedAt`, for push latency); a rebuild takes both kinds, since it applies everything.
 */
export class ChangeScheduler {
  private readonly debounceMs: number;
  private readonly maxDelayMs: number;
  private readonly endpointIntervalMs: number;
  private readonly clock: Clock;
  private readonly handlers: ChangeHandlers;
  private structural = false;
  private firstPendingAt = 0;
  private changedAt = 0;
  private endpointChangedAt = 0;
  private lastEndpointFlush = 0;
  private timer: unknown;
  private endpointTimer: unknown;

  constructor(opts: ChangeSchedulerOptions, handlers: ChangeHandlers) {
    this.debounceMs = opts.debounceMs ?? 100;
    this.maxDelayMs = opts.maxDelayMs ?? 1000;
    this.endpointIntervalMs = opts.endpointIntervalMs ?? Math.min(10, this.debounceMs);
    this.clock = opts.clock ?? SYSTEM_CLOCK;
    this.handlers = handlers;
  }

  /** The clock's time. */
  now(): number {
    return this.clock.now();
  }

  /** Whether a structural change waits for a rebuild. */
  get structuralPending(): boolean {
    return this.structural;
  }

  /** Record a structural change seen at `at` without scheduling (the caller rebuilds now). */
  mark(at: number = this.clock.now()): void {
    if (!this.structural) this.firstPendingAt = at;
    this.structural = true;
    this.changedAt ||= at;
  }

  /** A structural change now: (re)start the debounce, bounded by maxDelayMs since the first pending one. */
  structuralChange(): void {
    const now = this.clock.now();
    this.mark(now);
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    const wait = Math.max(0, Math.min(this.debounceMs, this.firstPendingAt + this.maxDelayMs - now));
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.handlers.rebuild();
    }, wait);
  }

  /** An endpoint change now: due at once after a quiet interval, else at the end of the interval. */
  endpointChange(): void {
    const now = this.clock.now();
    this.endpointChangedAt ||= now;
    if (this.endpointTimer !== undefined) return;
    this.endpointTimer = this.clock.setTimeout(() => {
      this.endpointTimer = undefined;
      this.handlers.endpoints();
    }, Math.max(0, this.lastEndpointFlush + this.endpointIntervalMs - now));
  }

  /** Start a rebuild: cancel both waits and return when the oldest change it applies was seen. */
  takeRebuild(): number {
    this.cancel();
    const changedAt = Math.min(this.changedAt || this.clock.now(), this.endpointChangedAt || Infinity);
    this.structural = false;
    this.changedAt = this.endpointChangedAt = 0;
    return changedAt;
  }

  /** Cancel the endpoint wait (the caller applies endpoint changes now, or has none). */
  endpointsDue(): void {
    if (this.endpointTimer !== undefined) this.clock.clearTimeout(this.endpointTimer);
    this.endpointTimer = undefined;
  }

  /** Start an incremental update: the interval restarts now; returns when its oldest change was seen. */
  takeEndpoints(): number {
    this.endpointsDue();
    const now = this.clock.now();
    this.lastEndpointFlush = now;
    const changedAt = this.endpointChangedAt || now;
    this.endpointChangedAt = 0;
    return changedAt;
  }

  /** Cancel every wait (pending changes stay recorded). */
  cancel(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    if (this.endpointTimer !== undefined) this.clock.clearTimeout(this.endpointTimer);
    this.timer = this.endpointTimer = undefined;
  }
}
