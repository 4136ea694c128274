import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HEAVY_MODULES as HEAVY, runMeshTraced } from '../support/cli.ts';

async function loadedModules(args: string[]): Promise<{ code: number; urls: string[] }> {
  const r = await runMeshTraced(args);
  return { code: r.code, urls: r.modules };
}

for (const args of [['--help'], ['version', '--client'], ['version', '--client', '-o', 'json']]) {
  test(`mesh ${args.join(' ')} loads no Kubernetes, gRPC, protobuf or prompt code`, async () => {
    const { code, urls } = await loadedModules(args);
    assert.equal(code, 0);
    assert.ok(urls.some((u) => u.endsWith('/dist/cli.js')), 'the trace must see the CLI load (else this test proves nothing)');
    for (const heavy of HEAVY) {
      const hit = urls.find((u) => u.includes(`/node_modules/${heavy}`));
      assert.equal(hit, undefined, `${heavy} was loaded: ${hit}`);
    }
  });
}

test('mesh version (with a cluster asked for) does load the Kubernetes client: the trace can see it', async () => {
  const { urls } = await loadedModules(['version']);
  assert.ok(urls.some((u) => u.includes('/node_modules/@kubernetes/client-node')));
});
