import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMesh, ROOT } from '../support/cli.ts';

const HEAVY = ['@kubernetes/client-node', '@grpc/', 'protobufjs', 'inquirer', 'prom-client'];

test('mesh route --help and mesh route canary --help load no Kubernetes or gRPC code', async () => {
  for (const args of [['route', '--help'], ['route', 'canary', '--help']]) {
    const trace = join(mkdtempSync(join(tmpdir(), 'mesh-trace-')), 'trace.txt');
    const r = await runMesh(args, { env: { MESH_TRACE_FILE: trace }, nodeArgs: ['--import', join(ROOT, 'test/support/trace-imports.mjs')] });
    assert.equal(r.code, 0, r.stderr);
    const urls = readFileSync(trace, 'utf8').split('\n').filter(Boolean);
    assert.ok(urls.some((u) => u.endsWith('/dist/commands/route.js')), 'the trace must see the route command load');
    for (const heavy of HEAVY) assert.equal(urls.find((u) => u.includes(`/node_modules/${heavy}`)), undefined, `${args.join(' ')} loaded ${heavy}`);
  }
});

test('route flags are validated before any cluster is contacted (exit 2, flag named)', async () => {
  const table: [string[], RegExp][] = [
    [['route', 'canary', 'web', '--weight', '10'], /--canary is required/],
    [['route', 'canary', 'web', '--canary', 'web-v2', '--steps', '5,25,50,100', '--max-error-rate', 'lots'], /--max-error-rate "lots" is not a percentage/],
    [['route', 'canary', 'web', '--canary', 'web-v2', '--steps', '5,25', '--max-p99', '300'], /--max-p99 "300" is not a duration/],
    [['route', 'set', 'web', 'web=50'], /weights add up to 50, not 100/],
    [['route', 'canary', 'web', '--canary', 'web-v2', '--weight', '10', '-o', 'xml'], /unknown output format "xml"/],
    [['route', 'status', 'Web'], /SERVICE "Web" is not a Service name/],
  ];
  for (const [args, msg] of table) {
    const r = await runMesh(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, msg);
  }
});

test('without a cluster, route commands fail with exit 3 and a kubeconfig hint', async () => {
  const r = await runMesh(['route', 'show', 'web']);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /no kubeconfig found/);
});
