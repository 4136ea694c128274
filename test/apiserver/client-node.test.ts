// The test API server driven by the real @kubernetes/client-node: CRUD, selectors, paging,
// watch and informers, server-side apply, patches, errors in the Status shape, reviews.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { startApiServer, type TestCluster } from '../support/kube.ts';

let c: TestCluster;
let kc: k8s.KubeConfig;
let core: k8s.CoreV1Api;
let apps: k8s.AppsV1Api;
let objects: k8s.KubernetesObjectApi;

before(async () => {
  c = await startApiServer();
  kc = new k8s.KubeConfig();
  kc.loadFromFile(c.kubeconfigPath);
  core = kc.makeApiClient(k8s.CoreV1Api);
  apps = kc.makeApiClient(k8s.AppsV1Api);
  objects = k8s.KubernetesObjectApi.makeApiClient(kc);
});
after(() => c.stop());

/** The Status body of a failed client-node call. */
async function statusOf(p: Promise<unknown>): Promise<{ code: number; reason: string; message: string; details?: any; kind: string; status: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as { code?: number; body?: unknown };
    assert.equal(typeof e.code, 'number', `expected an ApiException, got ${String(err)}`);
    const body = typeof e.body === 'string' ? JSON.parse(e.body) : e.body;
    assert.equal(body.code, e.code, 'Status.code equals the HTTP code');
    return body;
  }
  assert.fail('expected the call to fail');
}

const cm = (name: string, labels: Record<string, string> = {}, data: Record<string, string> = {}) => ({ metadata: { name, labels }, data });

describe('CRUD and lists', { timeout: 30_000 }, () => {
  test('create, get, list and delete a ConfigMap; uid, creationTimestamp and resourceVersion are set', { timeout: 20_000 }, async () => {
    const created = await core.createNamespacedConfigMap({ namespace: 'default', body: cm('one', { app: 'a' }, { k: 'v' }) });
    assert.match(created.metadata!.uid!, /^[0-9a-f-]{36}$/);
    assert.ok(created.metadata!.creationTimestamp instanceof Date);
    assert.ok(Number(created.metadata!.resourceVersion) > 0);
    const got = await core.readNamespacedConfigMap({ name: 'one', namespace: 'default' });
    assert.deepEqual(got.data, { k: 'v' });
    const list = await core.listNamespacedConfigMap({ namespace: 'default' });
    assert.ok(list.items.some((i) => i.metadata?.name === 'one'));
    assert.ok(Number(list.metadata!.resourceVersion) >= Number(created.metadata!.resourceVersion));
    await core.deleteNamespacedConfigMap({ name: 'one', namespace: 'default' });
    const s = await statusOf(core.readNamespacedConfigMap({ name: 'one', namespace: 'default' }));
    assert.equal(s.reason, 'NotFound');
  });

  test('label selectors: =, ==, !=, in, notin, exists, !exists', { timeout: 20_000 }, async () => {
    await core.createNamespace({ body: { metadata: { name: 'sel' } } });
    await core.createNamespacedConfigMap({ namespace: 'sel', body: cm('a', { tier: 'web', env: 'prod' }) });
    await core.createNamespacedConfigMap({ namespace: 'sel', body: cm('b', { tier: 'db', env: 'dev' }) });
    await core.createNamespacedConfigMap({ namespace: 'sel', body: cm('c', { tier: 'web' }) });
    const names = async (labelSelector: string) => (await core.listNamespacedConfigMap({ namespace: 'sel', labelSelector })).items.map((i) => i.metadata!.name).sort();
    assert.deepEqual(await names('tier=web'), ['a', 'c']);
    assert.deepEqual(await names('tier==web,env=prod'), ['a']);
    assert.deepEqual(await names('tier!=web'), ['b']);
    assert.deepEqual(await names('env in (dev, prod)'), ['a', 'b']);
    assert.deepEqual(await names('env notin (prod)'), ['b', 'c']);
    assert.deepEqual(await names('env'), ['a', 'b']);
    assert.deepEqual(await names('!env'), ['c']);
    const bad = await statusOf(core.listNamespacedConfigMap({ namespace: 'sel', labelSelector: 'a in (b' }));
    assert.equal(bad.code, 400);
  });

  test('field selectors on metadata.name, metadata.namespace and spec/status fields', { timeout: 20_000 }, async () => {
    const names = async (fieldSelector: string) => (await core.listConfigMapForAllNamespaces({ fieldSelector })).items.map((i) => `${i.metadata!.namespace}/${i.metadata!.name}`).sort();
    assert.deepEqual(await names('metadata.name=b'), ['sel/b']);
    assert.deepEqual(await names('metadata.namespace=sel,metadata.name!=a'), ['sel/b', 'sel/c']);
    await core.createNamespacedPod({ namespace: 'sel', body: { metadata: { name: 'p1' }, spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'x' }] } } });
    await core.createNamespacedPod({ namespace: 'sel', body: { metadata: { name: 'p2' }, spec: { containers: [{ name: 'c', image: 'x' }] } } });
    const pods = await core.listNamespacedPod({ namespace: 'sel', fieldSelector: 'spec.nodeName=node-1' });
    assert.deepEqual(pods.items.map((p) => p.metadata!.name), ['p1']);
    const pending = await core.listNamespacedPod({ namespace: 'sel', fieldSelector: 'status.phase=Pending' });
    assert.equal(pending.items.length, 2, 'new pods are Pending');
  });

  test('limit and continue page through a list', { timeout: 20_000 }, async () => {
    await core.createNamespace({ body: { metadata: { name: 'paging' } } });
    for (let i = 0; i < 5; i++) await core.createNamespacedConfigMap({ namespace: 'paging', body: cm(`cm-${i}`) });
    const seen: string[] = [];
    let cont: string | undefined;
    let pages = 0;
    do {
      const page = await core.listNamespacedConfigMap({ namespace: 'paging', limit: 2, _continue: cont });
      seen.push(...page.items.map((i) => i.metadata!.name!));
      cont = page.metadata?._continue;
      if (cont) assert.equal(page.metadata!.remainingItemCount, 5 - seen.length);
      pages++;
    } while (cont);
    assert.equal(pages, 3);
    assert.deepEqual(seen, ['cm-0', 'cm-1', 'cm-2', 'cm-3', 'cm-4']);
  });

  test('deletecollection deletes what the selector matches', { timeout: 20_000 }, async () => {
    await core.createNamespace({ body: { metadata: { name: 'dc' } } });
    await core.createNamespacedConfigMap({ namespace: 'dc', body: cm('x1', { del: 'yes' }) });
    await core.createNamespacedConfigMap({ namespace: 'dc', body: cm('x2', { del: 'yes' }) });
    await core.createNamespacedConfigMap({ namespace: 'dc', body: cm('keep') });
    await core.deleteCollectionNamespacedConfigMap({ namespace: 'dc', labelSelector: 'del=yes' });
    const left = await core.listNamespacedConfigMap({ namespace: 'dc' });
    assert.deepEqual(left.items.map((i) => i.metadata!.name), ['keep']);
  });

  test('deleting a namespace deletes its objects, and the namespace goes Terminating first', { timeout: 20_000 }, async () => {
    await core.createNamespace({ body: { metadata: { name: 'doomed' } } });
    await core.createNamespacedConfigMap({ namespace: 'doomed', body: cm('inside') });
    const ns = await core.deleteNamespace({ name: 'doomed' });
    assert.equal((ns as k8s.V1Namespace).status?.phase, 'Terminating');
    await c.server.until(() => !c.server.store.get({ group: '', resource: 'namespaces' }, undefined, 'doomed'), undefined, 'namespace doomed to be removed');
    assert.equal((await statusOf(core.readNamespace({ name: 'doomed' }))).code, 404);
    const s = await statusOf(core.readNamespacedConfigMap({ name: 'inside', namespace: 'doomed' }));
    assert.equal(s.code, 404);
  });

  test('deleting a Deployment garbage-collects what it owns; Orphan keeps it', { timeout: 20_000 }, async () => {
    const d = await apps.createNamespacedDeployment({ namespace: 'default', body: deployment('gc') });
    const owned = { metadata: { name: 'gc-rs', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'gc', uid: d.metadata!.uid!, controller: true }] }, spec: { selector: { matchLabels: { app: 'gc' } }, template: d.spec!.template } };
    await apps.createNamespacedReplicaSet({ namespace: 'default', body: owned });
    await apps.deleteNamespacedDeployment({ name: 'gc', namespace: 'default' });
    assert.equal((await statusOf(apps.readNamespacedReplicaSet({ name: 'gc-rs', namespace: 'default' }))).code, 404);

    const d2 = await apps.createNamespacedDeployment({ namespace: 'default', body: deployment('orphan') });
    await apps.createNamespacedReplicaSet({ namespace: 'default', body: { ...owned, metadata: { name: 'orphan-rs', ownerReferences: [{ ...owned.metadata.ownerReferences[0]!, name: 'orphan', uid: d2.metadata!.uid! }] } } });
    await apps.deleteNamespacedDeployment({ name: 'orphan', namespace: 'default', propagationPolicy: 'Orphan' });
    const rs = await apps.readNamespacedReplicaSet({ name: 'orphan-rs', namespace: 'default' });
    assert.deepEqual(rs.metadata!.ownerReferences, []);
  });

  test('generation is bumped on spec changes only; status subresource is separate', { timeout: 20_000 }, async () => {
    const d = await apps.createNamespacedDeployment({ namespace: 'default', body: { ...deployment('gen'), status: { replicas: 9 } } });
    assert.equal(d.metadata!.generation, 1);
    assert.equal(d.status?.replicas, undefined, 'status is dropped on create');
    assert.equal(d.spec!.strategy!.type, 'RollingUpdate', 'scheme defaults are filled in');
    assert.equal(d.spec!.template.spec!.containers[0]!.imagePullPolicy, 'IfNotPresent');
    assert.equal(d.spec!.template.spec!.containers[0]!.ports![0]!.protocol, 'TCP');
    const labelled = await apps.patchNamespacedDeployment({ name: 'gen', namespace: 'default', body: { metadata: { labels: { x: 'y' } } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    assert.equal(labelled.metadata!.generation, 1);
    const scaled = await apps.patchNamespacedDeployment({ name: 'gen', namespace: 'default', body: { spec: { replicas: 3 } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    assert.equal(scaled.metadata!.generation, 2);
    const st = await apps.replaceNamespacedDeploymentStatus({ name: 'gen', namespace: 'default', body: { ...scaled, status: { replicas: 3, readyReplicas: 3, observedGeneration: 2 } } });
    assert.equal(st.status!.readyReplicas, 3);
    assert.equal(st.metadata!.generation, 2);
    const ignored = await apps.replaceNamespacedDeployment({ name: 'gen', namespace: 'default', body: { ...st, status: { replicas: 0 } } });
    assert.equal(ignored.status!.readyReplicas, 3, 'a PUT on the main resource keeps status');
  });

  test('Services get a cluster IP; dryRun=All stores nothing', { timeout: 20_000 }, async () => {
    const svc = await core.createNamespacedService({ namespace: 'default', body: { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } } });
    assert.match(svc.spec!.clusterIP!, /^10\.96\.\d+\.\d+$/);
    assert.equal(svc.spec!.ports![0]!.protocol, 'TCP');
    const dry = await core.createNamespacedConfigMap({ namespace: 'default', body: cm('dry'), dryRun: 'All' });
    assert.equal(dry.metadata!.name, 'dry');
    assert.equal((await statusOf(core.readNamespacedConfigMap({ name: 'dry', namespace: 'default' }))).code, 404);
  });
});

describe('errors in the Status shape', { timeout: 30_000 }, () => {
  test('NotFound 404', { timeout: 20_000 }, async () => {
    const s = await statusOf(apps.readNamespacedDeployment({ name: 'nope', namespace: 'default' }));
    assert.deepEqual(s, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'deployments.apps "nope" not found', reason: 'NotFound', details: { name: 'nope', group: 'apps', kind: 'deployments' }, code: 404 });
  });

  test('AlreadyExists 409', { timeout: 20_000 }, async () => {
    await core.createNamespacedConfigMap({ namespace: 'default', body: cm('dup') });
    const s = await statusOf(core.createNamespacedConfigMap({ namespace: 'default', body: cm('dup') }));
    assert.equal(s.code, 409);
    assert.equal(s.reason, 'AlreadyExists');
    assert.equal(s.message, 'configmaps "dup" already exists');
  });

  test('Conflict 409 on a stale resourceVersion', { timeout: 20_000 }, async () => {
    const v1 = await core.createNamespacedConfigMap({ namespace: 'default', body: cm('rv', {}, { n: '1' }) });
    await core.replaceNamespacedConfigMap({ name: 'rv', namespace: 'default', body: { ...v1, data: { n: '2' } } });
    const s = await statusOf(core.replaceNamespacedConfigMap({ name: 'rv', namespace: 'default', body: { ...v1, data: { n: '3' } } }));
    assert.equal(s.code, 409);
    assert.equal(s.reason, 'Conflict');
    assert.equal(s.message, 'Operation cannot be fulfilled on configmaps "rv": the object has been modified; please apply your changes to the latest version and try again');
  });

  test('Invalid 422 for a missing or malformed name', { timeout: 20_000 }, async () => {
    const missing = await statusOf(core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: {} } as any }));
    assert.equal(missing.code, 422);
    assert.equal(missing.reason, 'Invalid');
    assert.equal(missing.message, 'ConfigMap "" is invalid: metadata.name: Required value: name or generateName is required');
    const bad = await statusOf(core.createNamespacedConfigMap({ namespace: 'default', body: cm('Bad_Name') }));
    assert.equal(bad.code, 422);
    assert.match(bad.message, /^ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/);
    assert.deepEqual(bad.details.causes.map((x: any) => x.field), ['metadata.name']);
  });

  test('creating in a missing namespace is NotFound for the namespace', { timeout: 20_000 }, async () => {
    const s = await statusOf(core.createNamespacedConfigMap({ namespace: 'ghost', body: cm('x') }));
    assert.equal(s.code, 404);
    assert.equal(s.message, 'namespaces "ghost" not found');
  });

  test('Forbidden 403 with the RBAC message; Unauthorized 401 for an unknown token', { timeout: 20_000 }, async () => {
    const token = c.server.addUser('jane', [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['configmaps'], namespaces: ['default'] }]);
    const jkc = new k8s.KubeConfig();
    jkc.loadFromFile(c.kubeconfigFor(token));
    const jcore = jkc.makeApiClient(k8s.CoreV1Api);
    await jcore.listNamespacedConfigMap({ namespace: 'default' });
    const s = await statusOf(jcore.listNamespacedPod({ namespace: 'kube-system' }));
    assert.equal(s.code, 403);
    assert.equal(s.reason, 'Forbidden');
    assert.equal(s.message, 'pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace "kube-system"');
    const named = await statusOf(jcore.deleteNamespacedConfigMap({ name: 'dup', namespace: 'default' }));
    assert.equal(named.message, 'configmaps "dup" is forbidden: User "jane" cannot delete resource "configmaps" in API group "" in the namespace "default"');
    const cluster = await statusOf(jkc.makeApiClient(k8s.CoreV1Api).listNamespace());
    assert.equal(cluster.message, 'namespaces is forbidden: User "jane" cannot list resource "namespaces" in API group "" at the cluster scope');

    const bkc = new k8s.KubeConfig();
    bkc.loadFromFile(c.kubeconfigFor('not-a-token'));
    await assert.rejects(bkc.makeApiClient(k8s.CoreV1Api).listNamespace(), (e: any) => e.code === 401);
    // client-node drops the body of a 401, so the Status is read raw.
    const u = await c.request('GET', '/api/v1/namespaces', { token: 'not-a-token' });
    assert.equal(u.status, 401);
    assert.deepEqual(u.json, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
  });
});

describe('patches and server-side apply', { timeout: 30_000 }, () => {
  const merge = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
  const smp = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch);
  const jsonp = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch);

  test('strategic merge patch merges containers by name; merge patch replaces the list', { timeout: 20_000 }, async () => {
    const body = deployment('smp');
    body.spec.template.spec.containers.push({ name: 'sidecar', image: 'envoy:1' } as any);
    await apps.createNamespacedDeployment({ namespace: 'default', body });
    const p = await apps.patchNamespacedDeployment({ name: 'smp', namespace: 'default', body: { spec: { template: { spec: { containers: [{ name: 'sidecar', image: 'envoy:2' }] } } } } }, smp);
    assert.deepEqual(p.spec!.template.spec!.containers.map((x) => `${x.name}=${x.image}`), ['app=nginx:1', 'sidecar=envoy:2']);
    const del = await apps.patchNamespacedDeployment({ name: 'smp', namespace: 'default', body: { spec: { template: { spec: { containers: [{ name: 'sidecar', $patch: 'delete' }] } } } } }, smp);
    assert.deepEqual(del.spec!.template.spec!.containers.map((x) => x.name), ['app']);
    const m = await apps.patchNamespacedDeployment({ name: 'smp', namespace: 'default', body: { spec: { template: { spec: { containers: [{ name: 'only', image: 'x' }] } } } } }, merge);
    assert.deepEqual(m.spec!.template.spec!.containers.map((x) => x.name), ['only']);
  });

  test('JSON patch add/replace/remove and a failing test op', { timeout: 20_000 }, async () => {
    await core.createNamespacedConfigMap({ namespace: 'default', body: cm('jp', {}, { a: '1' }) });
    const p = await core.patchNamespacedConfigMap({ name: 'jp', namespace: 'default', body: [{ op: 'add', path: '/data/b', value: '2' }, { op: 'replace', path: '/data/a', value: '9' }, { op: 'remove', path: '/data/b' }] }, jsonp);
    assert.deepEqual(p.data, { a: '9' });
    const s = await statusOf(core.patchNamespacedConfigMap({ name: 'jp', namespace: 'default', body: [{ op: 'test', path: '/data/a', value: 'nope' }] }, jsonp));
    assert.equal(s.code, 422);
  });

  test('server-side apply creates, records managedFields, conflicts with another manager, and force takes over', { timeout: 20_000 }, async () => {
    const cfg = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ssa', namespace: 'default' }, data: { owner: 'mesh', shared: 'x' } };
    const created: any = await objects.patch(cfg, undefined, undefined, 'mesh', undefined, k8s.PatchStrategy.ServerSideApply);
    assert.deepEqual(created.data, cfg.data);
    const mf = created.metadata!.managedFields!;
    assert.equal(mf.length, 1);
    assert.equal(mf[0]!.manager, 'mesh');
    assert.equal(mf[0]!.operation, 'Apply');
    assert.deepEqual(mf[0]!.fieldsV1, { 'f:data': { 'f:owner': {}, 'f:shared': {} } });

    // Re-applying the same configuration is a no-op: same resourceVersion, managedFields untouched.
    const again0: any = await objects.patch(cfg, undefined, undefined, 'mesh', undefined, k8s.PatchStrategy.ServerSideApply);
    assert.equal(again0.metadata.resourceVersion, created.metadata.resourceVersion);
    assert.deepEqual(again0.metadata.managedFields, created.metadata.managedFields);
    const put = await core.replaceNamespacedConfigMap({ name: 'ssa', namespace: 'default', body: again0 });
    assert.equal(put.metadata!.resourceVersion, created.metadata.resourceVersion, 'an unchanged PUT is a no-op too');

    // Same value from another manager: shared ownership, no conflict.
    await objects.patch({ ...cfg, data: { shared: 'x' } }, undefined, undefined, 'other', undefined, k8s.PatchStrategy.ServerSideApply);
    const s = await statusOf(objects.patch({ ...cfg, data: { owner: 'someone-else' } }, undefined, undefined, 'other', undefined, k8s.PatchStrategy.ServerSideApply));
    assert.equal(s.code, 409);
    assert.equal(s.reason, 'Conflict');
    assert.equal(s.message, 'Apply failed with 1 conflict: conflict with "mesh": .data.owner');
    assert.deepEqual(s.details, { causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "mesh"', field: '.data.owner' }] });

    const forced: any = await objects.patch({ ...cfg, data: { owner: 'someone-else' } }, undefined, undefined, 'other', true, k8s.PatchStrategy.ServerSideApply);
    assert.equal(forced.data!.owner, 'someone-else');
    assert.equal(forced.data!.shared, 'x', 'fields other managers own stay');

    // "mesh" stops applying data.shared; "other" dropped it too -> removed. mesh no longer owns owner.
    const again: any = await objects.patch({ ...cfg, data: {} }, undefined, undefined, 'other', true, k8s.PatchStrategy.ServerSideApply);
    assert.deepEqual(again.data, { shared: 'x' }, 'mesh still owns shared');
  });

  test('apply conflicts with an Update manager name the manager, API version and time', { timeout: 20_000 }, async () => {
    await apps.createNamespacedDeployment({ namespace: 'default', body: deployment('ssa-dep'), fieldManager: 'installer' });
    const cfg = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'ssa-dep', namespace: 'default' }, spec: { replicas: 5 } };
    const s = await statusOf(objects.patch(cfg, undefined, undefined, 'mesh', undefined, k8s.PatchStrategy.ServerSideApply));
    assert.match(s.message, /^Apply failed with 1 conflict: conflict with "installer" using apps\/v1 at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ: \.spec\.replicas$/);
    const cfg2 = { ...cfg, spec: { template: { spec: { containers: [{ name: 'app', image: 'nginx:2' }] } } } };
    const s2 = await statusOf(objects.patch(cfg2, undefined, undefined, 'mesh', undefined, k8s.PatchStrategy.ServerSideApply));
    assert.equal(s2.details.causes[0].field, '.spec.template.spec.containers[name="app"].image');
    const ok = await objects.patch(cfg2, undefined, undefined, 'mesh', true, k8s.PatchStrategy.ServerSideApply);
    assert.equal((ok as any).spec.template.spec.containers[0].image, 'nginx:2');
    assert.equal((ok as any).spec.template.spec.containers[0].ports[0].containerPort, 80, 'list items merge by key');
  });
});

describe('watch and informers', { timeout: 30_000 }, () => {
  test('a watch from a resourceVersion sees ADDED, MODIFIED and DELETED in order', { timeout: 20_000 }, async () => {
    await core.createNamespace({ body: { metadata: { name: 'w' } } });
    const list = await core.listNamespacedConfigMap({ namespace: 'w' });
    const events: string[] = [];
    const gotDelete = deferred();
    const ctl = await new k8s.Watch(kc).watch('/api/v1/namespaces/w/configmaps', { resourceVersion: list.metadata!.resourceVersion }, (type, obj) => {
      events.push(`${type} ${obj.metadata.name} ${JSON.stringify(obj.data ?? {})}`);
      if (type === 'DELETED') gotDelete.resolve();
    }, () => undefined);
    await core.createNamespacedConfigMap({ namespace: 'w', body: cm('a', {}, { v: '1' }) });
    await core.patchNamespacedConfigMap({ name: 'a', namespace: 'w', body: { data: { v: '2' } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    await core.deleteNamespacedConfigMap({ name: 'a', namespace: 'w' });
    await gotDelete.promise;
    ctl.abort();
    assert.deepEqual(events, ['ADDED a {"v":"1"}', 'MODIFIED a {"v":"2"}', 'DELETED a {"v":"2"}']);
  });

  test('a watch with a label selector turns label changes into ADDED/DELETED', { timeout: 20_000 }, async () => {
    const list = await core.listNamespacedConfigMap({ namespace: 'w' });
    const events: string[] = [];
    const done = deferred();
    const ctl = await new k8s.Watch(kc).watch('/api/v1/namespaces/w/configmaps', { resourceVersion: list.metadata!.resourceVersion, labelSelector: 'pick=yes' }, (type, obj) => {
      events.push(`${type} ${obj.metadata.name}`);
      if (events.length === 2) done.resolve();
    }, () => undefined);
    await core.createNamespacedConfigMap({ namespace: 'w', body: cm('lab') });
    await core.patchNamespacedConfigMap({ name: 'lab', namespace: 'w', body: { metadata: { labels: { pick: 'yes' } } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    await core.patchNamespacedConfigMap({ name: 'lab', namespace: 'w', body: { metadata: { labels: { pick: 'no' } } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    await done.promise;
    ctl.abort();
    assert.deepEqual(events, ['ADDED lab', 'DELETED lab']);
  });

  test('a watch from a compacted resourceVersion gets an ERROR event with 410 Expired', { timeout: 20_000 }, async () => {
    c.server.store.compact();
    await core.createNamespacedConfigMap({ namespace: 'w', body: cm('after-compaction') });
    const got = deferred<any>();
    await new k8s.Watch(kc).watch('/api/v1/namespaces/w/configmaps', { resourceVersion: '1' }, (type, obj) => {
      if (type === 'ERROR') got.resolve(obj);
    }, () => undefined);
    const status = await got.promise;
    assert.equal(status.code, 410);
    assert.equal(status.reason, 'Expired');
    assert.match(status.message, /^too old resource version: 1 \(\d+\)$/);
  });

  test('bookmarks arrive when allowed', { timeout: 20_000 }, async () => {
    c.server.bookmarkIntervalMs = 20;
    const got = deferred<any>();
    const ctl = await new k8s.Watch(kc).watch('/api/v1/namespaces/w/configmaps', { allowWatchBookmarks: true, resourceVersion: String(c.server.store.resourceVersion) }, (type, obj) => {
      if (type === 'BOOKMARK') got.resolve(obj);
    }, () => undefined);
    const b = await got.promise;
    ctl.abort();
    c.server.bookmarkIntervalMs = 1000;
    assert.equal(b.kind, 'ConfigMap');
    assert.ok(Number(b.metadata.resourceVersion) > 0);
  });

  test('an informer lists, watches, and recovers from dropped watches and a server restart', { timeout: 20_000 }, async () => {
    await core.createNamespace({ body: { metadata: { name: 'inf' } } });
    await core.createNamespacedConfigMap({ namespace: 'inf', body: cm('pre') });
    const inf = k8s.makeInformer(kc, '/api/v1/namespaces/inf/configmaps', () => core.listNamespacedConfigMap({ namespace: 'inf' }));
    const added = new Map<string, () => void>();
    const waitAdd = (name: string) => new Promise<void>((r) => added.set(name, r));
    const deletedP = new Map<string, () => void>();
    inf.on('add', (o) => added.get(o.metadata!.name!)?.());
    inf.on('delete', (o) => deletedP.get(o.metadata!.name!)?.());
    // client-node informers stop on a connection error; restarting them is the caller's job.
    let stopped = false;
    inf.on('error', () => setTimeout(() => stopped || void inf.start().catch(() => undefined), 50));
    const pre = waitAdd('pre');
    await inf.start();
    await pre;

    const a = waitAdd('a');
    await core.createNamespacedConfigMap({ namespace: 'inf', body: cm('a') });
    await a;

    assert.ok(c.server.dropWatches() >= 1);
    const b = waitAdd('b');
    await core.createNamespacedConfigMap({ namespace: 'inf', body: cm('b') });
    await b;

    await c.server.restart();
    const d = waitAdd('d');
    await core.createNamespacedConfigMap({ namespace: 'inf', body: cm('d') });
    await d;
    const gone = new Promise<void>((r) => deletedP.set('a', r));
    await core.deleteNamespacedConfigMap({ name: 'a', namespace: 'inf' });
    await gone;
    assert.deepEqual(inf.list().map((o) => o.metadata!.name).sort(), ['b', 'd', 'pre']);
    stopped = true;
    await inf.stop();
  });
});

describe('reviews, CRDs, faults and pod proxy', { timeout: 30_000 }, () => {
  test('SelfSubjectAccessReview and SelfSubjectRulesReview answer from the rules; deny takes a verb away', { timeout: 20_000 }, async () => {
    const authz = kc.makeApiClient(k8s.AuthorizationV1Api);
    const can = async (verb: string, resource: string, namespace?: string) =>
      (await authz.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { verb, resource, namespace, group: '' } } } })).status!.allowed;
    assert.equal(await can('delete', 'pods', 'default'), true);
    const undo = c.server.auth.deny({ verbs: ['delete'], apiGroups: [''], resources: ['pods'] }, 'admin');
    assert.equal(await can('delete', 'pods', 'default'), false);
    assert.equal(await can('get', 'pods', 'default'), true);
    undo();
    assert.equal(await can('delete', 'pods', 'default'), true);
    const token = c.server.addUser('viewer', [{ verbs: ['get', 'list', 'watch'], apiGroups: ['*'], resources: ['*'], namespaces: ['apps'] }]);
    const vkc = new k8s.KubeConfig();
    vkc.loadFromFile(c.kubeconfigFor(token));
    const rules = await vkc.makeApiClient(k8s.AuthorizationV1Api).createSelfSubjectRulesReview({ body: { spec: { namespace: 'apps' } } });
    assert.ok(rules.status!.resourceRules.some((r) => r.verbs.includes('list') && r.resources?.includes('*')));
    const other = await vkc.makeApiClient(k8s.AuthorizationV1Api).createSelfSubjectRulesReview({ body: { spec: { namespace: 'elsewhere' } } });
    assert.ok(!other.status!.resourceRules.some((r) => r.verbs.includes('list') && r.resources?.includes('*')));
  });

  test('TokenReview authenticates registered tokens and checks audiences', { timeout: 20_000 }, async () => {
    const authn = kc.makeApiClient(k8s.AuthenticationV1Api);
    const sa = c.server.auth.addServiceAccountToken('shop', 'web', { audiences: ['mesh-ca'], podName: 'web-1' });
    const ok = await authn.createTokenReview({ body: { spec: { token: sa, audiences: ['mesh-ca'] } } });
    assert.equal(ok.status!.authenticated, true);
    assert.equal(ok.status!.user!.username, 'system:serviceaccount:shop:web');
    assert.ok(ok.status!.user!.groups!.includes('system:serviceaccounts:shop'));
    assert.deepEqual(ok.status!.audiences, ['mesh-ca']);
    const wrongAud = await authn.createTokenReview({ body: { spec: { token: sa, audiences: ['other'] } } });
    assert.notEqual(wrongAud.status!.authenticated, true);
    assert.match(wrongAud.status!.error!, /audience/);
    const unknown = await authn.createTokenReview({ body: { spec: { token: 'garbage' } } });
    assert.notEqual(unknown.status!.authenticated, true);
  });

  test('a CRD is Established and its kinds are served in every version, with a status subresource', { timeout: 20_000 }, async () => {
    const ext = kc.makeApiClient(k8s.ApiextensionsV1Api);
    const crd = await ext.createCustomResourceDefinition({ body: widgetCrd });
    assert.ok(crd.status!.conditions!.some((x) => x.type === 'Established' && x.status === 'True'));
    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    const w = await custom.createNamespacedCustomObject({ group: 'test.mesh.dev', version: 'v1', namespace: 'default', plural: 'widgets', body: { apiVersion: 'test.mesh.dev/v1', kind: 'Widget', metadata: { name: 'w1' }, spec: { size: 1 } } });
    assert.equal(w.metadata.generation, 1);
    const beta = await custom.getNamespacedCustomObject({ group: 'test.mesh.dev', version: 'v1beta1', namespace: 'default', plural: 'widgets', name: 'w1' });
    assert.equal(beta.apiVersion, 'test.mesh.dev/v1beta1');
    const st = await custom.patchNamespacedCustomObjectStatus({ group: 'test.mesh.dev', version: 'v1', namespace: 'default', plural: 'widgets', name: 'w1', body: { status: { ready: true } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    assert.deepEqual(st.status, { ready: true });
    const list = await custom.listNamespacedCustomObject({ group: 'test.mesh.dev', version: 'v1', namespace: 'default', plural: 'widgets' });
    assert.equal(list.items[0].kind, 'Widget', 'custom resource lists carry kind on items');
    await ext.deleteCustomResourceDefinition({ name: 'widgets.test.mesh.dev' });
    const s = await statusOf(custom.listNamespacedCustomObject({ group: 'test.mesh.dev', version: 'v1', namespace: 'default', plural: 'widgets' }));
    assert.equal(s.code, 404);
  });

  test('faults: fail a verb on a resource n times, then succeed', { timeout: 20_000 }, async () => {
    c.server.addFault({ verb: 'list', resource: 'services', code: 503, times: 2 });
    assert.equal((await statusOf(core.listNamespacedService({ namespace: 'default' }))).reason, 'ServiceUnavailable');
    assert.equal((await statusOf(core.listNamespacedService({ namespace: 'default' }))).code, 503);
    await core.listNamespacedService({ namespace: 'default' });
    await core.createNamespacedConfigMap({ namespace: 'default', body: cm('faulty') });
    const remove = c.server.addFault({ verb: 'get', resource: 'configmaps', name: 'faulty', code: 500, message: 'etcd is sad' });
    assert.equal((await statusOf(core.readNamespacedConfigMap({ name: 'faulty', namespace: 'default' }))).message, 'etcd is sad');
    remove();
    await core.readNamespacedConfigMap({ name: 'faulty', namespace: 'default' });
  });

  test('a stopped server refuses connections and serves the same data after restart', { timeout: 20_000 }, async () => {
    await core.createNamespacedConfigMap({ namespace: 'default', body: cm('persist', {}, { kept: 'yes' }) });
    await c.server.stop();
    await assert.rejects(core.readNamespacedConfigMap({ name: 'persist', namespace: 'default' }), /ECONNREFUSED/);
    await c.server.restart();
    assert.equal(c.server.url, c.url, 'same port');
    const got = await core.readNamespacedConfigMap({ name: 'persist', namespace: 'default' });
    assert.deepEqual(got.data, { kept: 'yes' });
  });

  test('pod proxy reaches the handler registered for the pod and is authorized as pods/proxy', { timeout: 20_000 }, async () => {
    await core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'envoy-pod' }, spec: { containers: [{ name: 'c', image: 'x' }] } } });
    c.server.setPodProxy('default', 'envoy-pod', (r) => (r.path === '/stats/prometheus' ? `# port ${r.port}\nenvoy_cluster_upstream_rq_total 7\n` : { status: 404, body: 'no such path' }));
    const text = await core.connectGetNamespacedPodProxyWithPath({ name: 'envoy-pod:15090', namespace: 'default', path: 'stats/prometheus' });
    assert.equal(text, '# port 15090\nenvoy_cluster_upstream_rq_total 7\n');
    const token = c.server.addUser('noproxy', [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }]);
    const nkc = new k8s.KubeConfig();
    nkc.loadFromFile(c.kubeconfigFor(token));
    const s = await statusOf(nkc.makeApiClient(k8s.CoreV1Api).connectGetNamespacedPodProxyWithPath({ name: 'envoy-pod:15090', namespace: 'default', path: 'stats/prometheus' }));
    assert.equal(s.message, 'pods "envoy-pod" is forbidden: User "noproxy" cannot get resource "pods/proxy" in API group "" in the namespace "default"');
  });
});

function deployment(name: string) {
  return {
    metadata: { name, labels: { app: name } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'nginx:1', ports: [{ containerPort: 80 }] }] } },
    },
  };
}

// client-node's typed models spell x-kubernetes-* keys with underscores; the YAML spelling
// ('x-kubernetes-preserve-unknown-fields') is silently dropped when it serializes a CRD.
const widgetCrd = {
  metadata: { name: 'widgets.test.mesh.dev' },
  spec: {
    group: 'test.mesh.dev',
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget', shortNames: ['wd'] },
    versions: [
      { name: 'v1', served: true, storage: true, subresources: { status: {} }, schema: { openAPIV3Schema: { type: 'object', x_kubernetes_preserve_unknown_fields: true } } },
      { name: 'v1beta1', served: true, storage: false, schema: { openAPIV3Schema: { type: 'object', x_kubernetes_preserve_unknown_fields: true } } },
    ],
  },
};

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
