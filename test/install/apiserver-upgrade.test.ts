import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getJson, withCluster } from './kube-helpers.ts';

// End to end: the built CLI against the test API server, with a stand-in kubelet.

test('upgrade shows the diff, applies changed values, prunes, records the previous values; rollback returns', async () => {
  await withCluster(async (c, mesh) => {
    assert.equal((await mesh(['install', '--yes', '--profile', 'ha'])).code, 0);
    assert.ok(await getJson(c, '/apis/policy/v1/namespaces/mesh-system/poddisruptionbudgets/mesh-controller'));
    const up = await mesh(['upgrade', '--yes', '--set', 'controller.podDisruptionBudget=false', '--set', 'controller.replicas=2']);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /^- {2}replicas: 3$/m);
    assert.match(up.stdout, /^\+ {2}replicas: 2$/m);
    assert.match(up.stdout, /^PodDisruptionBudget\/mesh-system\/mesh-controller pruned$/m);
    assert.equal(await getJson(c, '/apis/policy/v1/namespaces/mesh-system/poddisruptionbudgets/mesh-controller'), undefined);
    assert.equal((await getJson(c, '/apis/apps/v1/namespaces/mesh-system/deployments/mesh-controller')).spec.replicas, 2);
    const prev = await getJson(c, '/api/v1/namespaces/mesh-system/configmaps/mesh-config-previous');
    assert.match(prev.data['values.yaml'], /replicas: 3/);

    const rb = await mesh(['upgrade', '--yes', '--rollback']);
    assert.equal(rb.code, 0, rb.stderr);
    assert.equal((await getJson(c, '/apis/apps/v1/namespaces/mesh-system/deployments/mesh-controller')).spec.replicas, 3);
    assert.ok(await getJson(c, '/apis/policy/v1/namespaces/mesh-system/poddisruptionbudgets/mesh-controller'), 'the PDB is back');
  });
});

test('upgrade refuses to downgrade from a newer installed version without --force', async () => {
  await withCluster(async (c, mesh) => {
    assert.equal((await mesh(['install', '--yes'])).code, 0);
    // Pretend a newer CLI installed it: the same apply, with a higher recorded version.
    const cm = await getJson(c, '/api/v1/namespaces/mesh-system/configmaps/mesh-config');
    const newer = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'mesh-config', namespace: 'mesh-system', labels: cm.metadata.labels }, data: { ...cm.data, version: '99.0.0' } };
    const r = await c.request('PATCH', '/api/v1/namespaces/mesh-system/configmaps/mesh-config?fieldManager=mesh', { body: JSON.stringify(newer), headers: { 'Content-Type': 'application/apply-patch+yaml' } });
    assert.equal(r.status, 200, r.body);
    const refused = await mesh(['upgrade', '--yes']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^error: refusing to downgrade mesh from 99\.0\.0 to \d+\.\d+\.\d+/m);
    assert.match(refused.stderr, /--force/);
    const forced = await mesh(['upgrade', '--yes', '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.notEqual((await getJson(c, '/api/v1/namespaces/mesh-system/configmaps/mesh-config')).data.version, '99.0.0', 'the new version is recorded');
  });
});

test('uninstall removes the webhook first and keeps CRDs and user policies; --purge removes them', async () => {
  await withCluster(async (c, mesh) => {
    assert.equal((await mesh(['install', '--yes'])).code, 0);
    const policy = { apiVersion: 'mesh.dev/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name: 'allow-web', namespace: 'default' }, spec: { action: 'ALLOW', rules: [{ from: [{ namespaces: ['web'] }] }] } };
    assert.equal((await c.request('POST', '/apis/mesh.dev/v1alpha1/namespaces/default/authorizationpolicies', { body: JSON.stringify(policy), headers: { 'Content-Type': 'application/json' } })).status, 201);
    const start = c.server.requests.length;
    const u = await mesh(['uninstall', '--yes']);
    assert.equal(u.code, 0, u.stderr);
    const deletes = c.server.requests.slice(start).filter((r) => r.method === 'DELETE');
    assert.equal(deletes[0]!.resource, 'mutatingwebhookconfigurations');
    assert.equal(await getJson(c, '/apis/apps/v1/namespaces/mesh-system/deployments/mesh-controller'), undefined);
    assert.ok(await getJson(c, '/apis/mesh.dev/v1alpha1/namespaces/default/authorizationpolicies/allow-web'), 'user policy kept');
    assert.match(u.stderr, /kept the mesh CRDs/);
    const p = await mesh(['uninstall', '--yes', '--purge']);
    assert.equal(p.code, 0, p.stderr);
    assert.equal(await getJson(c, '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/authorizationpolicies.mesh.dev'), undefined);
  });
});

test('an object owned by another field manager: exit 1 naming object and manager; --force-conflicts takes it over', async () => {
  await withCluster(async (c, mesh) => {
    assert.equal((await mesh(['install', '--yes'])).code, 0);
    const edit = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'mesh-controller', namespace: 'mesh-system' }, spec: { replicas: 5 } };
    const e = await c.request('PATCH', '/apis/apps/v1/namespaces/mesh-system/deployments/mesh-controller?fieldManager=kubectl-edit&force=true', { body: JSON.stringify(edit), headers: { 'Content-Type': 'application/apply-patch+yaml' } });
    assert.equal(e.status, 200, e.body);
    const drift = await mesh(['manifest', 'diff', '--cluster']);
    assert.equal(drift.code, 1);
    assert.match(drift.stdout, /^- {2}replicas: 5$/m);
    const r = await mesh(['install', '--yes']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^error: Deployment\/mesh-system\/mesh-controller has fields owned by another field manager \("kubectl-edit"\): \.spec\.replicas/m);
    assert.match(r.stderr, /--force-conflicts/);
    const forced = await mesh(['install', '--yes', '--force-conflicts']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal((await getJson(c, '/apis/apps/v1/namespaces/mesh-system/deployments/mesh-controller')).spec.replicas, 1);
  });
});
