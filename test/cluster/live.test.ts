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

test('live cluster: pod proxy GETs send the path a URL of the server makes, and keep connections alive (no more than were in flight)', async () => {
  const pods = Array.from({ length: 8 }, (_, i) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `p-${i}`, namespace: 'shop' }, spec: { containers: [{ name: 'c', image: 'x' }] } }));
  const kube = await startApiServer({ seed: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } }, ...pods] });
  try {
    kube.server.setPodProxy('*', '*', (req) => ({ status: 200, body: `${req.pod} ${req.path}` }));
    const cluster = connectLive({ kubeconfig: kube.kubeconfigPath });
    const targets = [
      { namespace: 'shop', pod: 'web-0', port: 15090 },
      { namespace: 'shop', pod: 'web-1', port: 15014, scheme: 'https' as const },
      { namespace: 'kube-system', pod: "odd'(name)*!", port: 80 },
    ];
    // What the request path was before it was built from parts: the whole URL, parsed per request.
    const paths = ['/stats/prometheus?filter=' + encodeURIComponent('^http\\.inbound_(\\d+)\\.(downstream_rq_\\d?xx|x)$'), 'debug/syncz', '/a b/ü?q=1 2&r="<>"', '/debug/./x/../syncz', '/../../../../version?x=1', '/', ''];
    for (const path of paths) {
      for (const t of targets) {
        await cluster.proxyGet!(t, path);
        const want = new URL(`${kube.url}/api/v1/namespaces/${encodeURIComponent(t.namespace)}/pods/${t.scheme ? 'https:' : ''}${encodeURIComponent(t.pod)}:${t.port}/proxy${path.startsWith('/') ? path : '/' + path}`);
        assert.equal(kube.server.requests.at(-1)!.target, want.pathname + want.search, `${t.pod} ${path}`);
      }
    }
    // Two rounds of 8 parallel GETs: the second reuses the first's connections.
    const before = kube.server.connectionCount;
    for (let round = 0; round < 2; round++) {
      const bodies = await Promise.all(Array.from({ length: 8 }, (_, i) => cluster.proxyGet!({ namespace: 'shop', pod: `p-${i}`, port: 15090 }, '/stats/prometheus')));
      assert.deepEqual(bodies.map((b) => b.body), Array.from({ length: 8 }, (_, i) => `p-${i} /stats/prometheus`));
    }
    assert.ok(kube.server.connectionCount - before <= 8, `${kube.server.connectionCount - before} connections for 16 GETs, 8 at a time`);

    // A pod that does not answer: the GET fails after the connection's timeout, and the next one works.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    kube.server.setPodProxy('shop', 'p-0', async () => {
      await held;
      return { status: 200, body: 'late' };
    });
    const quick = connectLive({ kubeconfig: kube.kubeconfigPath, timeoutMs: 100 });
    await assert.rejects(quick.proxyGet!({ namespace: 'shop', pod: 'p-0', port: 15090 }, '/stats/prometheus'), /GET pods\/p-0:15090\/proxy\/stats\/prometheus timed out after 100 ms/);
    assert.equal((await quick.proxyGet!({ namespace: 'shop', pod: 'p-1', port: 15090 }, '/stats/prometheus')).body, 'p-1 /stats/prometheus');
    release();
  } finally {
    await kube.stop();
  }
});
