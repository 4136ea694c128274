// The control plane's pacing with a manual clock: structural changes are debounced and cut by
// the maximum delay, endpoint changes throttled, and each flush reports its oldest change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stat } from 'node:fs';
import { ChangeScheduler, SYSTEM_CLOCK, type Clock } from '../../src/controller/debounce.ts';

/** A clock whose time moves only when the test says; due timers run in time order. */
class ManualClock implements Clock {
  t = 1_000;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  /** Move time forward by `ms`, running every timer due on the way. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = [...this.timers.entries()].filter(([, x]) => x.at <= end).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.t = due[1].at;
      due[1].fn();
    }
    this.t = end;
  }
}

function setup(opts: { debounceMs?: number; maxDelayMs?: number; endpointIntervalMs?: number } = {}) {
  const clock = new ManualClock();
  const events: string[] = [];
  const s: ChangeScheduler = new ChangeScheduler({ ...opts, clock }, {
    rebuild: () => events.push(`rebuild@${clock.t} since ${s.takeRebuild()}`),
    endpoints: () => events.push(`endpoints@${clock.t} since ${s.takeEndpoints()}`),
  });
  return { clock, s, events };
}

test('structural changes within the debounce become one rebuild, reporting the first change', () => {
  const { clock, s, events } = setup({ debounceMs: 100 });
  s.structuralChange();
  clock.advance(60);
  s.structuralChange();
  clock.advance(60);
  assert.deepEqual(events, [], 'the second change restarted the wait');
  clock.advance(40);
  assert.deepEqual(events, ['rebuild@1160 since 1000']);
  assert.equal(s.structuralPending, false);
});

test('a burst longer than maxDelayMs is cut into rebuilds at least that often', () => {
  const { clock, s, events } = setup({ debounceMs: 100, maxDelayMs: 250 });
  for (let i = 0; i < 10; i++) {
    s.structuralChange();
    clock.advance(50);
  }
  // Changes every 50 ms never leave the 100 ms debounce quiet: only the maximum delay cuts them.
  assert.deepEqual(events, ['rebuild@1250 since 1000', 'rebuild@1500 since 1250']);
  clock.advance(500);
  assert.equal(events.length, 2, 'nothing pending after the burst');
});

test('endpoint changes: the first after a quiet interval at once, the rest at the end of the interval, together', () => {
  const { clock, s, events } = setup({ endpointIntervalMs: 10 });
  s.endpointChange();
  clock.advance(0);
  assert.deepEqual(events, ['endpoints@1000 since 1000']);
  clock.advance(3);
  s.endpointChange();
  clock.advance(2);
  s.endpointChange();
  clock.advance(4);
  assert.equal(events.length, 1, 'still inside the interval');
  clock.advance(1);
  assert.deepEqual(events, ['endpoints@1000 since 1000', 'endpoints@1010 since 1003']);
  clock.advance(100);
  s.endpointChange();
  clock.advance(0);
  assert.deepEqual(events.at(-1), 'endpoints@1110 since 1110');
});

test('a rebuild takes pending endpoint changes too and cancels their wait; its time is the oldest change of either kind', () => {
  const { clock, s, events } = setup({ debounceMs: 50, endpointIntervalMs: 20 });
  s.endpointChange();
  clock.advance(0);
  clock.advance(5);
  s.endpointChange(); // waits for the interval (until 1020)
  clock.advance(1);
  s.structuralChange();
  const at = s.takeRebuild();
  assert.equal(at, 1005);
  clock.advance(1000);
  assert.deepEqual(events, ['endpoints@1000 since 1000'], 'no timer fires after the rebuild took everything');
});

test('the endpoint interval defaults to 10 ms, never more than the debounce', () => {
  const { clock, s, events } = setup({ debounceMs: 4 });
  s.endpointChange();
  clock.advance(0);
  s.endpointChange();
  clock.advance(3);
  assert.equal(events.length, 1);
  clock.advance(1);
  assert.deepEqual(events, ['endpoints@1000 since 1000', 'endpoints@1004 since 1000']);
});

test('the process clock: a 0 ms wait runs on this turn of the event loop, before a 1 ms timer; either kind of wait can be cancelled', async () => {
  const ran: string[] = [];
  let done!: Promise<void>;
  // From an I/O callback, as the controller's source deliveries come: the order is then fixed.
  await new Promise<void>((scheduled) => stat('.', () => {
    done = new Promise<void>((resolve) => SYSTEM_CLOCK.setTimeout(() => resolve(), 20));
    SYSTEM_CLOCK.setTimeout(() => ran.push('timer 1 ms'), 1);
    SYSTEM_CLOCK.setTimeout(() => ran.push('wait 0 ms'), 0);
    SYSTEM_CLOCK.clearTimeout(SYSTEM_CLOCK.setTimeout(() => ran.push('cancelled 0 ms'), 0));
    SYSTEM_CLOCK.clearTimeout(SYSTEM_CLOCK.setTimeout(() => ran.push('cancelled 5 ms'), 5));
    scheduled();
  }));
  await done;
  assert.deepEqual(ran, ['wait 0 ms', 'timer 1 ms']);
});
