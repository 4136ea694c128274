// The controller's diff of state-of-the-world deliveries: what changed, and which object it keeps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffObjects, objectKey } from '../../src/controller/changes.ts';
import type { KubeObject } from '../../src/cluster/types.ts';

const cm = (name: string, data: Record<string, string>, ns = 'shop'): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns }, data });

test('diffObjects: added, removed and changed keys; equal objects are unchanged', () => {
  const a = cm('a', { x: '1' });
  const b = cm('b', { x: '1' });
  const prev = diffObjects(new Map(), [a, b]).index;
  const cases: [string, KubeObject[], string[]][] = [
    ['same objects', [a, b], []],
    ['fresh equal copies', [cm('a', { x: '1' }), cm('b', { x: '1' })], []],
    ['a changed', [cm('a', { x: '2' }), b], [objectKey(a)]],
    ['b removed, c added', [a, cm('c', {})], [objectKey(cm('c', {})), objectKey(b)]],
    ['same name in another namespace is another object', [a, b, cm('a', { x: '1' }, 'web')], [objectKey(cm('a', {}, 'web'))]],
  ];
  for (const [name, objs, changed] of cases) {
    const d = diffObjects(prev, objs);
    assert.deepEqual(d.changed, changed, name);
    assert.equal(d.duplicates, false, name);
  }
  assert.equal(diffObjects(prev, [a, cm('a', { x: '2' })]).duplicates, true);
});

test('diffObjects: a shallow copy (what informers deliver) is replaced by the held object; an equal object with other insides replaces it', () => {
  const a = cm('a', { x: '1' });
  const prev = diffObjects(new Map(), [a]).index;
  const copy = { ...a };
  assert.equal(diffObjects(prev, [copy]).index.get(objectKey(a)), a);
  const relisted = cm('a', { x: '1' });
  assert.equal(diffObjects(prev, [relisted]).index.get(objectKey(a)), relisted);
});
