// The controller's index of state-of-the-world deliveries: what changed, and which object it keeps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { objectKey, SourceIndex } from '../../src/controller/changes.ts';
import type { KubeObject } from '../../src/cluster/types.ts';
import fc from 'fast-check';

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

test('property: a delivery by its changes (SourceChanges) gives what comparing the whole set gives, step after step', () => {
  // Keys a..e in two namespaces; each step sets some objects (new, equal copies, or other content) and deletes some.
  const key = fc.record({ name: fc.constantFrom('a', 'b', 'c', 'd', 'e'), ns: fc.constantFrom('shop', 'web') });
  const step = fc.record({
    set: fc.uniqueArray(fc.record({ k: key, x: fc.constantFrom('1', '2'), copy: fc.boolean() }), { selector: (s) => `${s.k.ns}/${s.k.name}`, maxLength: 4 }),
    deleted: fc.uniqueArray(key, { selector: (k) => `${k.ns}/${k.name}`, maxLength: 2 }),
  });
  fc.assert(fc.property(fc.array(step, { minLength: 1, maxLength: 12 }), (steps) => {
    const full = new SourceIndex();
    const byChanges = new SourceIndex();
    /** The source's set, by key (as a live source holds it). */
    const state = new Map<string, KubeObject>();
    full.apply([]);
    byChanges.apply([]);
    for (const s of steps) {
      const deleted = s.deleted.flatMap((k) => {
        const o = state.get(objectKey(cm(k.name, {}, k.ns)));
        return o && !s.set.some((x) => x.k.name === k.name && x.k.ns === k.ns) ? [o] : [];
      });
      for (const o of deleted) state.delete(objectKey(o));
      const set = s.set.map(({ k, x, copy }) => {
        const held = state.get(objectKey(cm(k.name, {}, k.ns)));
        // A shallow copy of the held object (an informer's unchanged copy), or an object of its own.
        return copy && held ? { ...held } : cm(k.name, { x }, k.ns);
      });
      for (const o of set) state.set(objectKey(o), o);
      const want = full.apply([...state.values()]).changed;
      const got = byChanges.applyChanges({ set, deleted });
      assert.deepEqual(new Map([...got].sort()), new Map([...want].sort()), 'the same keys changed, with the same objects before');
      assert.deepEqual(new Map([...byChanges.snapshot()].sort()), new Map([...full.snapshot()].sort()), 'the same objects held');
    }
  }), { numRuns: 300 });
});
