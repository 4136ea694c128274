import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadedAny, runMesh, runMeshInProcess, runMeshTraced } from '../support/cli.ts';


test('mesh route --help and mesh route canary --help load no Kubernetes or gRPC code', async () => {
  for (const args of [['route', '--help'], ['route', 'canary', '--help']]) {
    const r = await runMeshTraced(args);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.modules.some((u) => u.endsWith('/dist/commands/route.js')), 'the trace must see the route command load');
    assert.equal(loadedAny(r.modules), undefined, `${args.join(' ')} loaded a heavy module`);
  }
});

test('route flags are validated before any cluster is contacted (exit 2, flag named)', async () => {
  const table: [string[], RegExp][] = [
    [['route', 'canary', 'web', '--weight', '10'], /--canary is required/],
    [['route', 'canary', 'web', '--canary', 'web-v2', '--steps', '5,25,50,100', '--max-error-rate', 'lots'], /--max-error-rate "lots" is not a percentage/],
    [['route', 'canary', 'web', '--canary', 'web-v2', '--steps', '5,25', '--max-p99', '300'], /--max-p99 300: add a unit, e.g. 300s or 300m/],
    [['route', 'status', 'web', '--watch', '--watch-timeout', '5'], /--watch-timeout 5: add a unit, e.g. 5s or 5m/],
    [['route', 'set', 'web', 'web=50'], /weights add up to 50, not 100/],
    [['route', 'canary', 'web', '--canary', 'web-v2', '--weight', '10', '-o', 'xml'], /unknown output format "xml"/],
    [['route', 'status', 'Web'], /SERVICE "Web" is not a Service name/],
  ];
  // In-process (no process start) but for the first, which proves the exit code of bin/mesh.
  for (const [i, [args, msg]] of table.entries()) {
    const r = await (i === 0 ? runMesh : runMeshInProcess)(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, msg);
  }
});

test('without a cluster, route commands fail with exit 3 and a kubeconfig hint', async () => {
  const r = await runMesh(['route', 'show', 'web']);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /no kubeconfig found/);
});
