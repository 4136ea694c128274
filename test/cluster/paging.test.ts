import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectLive } from '../../src/cluster/live.ts';
import { KubernetesSource } from '../../src/cluster/live-source.ts';
import { LIST_PAGE_SIZE, listPages, type ListPage } from '../../src/cluster/paging.ts';
import type { KubeObject } from '../../src/cluster/types.ts';
import { startApiServer } from '../support/kube.ts';

test('live cluster: a list larger than a page is read in pages of 500 (limit, then continue) and gives every object once, in the server order', async () => {
  const kube = await startApiServer({ seed: ['a', 'b'].map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })) });
  try {
    // 1,201 ConfigMaps over two namespaces: three pages, the last one short.
    const n = 2 * LIST_PAGE_SIZE + 201;
    kube.server.load(Array.from({ length: n }, (_, i) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, namespace: i % 3 ? 'a' : 'b', labels: { even: String(i % 2 === 0) } }, data: { i: String(i) } })));
    const cluster = connectLive({ kubeconfig: kube.kubeconfigPath });
    const from = kube.server.requests.length;
    const listed = await cluster.list('v1', 'ConfigMap');
    const pages = kube.server.requests.slice(from).filter((r) => r.path === '/api/v1/configmaps');
    assert.deepEqual(pages.map((r) => new URLSearchParams(r.query).get('limit')), ['500', '500', '500']);
    assert.deepEqual(pages.map((r) => new URLSearchParams(r.query).has('continue')), [false, true, true]);
    // The same objects, in the same order, as one unpaged answer.
    const whole = await kube.request('GET', '/api/v1/configmaps');
    const names = (whole.json.items as KubeObject[]).map((o) => `${o.metadata.namespace}/${o.metadata.name}`);
    assert.equal(names.length, n);
    assert.deepEqual(listed.map((o) => `${o.metadata.namespace}/${o.metadata.name}`), names);
    assert.ok(listed.every((o) => o.apiVersion === 'v1' && o.kind === 'ConfigMap'));
    // A label selector pages the selected objects; the Source live commands share pages too.
    assert.equal((await cluster.list('v1', 'ConfigMap', { labelSelector: 'even=true' })).length, Math.ceil(n / 2));
    const source = new KubernetesSource({ cluster });
    const before = kube.server.requests.length;
    assert.equal((await source.list({ kinds: [{ apiVersion: 'v1', kind: 'ConfigMap' }] })).length, n);
    assert.equal(kube.server.requests.slice(before).filter((r) => r.path === '/api/v1/configmaps').length, 3);
  } finally {
    await kube.stop();
  }
});

test('listPages: a continue token that expired (410) reads the list again whole, as client-go does; other errors fail the list', async () => {
  const obj = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } });
  const asked: { limit?: string; continue?: string }[] = [];
  const items = await listPages(async (q) => {
    asked.push(q);
    if (q.continue) throw Object.assign(new Error('Gone'), { code: 410 });
    return q.limit ? { items: [obj('a'), obj('b')], metadata: { continue: 't1' } } : { items: [obj('a'), obj('b'), obj('c')], metadata: {} };
  }, 2);
  assert.deepEqual(items.map((o) => o.metadata.name), ['a', 'b', 'c']);
  assert.deepEqual(asked, [{ limit: '2', continue: undefined }, { limit: '2', continue: 't1' }, {}]);
  const first: (q: { continue?: string }) => Promise<ListPage> = async () => {
    throw Object.assign(new Error('Gone'), { code: 410 });
  };
  await assert.rejects(listPages(first, 2), /Gone/, 'a 410 on the first page is the caller\'s to report');
  const forbidden: (q: { continue?: string }) => Promise<ListPage> = async (q) => {
    if (q.continue) throw Object.assign(new Error('Forbidden'), { code: 403 });
    return { items: [obj('a')], metadata: { continue: 't' } };
  };
  await assert.rejects(listPages(forbidden, 1), /Forbidden/);
});
