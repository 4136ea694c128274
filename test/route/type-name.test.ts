import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBackendWeights, parseServiceName } from '../../src/route/parse.ts';
import { validateCanaryOptions } from '../../src/route/options.ts';
import { runMesh } from '../support/cli.ts';

test('route accepts kubectl svc/NAME (and service/NAME) wherever it names a Service', () => {
  assert.equal(parseServiceName('SERVICE', 'svc/web'), 'web');
  assert.equal(parseServiceName('SERVICE', 'service/web'), 'web');
  assert.deepEqual(parseBackendWeights(['svc/web=80', 'web-v2=20']), [{ backend: 'web', weight: 80 }, { backend: 'web-v2', weight: 20 }]);
  const o = validateCanaryOptions('svc/web', { canary: 'svc/web-v2', weight: '10', mirror: 'svc/shadow' });
  assert.equal(o.service, 'web');
  assert.equal(o.canary, 'web-v2');
});

test('route refuses a TYPE/NAME that is not a Service (exit 2): HTTPRoutes route Services', () => {
  for (const v of ['deploy/web', 'pod/web-1', 'svc/', 'svc/Web']) {
    assert.throws(() => parseServiceName('SERVICE', v), (e: { exitCode: number }) => e.exitCode === 2, v);
  }
});

test('mesh route show svc/web gets past argument parsing (to the missing kubeconfig, exit 3)', async () => {
  const r = await runMesh(['route', 'show', 'svc/web']);
  assert.equal(r.code, 3, r.stderr);
  assert.doesNotMatch(r.stderr, /is not a Service name/);
});
