import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HEAVY_MODULES as HEAVY, runMesh, runMeshTraced } from '../support/cli.ts';
import { startApiServer } from '../support/kube.ts';
import { HTTPROUTE_CRD, service } from '../route/support.ts';

/** By default the CLI runs even where bin/mesh could print a recorded answer (dist/cli-cache.json). */
async function loadedModules(args: string[], env: Record<string, string> = {}): Promise<{ code: number; urls: string[]; stdout: string }> {
  const r = await runMeshTraced(args, { env });
  return { code: r.code, urls: r.modules, stdout: r.stdout };
}

test('mesh --help and version --client to a pipe are printed from the build\'s recorded answers, byte for byte what the CLI prints, loading nothing', async () => {
  for (const args of [['--help'], ['version', '--client'], ['inject', '--help']]) {
    const fast = await loadedModules(args, { MESH_CLI_CACHE: 'on' });
    const full = await runMesh(args, { env: { MESH_CLI_CACHE: 'off' } });
    assert.equal(fast.code, full.code);
    assert.equal(fast.stdout, full.stdout, `mesh ${args.join(' ')}`);
    assert.ok(fast.stdout.length > 0);
    assert.equal(fast.urls.filter((u) => u.includes('/dist/')).length, 0, `mesh ${args.join(' ')} loaded ${fast.urls.filter((u) => u.includes('/dist/')).join(', ')}`);
  }
});

for (const args of [['--help'], ['version', '--client'], ['version', '--client', '-o', 'json']]) {
  test(`mesh ${args.join(' ')} loads no Kubernetes, gRPC, protobuf or prompt code`, async () => {
    const { code, urls } = await loadedModules(args);
    assert.equal(code, 0);
    assert.ok(urls.some((u) => u.endsWith('/dist/cli.js')), 'the trace must see the CLI load (else this test proves nothing)');
    for (const heavy of HEAVY) {
      const hit = urls.find((u) => u.includes(`/node_modules/${heavy}`));
      assert.equal(hit, undefined, `${heavy} was loaded: ${hit}`);
    }
    assert.equal(urls.find((u) => u.endsWith('/dist/cluster/kubeconfig-lib.js')), undefined, 'the bundled Kubernetes client was loaded');
  });
}

test('mesh version (with a cluster asked for) does load the Kubernetes client: the trace can see it', async () => {
  const { urls } = await loadedModules(['version']);
  // Built, the client is client-node's KubeConfig bundled alone (scripts/build-kubeconfig.mjs).
  assert.ok(urls.some((u) => u.endsWith('/dist/cluster/kubeconfig-lib.js')));
});

test('mesh route canary against an API server loads client-node\'s KubeConfig bundled alone, not the package (about 1,900 modules)', async () => {
  const kube = await startApiServer({ seed: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } }, HTTPROUTE_CRD, service('web'), service('web-v2')] as unknown as Record<string, unknown>[] });
  try {
    const r = await runMeshTraced(['--kubeconfig', kube.kubeconfigPath, '-n', 'shop', 'route', 'canary', 'web', '--canary', 'web-v2', '--weight', '10']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /httproute\/web created in shop: web 90%, web-v2 10%/);
    assert.ok(r.modules.some((u) => u.endsWith('/dist/cluster/kubeconfig-lib.js')), 'the trace must see the client load');
    const pkg = r.modules.filter((u) => u.includes('/node_modules/@kubernetes/client-node/'));
    assert.equal(pkg.length, 0, `loaded ${pkg.length} modules of the package (e.g. ${pkg[0]}); a bare tsc leaves dist/cluster/kubeconfig-lib.js unbundled: run npm run build`);
  } finally {
    await kube.stop();
  }
});

test('mesh inject of plain manifests loads neither the yaml package nor semver (about 50 ms of its start); --values does load yaml', async () => {
  const deploy = 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: nginx}]\n';
  const lean = await runMeshTraced(['inject', '-q', '-f', '-', '--kube-version', '1.30'], { input: deploy });
  assert.equal(lean.code, 0, lean.stderr);
  assert.match(lean.stdout, /name: mesh-proxy/);
  assert.ok(lean.modules.some((u) => u.includes('/node_modules/js-yaml/')), 'the trace must see the YAML parser load');
  for (const pkg of ['yaml', 'semver']) assert.equal(lean.modules.find((u) => u.includes(`/node_modules/${pkg}/`)), undefined, `${pkg} was loaded`);
  // A values file is read with the yaml package, through require: the trace sees that too.
  const dir = mkdtempSync(join(tmpdir(), 'mesh-lazy-'));
  writeFileSync(join(dir, 'values.yaml'), 'proxy: {logLevel: debug}\n');
  const withValues = await runMeshTraced(['inject', '-q', '-f', '-', '--kube-version', '1.30', '--values', join(dir, 'values.yaml')], { input: deploy });
  assert.equal(withValues.code, 0, withValues.stderr);
  assert.ok(withValues.modules.some((u) => u.includes('/node_modules/yaml/')), 'yaml not seen: the trace misses require()');
});
