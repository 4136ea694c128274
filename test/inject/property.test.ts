import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parse } from 'yaml';
import { fastParse, fastStringify } from '../../src/cluster/fast-yaml.ts';
import { injectObject, uninjectObject } from '../../src/manifests/inject.ts';
import { resolveValues } from '../../src/manifests/values.ts';
import { VERSION } from '../../src/version.ts';
import { workload } from './arbitraries.ts';
import { validateWorkload } from './schema.ts';

const VALUES = [resolveValues(), resolveValues({ profile: 'minimal', sets: ['proxy.holdApplicationUntilProxyStarts=false', 'proxy.uid=2000'] })];
const settings = fc.record({ values: fc.constantFrom(...VALUES), native: fc.boolean() });
const RUNS = { numRuns: 150 };

test('property: inject(inject(x)) == inject(x), reported unchanged', () => {
  fc.assert(
    fc.property(workload, settings, (x, s) => {
      const once = injectObject(x, s.values, { nativeSidecar: s.native });
      const twice = injectObject(once.object, s.values, { nativeSidecar: s.native });
      assert.deepStrictEqual(twice.object, once.object);
      assert.ok(['unchanged', 'skipped'].includes(twice.report.action), twice.report.action);
    }),
    RUNS,
  );
});

test('property: uninject(inject(x)) == x, and the input is never mutated', () => {
  fc.assert(
    fc.property(workload, settings, (x, s) => {
      const before = structuredClone(x);
      const injected = injectObject(x, s.values, { nativeSidecar: s.native });
      assert.deepStrictEqual(x, before, 'inject mutated its input');
      const back = uninjectObject(injected.object);
      assert.deepStrictEqual(back.object, x);
    }),
    RUNS,
  );
});

test('property: re-injecting an older injection upgrades it to exactly a fresh injection', () => {
  fc.assert(
    fc.property(workload, settings, fc.boolean(), (x, s, oldNative) => {
      const old = injectObject(x, VALUES[0]!, { nativeSidecar: oldNative, version: '0.0.9' });
      const upgraded = injectObject(old.object, s.values, { nativeSidecar: s.native });
      const fresh = injectObject(x, s.values, { nativeSidecar: s.native });
      assert.deepStrictEqual(upgraded.object, fresh.object);
      if (fresh.report.action === 'injected') assert.equal(upgraded.report.action, 'upgraded');
    }),
    RUNS,
  );
});

test('property: a pod injected by a newer mesh is skipped and left alone', () => {
  fc.assert(
    fc.property(workload, settings, (x, s) => {
      const newer = injectObject(x, s.values, { nativeSidecar: s.native, version: '99.0.0' });
      if (newer.report.action !== 'injected') return;
      const r = injectObject(newer.object, s.values, { nativeSidecar: s.native });
      assert.equal(r.report.reason, 'newerVersion');
      assert.match(r.report.message!, new RegExp(`99.0.0; this is ${VERSION.replace(/\./g, '\\.')}`));
      assert.equal(r.object, newer.object);
    }),
    { numRuns: 50 },
  );
});

test('property: every injected workload validates against its Kubernetes schema and survives YAML', () => {
  fc.assert(
    fc.property(workload, settings, (x, s) => {
      const { object, report } = injectObject(x, s.values, { nativeSidecar: s.native });
      assert.ok(validateWorkload(object));
      if (report.action === 'skipped') return;
      const text = fastStringify(object);
      assert.deepStrictEqual(parse(text), object, 'the yaml package reads back what we wrote');
      assert.deepStrictEqual(fastParse(text), object, 'the fast path reads back what we wrote');
    }),
    { numRuns: 100 },
  );
});
