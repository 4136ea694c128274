import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMesh, ROOT } from '../support/cli.ts';

// Heavy modules the fast paths must never load (startup time is a feature).
const HEAVY = ['@kubernetes/client-node', '@grpc/', 'protobufjs', 'inquirer', 'prom-client', '@peculiar/x509'];

async function loadedModules(args: string[]): Promise<{ code: number; urls: string[] }> {
  const trace = join(mkdtempSync(join(tmpdir(), 'mesh-trace-')), 'trace.txt');
  const r = await runMesh(args, { env: { MESH_TRACE_FILE: trace }, nodeArgs: ['--import', join(ROOT, 'test/support/trace-imports.mjs')] });
  let urls: string[] = [];
  try {
    urls = readFileSync(trace, 'utf8').split('\n').filter(Boolean);
  } catch {
    /* nothing loaded */
  }
  return { code: r.code, urls };
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
