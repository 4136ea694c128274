import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMesh, ROOT } from '../support/cli.ts';

const HEAVY = ['@kubernetes/client-node', '@grpc/', 'protobufjs', 'inquirer', 'prom-client', '@peculiar/x509', 'parse-prometheus-text-format'];

for (const cmd of ['stat', 'edges', 'proxy-status', 'proxy-config']) {
  test(`mesh ${cmd} --help loads no cluster, gRPC, x509 or parser code`, async () => {
    const trace = join(mkdtempSync(join(tmpdir(), 'mesh-trace-')), 'trace.txt');
    const r = await runMesh([cmd, '--help'], { env: { MESH_TRACE_FILE: trace }, nodeArgs: ['--import', join(ROOT, 'test/support/trace-imports.mjs')] });
    assert.equal(r.code, 0, r.stderr);
    const urls = readFileSync(trace, 'utf8').split('\n').filter(Boolean);
    assert.ok(urls.some((u) => u.endsWith(`/dist/commands/${cmd}.js`)), 'the command module was loaded (else this proves nothing)');
    for (const h of HEAVY) assert.equal(urls.find((u) => u.includes(`/node_modules/${h}`)), undefined, `${h} was loaded`);
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
