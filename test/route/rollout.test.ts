import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decide, effectivePhase, evaluateGates, readRollout, resumeStep, splitFor, watchExitCode, type RolloutState } from '../../src/route/rollout.ts';

test('gates: 1% error rate and 300ms p99, judged on the canary\'s stats', () => {
  const gates = { maxErrorRatePercent: 1, maxP99Ms: 300 };
  const table: [string, Parameters<typeof evaluateGates>[0], boolean, RegExp | undefined][] = [
    ['healthy', { rps: 10, successRate: 0.999, p99Ms: 120 }, true, undefined],
    ['exactly at the limit passes', { rps: 10, successRate: 0.99, p99Ms: 300 }, true, undefined],
    ['2% errors fails', { rps: 10, successRate: 0.98, p99Ms: 120 }, false, /error rate 2% > 1%/],
    ['slow fails', { rps: 10, successRate: 1, p99Ms: 450 }, false, /p99 450ms > 300ms/],
    ['both fail, both named', { rps: 10, successRate: 0.5, p99Ms: 900 }, false, /error rate 50% > 1%.*p99 900ms/s],
    ['no traffic is not healthy', { rps: 0, successRate: 1 }, false, /no requests reached the canary/],
    ['no data is not healthy', undefined, false, /no requests reached the canary/],
    ['no latency histogram fails a latency gate', { rps: 5, successRate: 1 }, false, /no p99 latency reading/],
  ];
  for (const [name, stats, ok, why] of table) {
    const v = evaluateGates(stats, gates);
    assert.equal(v.ok, ok, name);
    if (why) assert.match(v.failures.join('; '), why, name);
    else assert.deepEqual(v.failures, [], name);
  }
  assert.equal(evaluateGates({ rps: 10, successRate: 0.98 }, { maxErrorRatePercent: 2.5 }).ok, true, 'only the configured gate is checked');
  assert.equal(evaluateGates(undefined, {}).ok, true, 'no gates: time alone advances the rollout');
});

test('decide: healthy advances to the next step, then promotes; unhealthy rolls back', () => {
  const steps = [5, 25, 50, 100];
  const good = { ok: true, failures: [] };
  assert.deepEqual(decide(steps, 0, good), { action: 'advance', step: 1, weight: 25 });
  assert.deepEqual(decide(steps, 2, good), { action: 'advance', step: 3, weight: 100 });
  assert.deepEqual(decide(steps, 3, good), { action: 'promote' });
  assert.deepEqual(decide([10, 50], 1, good), { action: 'promote' }, 'a last step below 100 still promotes');
  assert.deepEqual(decide(steps, 1, { ok: false, failures: ['error rate 3% > 1%'] }), { action: 'rollback', reason: 'error rate 3% > 1%' });
  assert.deepEqual(splitFor(25), { stable: 75, canary: 25 });
});

test('status phases map to watch exit codes; a silent Progressing run becomes Degraded', () => {
  assert.equal(watchExitCode('Promoted'), 0);
  assert.equal(watchExitCode('Progressing'), undefined);
  for (const p of ['RolledBack', 'Paused', 'Degraded'] as const) assert.equal(watchExitCode(p), 1, p);
  const s: RolloutState = { phase: 'Progressing', stable: 'web', canary: 'web-v2', canaryWeight: 25, intervalMs: 60_000, message: '', updatedAt: '2026-01-01T00:00:00.000Z' };
  const t0 = Date.parse(s.updatedAt);
  assert.equal(effectivePhase(s, t0 + 60_000).phase, 'Progressing');
  assert.deepEqual(effectivePhase(s, t0 + 4 * 60_000), { phase: 'Degraded', stalled: true });
  assert.equal(effectivePhase({ ...s, phase: 'Promoted' }, t0 + 1e9).phase, 'Promoted');
});

test('resume: the same canary and steps continue at the recorded step; anything else starts over', () => {
  const s: RolloutState = { phase: 'Paused', stable: 'web', canary: 'web-v2', canaryWeight: 25, steps: [5, 25, 50], step: 1, message: '', updatedAt: '' };
  assert.equal(resumeStep(s, 'web-v2', [5, 25, 50]), 1);
  assert.equal(resumeStep({ ...s, phase: 'Progressing' }, 'web-v2', [5, 25, 50]), 1);
  assert.equal(resumeStep(s, 'web-v3', [5, 25, 50]), 0);
  assert.equal(resumeStep(s, 'web-v2', [5, 50]), 0);
  assert.equal(resumeStep({ ...s, phase: 'RolledBack' }, 'web-v2', [5, 25, 50]), 0);
  assert.equal(resumeStep(undefined, 'web-v2', [5]), 0);
});

test('readRollout accepts what we write and ignores junk', () => {
  const s: RolloutState = { phase: 'Promoted', stable: 'web', canary: 'web-v2', canaryWeight: 100, message: 'ok', updatedAt: 'x' };
  assert.deepEqual(readRollout(JSON.stringify(s)), s);
  assert.equal(readRollout('{"phase":"Exploded"}'), undefined);
  assert.equal(readRollout('not json'), undefined);
  assert.equal(readRollout(undefined), undefined);
});
