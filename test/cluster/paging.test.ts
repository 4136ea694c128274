import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectLive } from '../../src/cluster/live.ts';
import { KubernetesSource } from '../../src/cluster/live-source.ts';
import { LIST_PAGE_SIZE, listPages, peekContinue } from '../../src/cluster/paging.ts';
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
  const page = (names: string[], token?: string) => JSON.stringify({ kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: '9', ...(token ? { continue: token } : {}) }, items: names.map(obj) });
  const asked: { limit?: string; continue?: string }[] = [];
  const items = await listPages(async (q) => {
    asked.push(q);
    if (q.continue) throw Object.assign(new Error('Gone'), { code: 410 });
    return q.limit ? page(['a', 'b'], 't1') : page(['a', 'b', 'c']);
  }, 2);
  assert.deepEqual(items.map((o) => o.metadata.name), ['a', 'b', 'c']);
  assert.deepEqual(asked, [{ limit: '2' }, { limit: '2', continue: 't1' }, {}]);
  const gone = async (): Promise<string> => {
    throw Object.assign(new Error('Gone'), { code: 410 });
  };
  await assert.rejects(listPages(gone, 2), /Gone/, 'a 410 on the first page is the caller\'s to report');
  const forbidden = async (q: { continue?: string }): Promise<string> => {
    if (q.continue) throw Object.assign(new Error('Forbidden'), { code: 403 });
    return page(['a'], 't');
  };
  await assert.rejects(listPages(forbidden, 1), /Forbidden/);
});

test('listPages: the token is read from the head of a page when the server writes metadata first, and from the parsed page otherwise; both page right', async () => {
  // Pages as the API server writes them (metadata first), and with items first, which must still page right.
  for (const metadataFirst of [true, false]) {
    const names = Array.from({ length: 7 }, (_, i) => `cm-${i}`);
    const asked: (string | undefined)[] = [];
    const items = await listPages(async (q) => {
      asked.push(q.continue);
      const start = q.continue ? Number(q.continue.slice(1)) : 0;
      const chunk = names.slice(start, start + 3).map((name) => ({ metadata: { name } }));
      const metadata = start + 3 < names.length ? { continue: `t${start + 3}` } : {};
      const text = JSON.stringify(metadataFirst ? { metadata, items: chunk } : { items: chunk, metadata });
      return text;
    }, 3);
    assert.deepEqual(items.map((o) => o.metadata.name), names, `metadata first: ${metadataFirst}`);
    assert.deepEqual(asked, [undefined, 't3', 't6']);
  }
  for (const [text, want] of [
    ['{"kind":"PodList","metadata":{"resourceVersion":"5","continue":"eyJydiI6MX0"},"items":[]}', 'eyJydiI6MX0'],
    ['{"kind":"PodList","metadata":{"resourceVersion":"5"},"items":[{"metadata":{"continue":"x"}}]}', null],
    ['{"items":[],"metadata":{"continue":"x"}}', undefined],
    ['{"metadata":{"continue":"a\\"b"},"items":[]}', undefined],
  ] as const) assert.equal(peekContinue(text), want, text);
});
