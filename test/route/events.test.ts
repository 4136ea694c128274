import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateCanaryOptions } from '../../src/route/options.ts';
import { canaryRoute, type RouteEvent } from '../../src/route/run.ts';
import { SEED } from './scenarios.ts';
import { fakeClock, MemoryCluster, scriptedMetrics } from './support.ts';

// The rollout logic reports through events and never prints: these pin the event sequence a
// progressive rollout produces, without a Ui.

function setup(): MemoryCluster {
  const cluster = new MemoryCluster();
  for (const o of SEED) cluster.put(o);
  return cluster;
}

test('a healthy progressive rollout: one started and one judged event per step, then promoted and the final status', async () => {
  const events: RouteEvent[] = [];
  const clock = fakeClock();
  const opts = { ...validateCanaryOptions('web', { canary: 'web-v2', steps: '10,50,100', interval: '1m', maxErrorRate: '1%' }), namespace: 'shop', output: 'table' as const };
  const code = await canaryRoute(opts, { cluster: setup(), clock, metrics: scriptedMetrics(() => ({ rps: 5, successRate: 1, p99Ms: 10 })) }, (e) => events.push(e));
  assert.equal(code, 0);
  assert.deepEqual(events.map((e) => e.type), ['step-started', 'step-judged', 'step-started', 'step-judged', 'step-started', 'step-judged', 'promoted', 'rollout-finished']);
  const labels = events.flatMap((e) => (e.type === 'step-started' ? [e.label] : []));
  assert.deepEqual(labels, ['step 1/3: 10% to web-v2', 'step 2/3: 50% to web-v2', 'step 3/3: 100% to web-v2']);
  const judged = events.flatMap((e) => (e.type === 'step-judged' ? [e.reading] : []));
  assert.ok(judged.every((r) => r.ok && r.rps === 5));
  // Readings are stamped by the injected clock: a minute apart.
  assert.deepEqual(judged.map((r) => r.at), ['2026-01-01T00:01:00.000Z', '2026-01-01T00:02:00.000Z', '2026-01-01T00:03:00.000Z']);
  const last = events.at(-1)!;
  assert.ok(last.type === 'rollout-finished' && last.report.phase === 'Promoted');
});

test('a failing gate: the step is judged unhealthy, then rolled back (exit 1)', async () => {
  const events: RouteEvent[] = [];
  const opts = { ...validateCanaryOptions('web', { canary: 'web-v2', steps: '10,100', interval: '1m', maxErrorRate: '1%' }), namespace: 'shop', output: 'json' as const };
  const code = await canaryRoute(opts, { cluster: setup(), clock: fakeClock(), metrics: scriptedMetrics(() => ({ rps: 5, successRate: 0.9, p99Ms: 10 })) }, (e) => events.push(e));
  assert.equal(code, 1);
  assert.deepEqual(events.map((e) => e.type), ['step-started', 'step-judged', 'rolled-back', 'rollout-finished']);
  const rb = events[2]!;
  assert.ok(rb.type === 'rolled-back' && rb.stable === 'web' && /error rate/.test(rb.reason), JSON.stringify(rb));
});
