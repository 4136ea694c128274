import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HEAVY_MODULES, loadedAny, runMesh, runMeshTraced } from '../support/cli.ts';

const HEAVY = [...HEAVY_MODULES, 'parse-prometheus-text-format'];

for (const cmd of ['stat', 'edges', 'proxy-status', 'proxy-config']) {
  test(`mesh ${cmd} --help loads no cluster, gRPC, x509 or parser code`, async () => {
    const r = await runMeshTraced([cmd, '--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.modules.some((u) => u.endsWith(`/dist/commands/${cmd}.js`)), 'the command module was loaded (else this proves nothing)');
    assert.equal(loadedAny(r.modules, HEAVY), undefined);
  });
}

test('bad usage is exit 2 before any cluster is contacted', async () => {
  const r = await runMesh(['stat', 'jobs']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /resource "jobs" is not KIND\[\/NAME\]/);
  const p = await runMesh(['proxy-config', 'bootstrap', 'x']);
  assert.equal(p.code, 2);
  assert.match(p.stderr, /unknown config section "bootstrap"/);
});
