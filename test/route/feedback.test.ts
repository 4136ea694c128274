import { test } from 'node:test';
import assert from 'node:assert/strict';
import { routePrinter } from '../../src/commands/route-run.ts';
import { validateCanaryOptions } from '../../src/route/options.ts';
import { canaryRoute } from '../../src/route/run.ts';
import { captureUi } from '../support/ui.ts';
import { SEED } from './scenarios.ts';
import { fakeClock, MemoryCluster, scriptedMetrics } from './support.ts';

test('route canary --steps in a CI log: a "waiting for next step at HH:MM:SS" line as each step starts and a line per gate evaluation', async () => {
  const cluster = new MemoryCluster();
  for (const o of SEED) cluster.put(o);
  const { ui, err } = captureUi();
  const opts = { ...validateCanaryOptions('svc/web', { canary: 'web-v2', steps: '10,50,100', interval: '1m', maxErrorRate: '1%' }), namespace: 'shop', output: 'table' as const };
  const code = await canaryRoute(opts, { cluster, clock: fakeClock(), metrics: scriptedMetrics(() => ({ rps: 5, successRate: 1, p99Ms: 10 })) }, routePrinter(ui, 'table'));
  assert.equal(code, 0);
  const lines = err().split('\n').filter((l) => l.startsWith('step ') || l.startsWith('✔ step'));
  assert.deepEqual(lines, [
    'step 1/3: 10% to web-v2: waiting for next step at 00:01:00 UTC (gates judged every 1m)',
    '✔ step 1/3: 10% to web-v2: healthy (5 rps, 0% errors, p99 10ms)',
    'step 2/3: 50% to web-v2: waiting for next step at 00:02:00 UTC (gates judged every 1m)',
    '✔ step 2/3: 50% to web-v2: healthy (5 rps, 0% errors, p99 10ms)',
    'step 3/3: 100% to web-v2: waiting for next step at 00:03:00 UTC (gates judged every 1m)',
    '✔ step 3/3: 100% to web-v2: healthy (5 rps, 0% errors, p99 10ms)',
  ]);
});
