import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HEAVY_MODULES as HEAVY, runMeshTraced } from '../support/cli.ts';

async function loaded(args: string[]): Promise<{ code: number; urls: string[] }> {
  const r = await runMeshTraced(args);
  return { code: r.code, urls: r.modules };
}

for (const args of [['install', '--help'], ['upgrade', '--help'], ['uninstall', '--help'], ['manifest', 'generate'], ['profile', 'list']]) {
  test(`mesh ${args.join(' ')} loads no Kubernetes client, gRPC, x509 or prompt code`, async () => {
    const { code, urls } = await loaded(args);
    assert.equal(code, 0);
    assert.ok(urls.some((u) => u.endsWith('/dist/cli.js')), 'the trace saw the CLI load');
    for (const heavy of HEAVY) assert.equal(urls.find((u) => u.includes(`/node_modules/${heavy}`)), undefined, heavy);
  });
}

test('mesh manifest generate --ca-cert does load x509 (the trace can see it)', async () => {
  const { code, urls } = await loaded(['manifest', 'generate', '--ca-cert', 'test/fixtures/ca/root.crt', '--ca-key', 'test/fixtures/ca/root.key']);
  assert.equal(code, 0);
  assert.ok(urls.some((u) => u.includes('/node_modules/@peculiar/x509')));
});
