// The shared plain-data helpers (src/util/object.ts) every module uses instead of its own copy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { deepEqual, isObject } from '../../src/util/object.ts';

test('isObject: mappings only', () => {
  for (const [v, want] of [[{}, true], [{ a: 1 }, true], [[], false], [null, false], [undefined, false], ['x', false], [1, false]] as const) assert.equal(isObject(v), want, JSON.stringify(v));
});

test('deepEqual: table', () => {
  const table: [unknown, unknown, boolean][] = [
    [{ a: [1, { b: 'x' }] }, { a: [1, { b: 'x' }] }, true],
    [{ a: 1, b: undefined }, { a: 1 }, true],
    [{ a: 1 }, { a: 1, b: undefined }, true],
    [{ a: 1 }, { a: 1, b: null }, false],
    [{ a: 1 }, { b: 1 }, false],
    [[1, 2], [2, 1], false],
    [[], {}, false],
    [{}, [], false],
    [{ a: [1] }, { a: [1, 2] }, false],
    [null, {}, false],
    ['1', 1, false],
  ];
  for (const [a, b, want] of table) assert.equal(deepEqual(a, b), want, `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
});

test('property: deepEqual agrees with comparing the JSON of key-sorted values', () => {
  const sorted = (v: unknown): unknown => (Array.isArray(v) ? v.map(sorted) : isObject(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted(v[k])])) : v);
  fc.assert(
    fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
      assert.equal(deepEqual(a, b), JSON.stringify(sorted(a)) === JSON.stringify(sorted(b)));
      assert.equal(deepEqual(a, structuredClone(a)), true);
    }),
  );
});
