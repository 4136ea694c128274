// The controller's index of state-of-the-world deliveries: what changed, and which object it keeps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { objectKey, SourceIndex } from '../../src/controller/changes.ts';
import type { KubeObject } from '../../src/cluster/types.ts';

const cm = (name: string, data: Record<string, string>, ns = 'shop'): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns }, data });

test('SourceIndex: added, removed and changed keys with the objects held before; equal objects are unchanged', () => {
  const a = cm('a', { x: '1' });
  const b = cm('b', { x: '1' });
  const c = cm('c', {});
  const web = cm('a', { x: '1' }, 'web');
  const cases: [string, KubeObject[], [string, KubeObject | undefined][]][] = [
    ['same objects', [a, b], []],
    ['fresh equal copies', [cm('a', { x: '1' }), cm('b', { x: '1' })], []],
    ['a changed', [cm('a', { x: '2' }), b], [[objectKey(a), a]]],
    ['b removed, c added', [a, c], [[objectKey(c), undefined], [objectKey(b), b]]],
    ['same name in another namespace is another object', [a, b, web], [[objectKey(web), undefined]]],
  ];
  for (const [name, objs, changed] of cases) {
    const index = new SourceIndex();
    index.apply([a, b]);
    const d = index.apply(objs);
    assert.deepEqual([...d.changed], changed, name);
    assert.equal(d.duplicates, false, name);
    assert.deepEqual([...index.values()].map(objectKey).sort(), objs.map(objectKey).sort(), `${name}: the index holds the delivery`);
  }
  const index = new SourceIndex();
  index.apply([a]);
  const dup = index.apply([a, cm('a', { x: '2' })]);
  assert.equal(dup.duplicates, true);
  assert.deepEqual(index.get(objectKey(a))!.data, { x: '2' }, 'the last of repeated keys is held');
  assert.deepEqual([...index.apply([]).changed.keys()], [objectKey(a)], 'an empty delivery removes everything');
});

test('SourceIndex: a shallow copy (what informers deliver) leaves the held object; an equal object with other insides replaces it', () => {
  const a = cm('a', { x: '1' });
  const index = new SourceIndex();
  index.apply([a]);
  index.apply([{ ...a }]);
  assert.equal(index.get(objectKey(a)), a);
  const relisted = cm('a', { x: '1' });
  assert.equal(index.apply([relisted]).changed.size, 0);
  assert.equal(index.get(objectKey(a)), relisted);
});

test('SourceIndex: copies that share one metadata object are keyed by their own kind and name, even when it is altered in place', () => {
  const meta = { name: 'a', namespace: 'shop' };
  const svc: KubeObject = { apiVersion: 'v1', kind: 'Service', metadata: meta };
  const map: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta };
  const index = new SourceIndex();
  index.apply([svc, map]);
  assert.deepEqual([...index.values()].map(objectKey).sort(), ['v1|ConfigMap|shop|a', 'v1|Service|shop|a']);
  meta.name = 'b';
  const d = index.apply([{ ...svc }, { ...map }]);
  assert.deepEqual([...d.changed.keys()].sort(), ['v1|ConfigMap|shop|a', 'v1|ConfigMap|shop|b', 'v1|Service|shop|a', 'v1|Service|shop|b']);
  assert.deepEqual([...index.values()].map(objectKey).sort(), ['v1|ConfigMap|shop|b', 'v1|Service|shop|b']);
});
