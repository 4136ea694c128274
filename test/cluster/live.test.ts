import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterUnreachableError, classifyClusterError } from '../../src/cluster/errors.ts';
import { connectLive } from '../../src/cluster/live.ts';
import { startApiServer } from '../support/kube.ts';

test('live cluster: parallel requests for one API group share one discovery lookup; objects keep their JSON as the server sent it', async () => {
  const kube = await startApiServer({
    seed: [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'shop', labels: { app: 'x' } }, data: { k: 'v' } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b', namespace: 'shop' }, data: {} },
    ],
  });
  try {
    const cluster = connectLive({ kubeconfig: kube.kubeconfigPath });
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => cluster.canI({ verb: 'get', group: '', resource: 'configmaps', namespace: `ns-${i}` })));
    assert.ok(answers.every((a) => a.allowed));
    const discovery = kube.server.requests.filter((r) => r.method === 'GET' && r.path === '/apis/authorization.k8s.io/v1');
    assert.equal(discovery.length, 1, 'one discovery request for 20 access reviews');

    const listed = await cluster.list('v1', 'ConfigMap', { namespace: 'shop', labelSelector: 'app=x' });
    assert.deepEqual(listed.map((o) => [o.apiVersion, o.kind, o.metadata.name]), [['v1', 'ConfigMap', 'a']]);
    assert.equal(typeof listed[0]!.metadata.creationTimestamp, 'string', 'timestamps stay strings, as KubeObject declares');
    assert.equal((await cluster.get('v1', 'ConfigMap', 'b', 'shop'))?.metadata.name, 'b');
    assert.equal(await cluster.get('v1', 'ConfigMap', 'missing', 'shop'), undefined);
    assert.equal(await cluster.delete('v1', 'ConfigMap', 'b', 'shop'), true);
    assert.equal(await cluster.delete('v1', 'ConfigMap', 'b', 'shop'), false, 'already gone');
    assert.equal(await cluster.hasKind('v1', 'ConfigMap'), true);
    assert.equal(await cluster.hasKind('v1', 'NoSuchKind'), false);
    assert.equal(await cluster.hasKind('nosuch.example.com/v1', 'Thing'), false, 'a group the server does not serve');
    const unserved = await cluster.list('v1', 'NoSuchKind').then(() => undefined, (e: unknown) => e);
    assert.equal(classifyClusterError(unserved), 'not-found', 'listing a kind that is not served is a typed 404');
  } finally {
    await kube.stop();
  }
});

test('live cluster: a plain-HTTP server URL is refused with a typed unreachable error (exit 3)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mesh-kc-'));
  const kc = join(dir, 'config');
  writeFileSync(kc, 'apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: "http://127.0.0.1:9"}\ncontexts:\n- name: ctx\n  context: {cluster: c, user: u}\ncurrent-context: ctx\nusers:\n- name: u\n  user: {token: t}\n');
  const cluster = connectLive({ kubeconfig: kc });
  for (const call of [() => cluster.list('v1', 'Pod'), () => cluster.serverVersion(), () => cluster.get('v1', 'Pod', 'x', 'default')]) {
    const err = await call().then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof ClusterUnreachableError, String(err));
    assert.equal(err.exitCode, 3);
    assert.match(err.message, /plain-HTTP API server/);
  }
});
