/**
 * How many ADS streams may be opening at once (src/xds/ads.ts). After a controller restart every
 * proxy reconnects in the same second; served all at once, each stream's first responses wait
 * behind everyone else's, so all of them finish at the very end and the write buffers hold every
 * stream's full config together. Admitted in arrival order, at most `max` at a time, the first to
 * come are served first and no stream waits longer than the ones ahead of it (no starvation).
 * A stream holds its slot until it answers its first response (ACK or NACK), closes, or
 * `holdMs` passes (a proxy that never answers must not keep others out).
 */

/** Timers (the process's by default; tests pass their own). */
export interface AdmissionTimers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const TIMERS: AdmissionTimers = {
  set: (fn, ms) => setTimeout(fn, ms).unref(),
  clear: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** A stream's place: waiting, then admitted; release() (idempotent) frees it either way. */
export interface AdmissionTicket {
  release(): void;
}

interface Entry extends AdmissionTicket {
  start: () => void;
  state: 'waiting' | 'active' | 'done';
  timer?: unknown;
}

/** A FIFO gate of at most `max` active entries (see the module comment). */
export class Admission {
  private active = 0;
  private waiting: Entry[] = [];
  /** Index of the first live entry of `waiting` (shifting a 5,000-entry array per admission is quadratic). */
  private head = 0;
  /** Streams admitted since start (for status). */
  admitted = 0;

  constructor(readonly max: number, private readonly holdMs: number, private readonly timers: AdmissionTimers = TIMERS) {}

  /** Streams admitted and not yet released. */
  get opening(): number {
    return this.active;
  }

  /** Streams waiting for a slot. */
  get queued(): number {
    let n = 0;
    for (let i = this.head; i < this.waiting.length; i++) if (this.waiting[i]!.state === 'waiting') n++;
    return n;
  }

  /** Ask for a slot: `start` runs now if one is free, else when it is this entry's turn. */
  enter(start: () => void): AdmissionTicket {
    const e: Entry = { start, state: 'waiting', release: () => this.release(e) };
    if (this.active < this.max) this.admit(e);
    else this.waiting.push(e);
    return e;
  }

  private admit(e: Entry): void {
    e.state = 'active';
    this.active++;
    this.admitted++;
    e.timer = this.timers.set(() => this.release(e), this.holdMs);
    e.start();
  }

  private release(e: Entry): void {
    if (e.state === 'done') return;
    const wasActive = e.state === 'active';
    e.state = 'done';
    if (!wasActive) return; // a waiting entry is skipped when its turn comes
    this.timers.clear(e.timer);
    this.active--;
    while (this.active < this.max && this.head < this.waiting.length) {
      const next = this.waiting[this.head++]!;
      if (next.state === 'waiting') this.admit(next);
    }
    if (this.head === this.waiting.length) {
      this.waiting = [];
      this.head = 0;
    }
  }
}
