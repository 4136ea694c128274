import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMesh, ROOT } from '../support/cli.ts';

const HEAVY = ['@kubernetes/client-node', '@grpc/', 'protobufjs', 'inquirer', 'prom-client', '@peculiar/x509'];

async function loaded(args: string[]): Promise<{ code: number; urls: string[] }> {
  const trace = join(mkdtempSync(join(tmpdir(), 'mesh-trace-')), 'trace.txt');
  const r = await runMesh(args, { env: { MESH_TRACE_FILE: trace }, nodeArgs: ['--import', join(ROOT, 'test/support/trace-imports.mjs')] });
  let urls: string[] = [];
  try {
    urls = readFileSync(trace, 'utf8').split('\n').filter(Boolean);
  } catch {
    /* nothing traced */
  }
  return { code: r.code, urls };
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
