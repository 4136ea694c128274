import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectLive } from '../../src/cluster/live.ts';
import { KubernetesSource } from '../../src/cluster/live-source.ts';
import { LIST_PAGE_SIZE, listObjectPages, listPages, peekContinue } from '../../src/cluster/paging.ts';
import { watchObjects } from '../../src/cluster/watch.ts';
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

test('the controller\'s watch lists in pages of 500 (limit, then continue), delivers every object once, and watches from the list\'s resource version', async () => {
  const kube = await startApiServer({ seed: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' } }] });
  try {
    const n = 2 * LIST_PAGE_SIZE + 201;
    kube.server.load(Array.from({ length: n }, (_, i) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, namespace: 'a' }, data: { i: String(i) } })));
    const from = kube.server.requests.length;
    let latest: KubeObject[] = [];
    let added: (() => void) | undefined;
    const w = await watchObjects({ kubeconfig: kube.kubeconfigPath }, [{ apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps' }], (objs) => {
      latest = objs;
      if (objs.some((o) => o.metadata.name === 'late')) added?.();
    }, (err) => assert.fail(err.message));
    try {
      const names = latest.map((o) => o.metadata.name);
      assert.equal(names.length, n);
      assert.equal(new Set(names).size, n, 'each object once');
      const lists = kube.server.requests.slice(from).filter((r) => r.path === '/api/v1/configmaps' && !new URLSearchParams(r.query).has('watch'));
      assert.deepEqual(lists.map((r) => new URLSearchParams(r.query).get('limit')), ['500', '500', '500']);
      assert.deepEqual(lists.map((r) => new URLSearchParams(r.query).has('continue')), [false, true, true]);
      // The watch starts from the list's resource version: an object created now arrives, nothing is listed again.
      const arrived = new Promise<void>((resolve) => (added = resolve));
      const created = await kube.request('POST', '/api/v1/namespaces/a/configmaps', { body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'late', namespace: 'a' } }) });
      assert.equal(created.status, 201);
      await arrived;
      assert.equal(latest.length, n + 1);
      const watches = kube.server.requests.slice(from).filter((r) => r.path === '/api/v1/configmaps' && new URLSearchParams(r.query).get('watch') === 'true');
      assert.ok(watches.length >= 1 && watches.every((r) => (new URLSearchParams(r.query).get('resourceVersion') ?? '') !== ''), JSON.stringify(watches.map((r) => r.query)));
      assert.equal(kube.server.requests.slice(from).filter((r) => r.path === '/api/v1/configmaps' && !new URLSearchParams(r.query).has('watch')).length, 3);
    } finally {
      await w.stop();
    }
  } finally {
    await kube.stop();
  }
});

test('listObjectPages: pages joined into the last page\'s answer without a token; an expired token (410) reads the list again whole; other errors fail', async () => {
  type L = { items: string[]; metadata?: { _continue?: string; resourceVersion?: string } };
  const asked: [number | undefined, string | undefined][] = [];
  const pages: Record<string, L> = { '': { items: ['a', 'b'], metadata: { _continue: 't1', resourceVersion: '7' } }, t1: { items: ['c', 'd'], metadata: { _continue: 't2', resourceVersion: '7' } }, t2: { items: ['e'], metadata: { resourceVersion: '7' } } };
  const all = await listObjectPages<string, L>(async (limit, token) => {
    asked.push([limit, token]);
    return pages[token ?? '']!;
  }, 2);
  assert.deepEqual(all.items, ['a', 'b', 'c', 'd', 'e']);
  assert.equal(all.metadata?.resourceVersion, '7');
  assert.equal(all.metadata?._continue, undefined);
  assert.deepEqual(asked, [[2, undefined], [2, 't1'], [2, 't2']]);
  const again: [number | undefined, string | undefined][] = [];
  const whole = await listObjectPages<string, L>(async (limit, token) => {
    again.push([limit, token]);
    if (token) throw Object.assign(new Error('Gone'), { code: 410 });
    return limit ? pages['']! : { items: ['a', 'b', 'c'], metadata: { resourceVersion: '9' } };
  }, 2);
  assert.deepEqual(whole.items, ['a', 'b', 'c']);
  assert.deepEqual(again, [[2, undefined], [2, 't1'], [undefined, undefined]]);
  await assert.rejects(listObjectPages<string, L>(async () => { throw Object.assign(new Error('Gone'), { code: 410 }); }, 2), /Gone/, 'a 410 on the first page is the caller\'s');
  await assert.rejects(listObjectPages<string, L>(async (_l, token) => { if (token) throw Object.assign(new Error('Forbidden'), { code: 403 }); return pages['']!; }, 2), /Forbidden/);
});
