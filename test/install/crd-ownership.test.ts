import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../src/cluster/types.ts';
import { assertCrdsUpgradable, crdOwners } from '../../src/install/crd-ownership.ts';
import type { MeshError } from '../../src/errors.ts';
import { getJson, withCluster } from './kube-helpers.ts';

/** Upgrades and CRD ownership (issue 21 point 9). */

const crd = (name: string, meta: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name, ...meta }, spec: { versions: [{ name: 'v1alpha1' }] }, ...extra,
});

test('crdOwners names mesh, a Helm release, another tool, or nobody; and stored versions the new CRD drops', () => {
  const ours = { labels: { 'app.kubernetes.io/managed-by': 'mesh', 'app.kubernetes.io/part-of': 'mesh' } };
  const rendered = [...['a.mesh.dev', 'b.mesh.dev', 'c.mesh.dev', 'd.mesh.dev'].map((n) => crd(n, ours)), crd('httproutes.gateway.networking.k8s.io')];
  const live = [
    crd('a.mesh.dev', { labels: { 'app.kubernetes.io/managed-by': 'mesh', 'app.kubernetes.io/part-of': 'mesh' } }, { status: { storedVersions: ['v1alpha1', 'v1beta0'] } }),
    crd('b.mesh.dev', { labels: { 'app.kubernetes.io/managed-by': 'Helm' }, annotations: { 'meta.helm.sh/release-name': 'mesh-crds', 'meta.helm.sh/release-namespace': 'infra' } }),
    crd('c.mesh.dev', { managedFields: [{ manager: 'kustomize-controller' }] }),
  ];
  const owners = crdOwners(rendered, live);
  assert.deepEqual(owners.map((o) => [o.name, o.manager, o.detail, o.droppedStoredVersions]), [
    ['a.mesh.dev', 'mesh', 'mesh', ['v1beta0']],
    ['b.mesh.dev', 'helm', 'Helm release infra/mesh-crds', []],
    ['c.mesh.dev', 'other', 'kustomize-controller', []],
    ['d.mesh.dev', 'absent', '-', []],
  ]);
  assert.throws(() => assertCrdsUpgradable(owners, true), (e: MeshError) => e.exitCode === 1 && /a\.mesh\.dev: objects are still stored as v1beta0/.test(e.message));
  const rest = owners.slice(1);
  assert.throws(() => assertCrdsUpgradable(rest, false), (e: MeshError) => /b\.mesh\.dev \(Helm release infra\/mesh-crds\), c\.mesh\.dev \(kustomize-controller\)/.test(e.message) && /--take-over-crds/.test(e.hint ?? ''));
  assertCrdsUpgradable(rest, true);
});

test('mesh upgrade shows who manages each CRD, refuses a Helm-managed one without --take-over-crds, takes it over with it', async () => {
  await withCluster(async (c, mesh) => {
    assert.equal((await mesh(['install', '--yes'])).code, 0);
    const path = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/authorizationpolicies.mesh.dev';
    const live = await getJson(c, path);
    // Helm adopts it: its labels and annotations, as `helm install` leaves them.
    live.metadata.labels = { 'app.kubernetes.io/managed-by': 'Helm' };
    live.metadata.annotations = { ...live.metadata.annotations, 'meta.helm.sh/release-name': 'mesh-crds', 'meta.helm.sh/release-namespace': 'infra' };
    const put = await c.request('PUT', path, { body: JSON.stringify(live), headers: { 'Content-Type': 'application/json' } });
    assert.equal(put.status, 200, put.body);
    const start = c.server.requests.length;
    const refused = await mesh(['upgrade', '--yes']);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /CRD authorizationpolicies\.mesh\.dev: managed by Helm release infra\/mesh-crds/);
    assert.match(refused.stderr, /CRD mtlspolicies\.mesh\.dev: managed by mesh/);
    assert.match(refused.stderr, /refusing to overwrite CRDs mesh does not manage: authorizationpolicies\.mesh\.dev \(Helm release infra\/mesh-crds\)/);
    assert.deepEqual(c.server.requests.slice(start).filter((r) => r.method !== 'GET'), [], 'nothing written');
    const taken = await mesh(['upgrade', '--yes', '--take-over-crds']);
    assert.equal(taken.code, 0, taken.stderr);
    assert.equal((await getJson(c, path)).metadata.labels['app.kubernetes.io/managed-by'], 'mesh');
  });
});
