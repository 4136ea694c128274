import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { runMesh } from '../support/cli.ts';

// GitOps: render routes in CI with no cluster (runMesh has no kubeconfig at all), from manifests on disk.
const tmp = mkdtempSync(join(tmpdir(), 'mesh-route-offline-'));
const services = join(tmp, 'services.yaml');
writeFileSync(services, ['web', 'web-v2'].map((n) => `apiVersion: v1\nkind: Service\nmetadata: {name: ${n}, namespace: shop}\nspec: {ports: [{port: 8080}]}\n`).join('---\n'));

type Route = { metadata: { name: string; namespace: string }; spec: { rules: { backendRefs: { name: string; port: number; weight: number }[] }[] } };
const weights = (r: Route) => Object.fromEntries(r.spec.rules.flatMap((rule) => rule.backendRefs).map((b) => [b.name, b.weight]));

test('route canary/set/promote/rollback --dry-run -f render the HTTPRoute with no cluster, each from the last one on disk', async () => {
  const canary = await runMesh(['route', 'canary', 'web', '--canary', 'web-v2', '--weight', '20', '-n', 'shop', '-f', services, '--dry-run', '-o', 'yaml']);
  assert.equal(canary.code, 0, canary.stderr);
  const created = parse(canary.stdout) as Route;
  assert.deepEqual(created.metadata, { ...created.metadata, name: 'web', namespace: 'shop' });
  assert.deepEqual(weights(created), { web: 80, 'web-v2': 20 });
  assert.equal(created.spec.rules[0]!.backendRefs[0]!.port, 8080, 'ports come from the Services in the files');
  const route = join(tmp, 'route.yaml');
  writeFileSync(route, canary.stdout);

  const set = await runMesh(['route', 'set', 'web', 'web=60', 'web-v2=40', '-n', 'shop', '-f', route, '--dry-run', '-o', 'json']);
  assert.equal(set.code, 0, set.stderr);
  assert.deepEqual(weights(JSON.parse(set.stdout) as Route), { web: 60, 'web-v2': 40 });

  const promote = await runMesh(['route', 'promote', 'web', '-n', 'shop', '-f', route, '--dry-run', '-o', 'yaml']);
  assert.equal(promote.code, 0, promote.stderr);
  assert.equal(weights(parse(promote.stdout) as Route)['web-v2'], 100);

  const rollback = await runMesh(['route', 'rollback', 'web', '-n', 'shop', '-f', route, '--dry-run', '-o', 'yaml']);
  assert.equal(rollback.code, 0, rollback.stderr);
  assert.equal(weights(parse(rollback.stdout) as Route).web, 100);
});

test('route -f without --dry-run is refused (exit 2): files cannot be written back', async () => {
  const r = await runMesh(['route', 'canary', 'web', '--canary', 'web-v2', '--weight', '20', '-n', 'shop', '-f', services]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /-f reads manifests instead of a cluster, so it needs --dry-run/);
  assert.equal(r.stdout, '');
});

test('route canary -f names a Service missing from the files', async () => {
  const r = await runMesh(['route', 'canary', 'web', '--canary', 'web-v3', '--weight', '20', '-n', 'shop', '-f', services, '--dry-run']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /canary Service shop\/web-v3 does not exist/);
});
