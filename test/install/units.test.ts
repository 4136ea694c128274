import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateManifestDiffOptions } from '../../src/commands/manifest.ts';
import { applyConflictError } from '../../src/cluster/live.ts';
import { describeAccess, parseMinor, requiredAccess } from '../../src/checks/install-access.ts';
import { rolledOut } from '../../src/install/apply.ts';
import { validateInstallOptions } from '../../src/install/install.ts';
import { validateUpgradeOptions } from '../../src/install/upgrade.ts';
import { UNINSTALL_ORDER } from '../../src/install/uninstall.ts';
import { diffObjects, projectLive, unifiedDiff } from '../../src/manifests/diff.ts';
import type { MeshError } from '../../src/errors.ts';

const usage = (fn: () => unknown, re: RegExp) =>
  assert.throws(fn, (e: MeshError) => {
    assert.equal(e.exitCode, 2);
    assert.match(e.message, re);
    return true;
  });

test('validateInstallOptions: defaults, timeouts and flag pairs', () => {
  const o = validateInstallOptions({}, 'table');
  assert.deepEqual([o.wait, o.timeoutMs, o.skipChecks, o.dryRun, o.forceConflicts], [true, 300_000, false, false, false]);
  assert.equal(validateInstallOptions({ wait: false, timeout: '1m30s' }, 'json').timeoutMs, 90_000);
  const bad: [Parameters<typeof validateInstallOptions>[0], RegExp][] = [
    [{ timeout: '5 minutes' }, /--timeout "5 minutes" is not a duration/],
    [{ timeout: '0s' }, /--timeout must be longer than zero/],
    [{ timeout: '300' }, /^--timeout 300: add a unit, e.g. 300s or 300m$/],
    [{ caCert: 'a.pem' }, /--ca-key is missing/],
    [{ caKey: 'a.pem' }, /--ca-cert is missing/],
  ];
  for (const [raw, re] of bad) usage(() => validateInstallOptions(raw, 'table'), re);
  assert.equal(validateInstallOptions({ timeout: '250ms' }, 'table').timeoutMs, 250);
});

test('validateUpgradeOptions and validateManifestDiffOptions', () => {
  usage(() => validateUpgradeOptions({ rollback: true, sets: ['a=b'], resetValues: false }), /--rollback takes no values flags/);
  assert.doesNotThrow(() => validateUpgradeOptions({ rollback: true, resetValues: false }));
  usage(() => validateManifestDiffOptions(['a'], true), /--cluster takes no files/);
  usage(() => validateManifestDiffOptions([], false), /needs two files \(got 0\)/);
  assert.doesNotThrow(() => validateManifestDiffOptions(['a', 'b'], false));
});

test('unifiedDiff: hunks with context, and nothing for equal input', () => {
  assert.deepEqual(unifiedDiff(['a', 'b'], ['a', 'b']), []);
  const a = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10'];
  const b = ['1', '2', '3', '4', 'five', '6', '7', '8', '9', '10', '11'];
  assert.deepEqual(unifiedDiff(a, b, 1), ['@@ -4,3 +4,3 @@', ' 4', '-5', '+five', ' 6', '@@ -10,1 +10,2 @@', ' 10', '+11']);
});

test('diffObjects matches objects by group/kind/namespace/name across API versions', () => {
  const o = (apiVersion: string, replicas: number) => ({ apiVersion, kind: 'Deployment', metadata: { name: 'x', namespace: 'n' }, spec: { replicas } });
  assert.deepEqual(diffObjects([o('apps/v1', 1)], [o('apps/v1', 1)]), []);
  const d = diffObjects([o('apps/v1', 1)], [o('apps/v1', 2)]);
  assert.equal(d.length, 1);
  assert.equal(d[0]!.change, 'changed');
  assert.ok(d[0]!.lines.includes('+  replicas: 2'));
  const moved = diffObjects([o('apps/v1', 1), { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' } }], [o('apps/v1', 1)]);
  assert.deepEqual(moved.map((x) => [x.ref, x.change]), [['Service/s', 'removed']]);
});

test('projectLive keeps only the fields a rendering sets', () => {
  const live = { metadata: { name: 'x', uid: 'u', labels: { a: '1' } }, spec: { replicas: 2, progressDeadlineSeconds: 600, template: { spec: { containers: [{ name: 'c', image: 'i', terminationMessagePath: '/dev' }] } } }, status: { ready: 1 } };
  const rendered = { metadata: { name: 'x', labels: { a: '1' } }, spec: { replicas: 1, template: { spec: { containers: [{ name: 'c', image: 'j' }] } } } };
  assert.deepEqual(projectLive(live, rendered), { metadata: { name: 'x', labels: { a: '1' } }, spec: { replicas: 2, template: { spec: { containers: [{ name: 'c', image: 'i' }] } } } });
});

test('pre-install: version parsing, and install needs create+patch on every kind it writes', () => {
  assert.equal(parseMinor('29+'), 29);
  assert.equal(parseMinor('x'), undefined);
  const access = requiredAccess('mesh-system');
  for (const verb of ['create', 'patch']) {
    for (const r of ['customresourcedefinitions', 'clusterroles', 'deployments', 'mutatingwebhookconfigurations', 'secrets']) assert.ok(access.some((a) => a.verb === verb && a.resource === r), `${verb} ${r}`);
  }
  assert.equal(describeAccess({ verb: 'create', group: 'apps', resource: 'deployments', namespace: 'ns' }), 'create deployments.apps in namespace ns');
});

test('applyConflictError names the object, the other manager and the fields', () => {
  const e = applyConflictError({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'mesh-controller', namespace: 'mesh-system' } }, 'Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1: .spec.replicas');
  assert.equal(e.exitCode, 1);
  assert.match(e.message, /^Deployment\/mesh-system\/mesh-controller has fields owned by another field manager \("kubectl-edit"\): \.spec\.replicas$/);
  assert.match(e.hint ?? '', /--force-conflicts/);
});

test('rolledOut needs the current generation observed and every replica updated and available', () => {
  const d = (status: object, replicas = 2, generation = 3) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x', generation }, spec: { replicas }, status });
  assert.equal(rolledOut(d({ observedGeneration: 3, replicas: 2, updatedReplicas: 2, availableReplicas: 2 })), true);
  assert.equal(rolledOut(d({ observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2 })), false);
  assert.equal(rolledOut(d({ observedGeneration: 3, replicas: 3, updatedReplicas: 2, availableReplicas: 2 })), false, 'old pods still there');
  assert.equal(rolledOut(d({ observedGeneration: 3, replicas: 2, updatedReplicas: 2, availableReplicas: 1 })), false);
});

test('uninstall order: webhook first, CRDs last', () => {
  assert.deepEqual(UNINSTALL_ORDER, ['webhook', 'workloads', 'config', 'rbac', 'namespace', 'crds']);
});

test('diffs never show Secret values, but do show that they changed', async () => {
  const { hideSecretData } = await import('../../src/install/manifest.ts');
  const s = (key: string) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'mesh-root-ca', namespace: 'mesh-system' }, data: { 'tls.key': Buffer.from(key).toString('base64') } });
  const d = diffObjects(hideSecretData([s('old-private-key')]), hideSecretData([s('new-private-key')]));
  assert.equal(d.length, 1);
  const text = d[0]!.lines.join('\n');
  assert.doesNotMatch(text, new RegExp(Buffer.from('old-private-key').toString('base64')));
  assert.match(text, /^- {2}tls\.key: <hidden, sha256:[0-9a-f]{12}>$/m);
  assert.deepEqual(diffObjects(hideSecretData([s('k')]), hideSecretData([s('k')])), []);
});
