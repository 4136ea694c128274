// The server's protocol details (discovery documents, HTTP codes, tokens) and its pure parts
// (patches, selectors), plus mesh's own client (src/cluster) against it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from '../../src/cluster/index.ts';
import { jsonPatch, mergePatch, strategicMergePatch } from '../support/apiserver/patch.ts';
import { fieldSelector, labelSelector } from '../support/apiserver/selectors.ts';
import { startApiServer, type TestCluster } from '../support/kube.ts';

let c: TestCluster;
before(async () => {
  c = await startApiServer({ seed: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } }, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'seeded', namespace: 'shop', labels: { a: 'b' } }, data: { x: '1' } }] });
});
after(() => c.stop());

describe('protocol', () => {
  test('aggregated-discovery Accept headers get the legacy APIGroupList as application/json', async () => {
    const r = await c.request('GET', '/apis', { headers: { Accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.equal(r.json.kind, 'APIGroupList');
    const apps = r.json.groups.find((g: any) => g.name === 'apps');
    assert.deepEqual(apps.preferredVersion, { groupVersion: 'apps/v1', version: 'v1' });
  });

  test('resource lists carry verbs, namespaced, kind, shortNames and subresources', async () => {
    const r = await c.request('GET', '/api/v1');
    const byName = new Map(r.json.resources.map((x: any) => [x.name, x]));
    assert.deepEqual(byName.get('pods'), { name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'], shortNames: ['po'], categories: ['all'], storageVersionHash: (byName.get('pods') as any).storageVersionHash });
    assert.deepEqual((byName.get('pods/status') as any).verbs, ['get', 'patch', 'update']);
    assert.equal((byName.get('namespaces') as any).namespaced, false);
    assert.equal((byName.get('serviceaccounts/token') as any).kind, 'TokenRequest');
    const unknown = await c.request('GET', '/apis/nope.dev/v1');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.message, 'the server could not find the requested resource');
  });

  test('method not allowed, unsupported patch type and expired continue tokens get their codes', async () => {
    const put = await c.request('PUT', '/api/v1/namespaces/shop/configmaps', { body: '{}' });
    assert.equal(put.status, 405);
    assert.equal(put.json.reason, 'MethodNotAllowed');
    const patch = await c.request('PATCH', '/api/v1/namespaces/shop/configmaps/seeded', { body: '{}', headers: { 'Content-Type': 'text/plain' } });
    assert.equal(patch.status, 415);
    const page = await c.request('GET', '/api/v1/namespaces/kube-system/serviceaccounts?limit=0');
    assert.equal(page.status, 200);
    const first = await c.request('GET', '/api/v1/namespaces?limit=1');
    await c.request('POST', '/api/v1/namespaces/shop/configmaps', { body: JSON.stringify({ metadata: { name: 'bump' } }) });
    c.server.store.compact();
    const expired = await c.request('GET', `/api/v1/namespaces?limit=1&continue=${first.json.metadata.continue}`);
    assert.equal(expired.status, 410);
    assert.equal(expired.json.reason, 'Expired');
  });

  test('a TokenRequest token is accepted by TokenReview with its audiences', async () => {
    await c.request('POST', '/api/v1/namespaces/shop/serviceaccounts', { body: JSON.stringify({ metadata: { name: 'proxy' } }) });
    const tr = await c.request('POST', '/api/v1/namespaces/shop/serviceaccounts/proxy/token', { body: JSON.stringify({ spec: { audiences: ['mesh-ca'], expirationSeconds: 600 } }) });
    assert.equal(tr.status, 201);
    const review = await c.request('POST', '/apis/authentication.k8s.io/v1/tokenreviews', { body: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: tr.json.status.token, audiences: ['mesh-ca'] } }) });
    assert.equal(review.json.status.authenticated, true);
    assert.equal(review.json.status.user.username, 'system:serviceaccount:shop:proxy');
    // The token authenticates requests as the service account, which has no rules.
    const asSa = await c.request('GET', '/api/v1/namespaces/shop/pods', { token: tr.json.status.token });
    assert.equal(asSa.status, 403);
    assert.equal(asSa.json.message, 'pods is forbidden: User "system:serviceaccount:shop:proxy" cannot list resource "pods" in API group "" in the namespace "shop"');
  });

  test('a watch can be failed by a fault, and an abrupt drop ends the stream', async () => {
    const undo = c.server.addFault({ verb: 'watch', resource: 'configmaps', code: 500, times: 1 });
    const failed = await c.request('GET', '/api/v1/namespaces/shop/configmaps?watch=1');
    assert.equal(failed.status, 500);
    assert.equal(failed.json.reason, 'InternalError');
    undo();
    const pending = c.request('GET', '/api/v1/namespaces/shop/configmaps?watch=1&resourceVersion=0');
    while (c.server.openWatches === 0) await new Promise((r) => setTimeout(r, 10));
    c.server.dropWatches();
    const r = await pending;
    const events = r.body.trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(events.every((e) => e.type === 'ADDED'));
    assert.ok(events.some((e) => e.object.metadata.name === 'seeded'), 'resourceVersion=0 starts with the current state');
  });

  test('a streaming-list watch (sendInitialEvents) ends its initial events with the marked bookmark', async () => {
    const pending = c.request('GET', '/api/v1/namespaces/shop/configmaps?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true');
    while (c.server.openWatches === 0) await new Promise((r) => setTimeout(r, 10));
    c.server.dropWatches();
    const events = (await pending).body.trim().split('\n').map((l) => JSON.parse(l));
    const end = events.findIndex((e) => e.type === 'BOOKMARK' && e.object.metadata.annotations?.['k8s.io/initial-events-end'] === 'true');
    assert.ok(end > 0);
    assert.ok(events.slice(0, end).every((e) => e.type === 'ADDED'));
  });

  test('names with colons (RBAC) are kept whole in authorization and messages', async () => {
    const token = c.server.addUser('rbac-reader', [{ verbs: ['get'], apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles'], resourceNames: ['system:mesh:reader'] }]);
    await c.request('POST', '/apis/rbac.authorization.k8s.io/v1/clusterroles', { body: JSON.stringify({ metadata: { name: 'system:mesh:reader' }, rules: [] }) });
    const ok = await c.request('GET', '/apis/rbac.authorization.k8s.io/v1/clusterroles/system:mesh:reader', { token });
    assert.equal(ok.status, 200);
    const denied = await c.request('DELETE', '/apis/rbac.authorization.k8s.io/v1/clusterroles/system:mesh:reader', { token });
    assert.equal(denied.json.message, 'clusterroles.rbac.authorization.k8s.io "system:mesh:reader" is forbidden: User "rbac-reader" cannot delete resource "clusterroles" in API group "rbac.authorization.k8s.io" at the cluster scope');
  });

  test("mesh's own Cluster (src/cluster) connects, lists and gets through the kubeconfig", async () => {
    const cluster = await connect({ kubeconfig: c.kubeconfigPath });
    assert.equal((await cluster.serverVersion()).gitVersion, 'v1.32.0');
    const cms = await cluster.list('v1', 'ConfigMap', { namespace: 'shop', labelSelector: 'a=b' });
    assert.deepEqual(cms.map((x) => x.metadata.name), ['seeded']);
    assert.deepEqual((await cluster.get('v1', 'ConfigMap', 'seeded', 'shop'))?.data, { x: '1' });
    assert.equal(await cluster.get('v1', 'ConfigMap', 'missing', 'shop'), undefined);
  });
});

describe('patch and selector semantics', () => {
  test('strategic merge: merge keys, $patch delete/replace, $setElementOrder, $retainKeys, null deletes', () => {
    const doc = { spec: { containers: [{ name: 'a', image: '1', env: [{ name: 'X', value: '1' }] }, { name: 'b', image: '1' }], ports: [{ containerPort: 80, name: 'http' }] }, metadata: { labels: { keep: '1', drop: '1' } } };
    const out: any = strategicMergePatch(doc, {
      metadata: { labels: { drop: null } },
      spec: {
        $setElementOrder$containers: undefined,
        '$setElementOrder/containers': [{ name: 'b' }, { name: 'a' }],
        containers: [{ name: 'a', env: [{ name: 'Y', value: '2' }] }],
        ports: [{ containerPort: 80, protocol: 'TCP' }, { containerPort: 443 }],
      },
    });
    assert.deepEqual(out.metadata.labels, { keep: '1' });
    assert.deepEqual(out.spec.containers.map((x: any) => x.name), ['b', 'a']);
    assert.deepEqual(out.spec.containers[1].env, [{ name: 'X', value: '1' }, { name: 'Y', value: '2' }]);
    assert.deepEqual(out.spec.ports, [{ containerPort: 80, name: 'http', protocol: 'TCP' }, { containerPort: 443 }]);
    const replaced: any = strategicMergePatch(doc, { spec: { containers: [{ name: 'z', image: '9' }, { $patch: 'replace' }] } });
    assert.deepEqual(replaced.spec.containers, [{ name: 'z', image: '9' }]);
    const retained: any = strategicMergePatch({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } }, { strategy: { $retainKeys: ['type'], type: 'Recreate' } });
    assert.deepEqual(retained.strategy, { type: 'Recreate' });
  });

  test('merge patch and JSON patch follow their RFCs', () => {
    assert.deepEqual(mergePatch({ a: { b: 1, c: 2 }, l: [1, 2] }, { a: { b: null, d: 3 }, l: [3] }), { a: { c: 2, d: 3 }, l: [3] });
    assert.deepEqual(jsonPatch({ a: [1, 2], b: { c: 1 } }, [{ op: 'add', path: '/a/-', value: 3 }, { op: 'move', from: '/b/c', path: '/d' }, { op: 'copy', from: '/d', path: '/e~1f' }]), { a: [1, 2, 3], b: {}, d: 1, 'e/f': 1 });
  });

  const obj = (labels: Record<string, string>, extra: Record<string, unknown> = {}) => ({ metadata: { name: 'n', namespace: 'ns', labels }, ...extra });
  const cases: [string, Record<string, string>, boolean][] = [
    ['a=1', { a: '1' }, true],
    ['a==1', { a: '2' }, false],
    ['a!=1', {}, true],
    ['a in (1,2)', { a: '2' }, true],
    ['a notin (1,2)', { a: '3' }, true],
    ['a notin (1,2)', {}, true],
    ['a', { a: '' }, true],
    ['!a', { a: 'x' }, false],
    ['a=1,b', { a: '1' }, false],
  ];
  for (const [sel, labels, want] of cases) {
    test(`labelSelector "${sel}" on ${JSON.stringify(labels)} is ${want}`, () => assert.equal(labelSelector(sel)(obj(labels)), want));
  }

  test('fieldSelector compares dotted paths, an absent field equals the empty string', () => {
    const pod = obj({}, { spec: { nodeName: 'n1' }, status: { phase: 'Running' } });
    assert.equal(fieldSelector('spec.nodeName=n1,status.phase!=Pending')(pod), true);
    assert.equal(fieldSelector('metadata.namespace==other')(pod), false);
    assert.equal(fieldSelector('spec.hostNetwork=')(pod), true);
  });
});
