import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULTS, diffFromDefaults, parseSet, PROFILES, resolveValues, validateOverride, valuePaths } from '../../src/manifests/values.ts';
import type { MeshError } from '../../src/errors.ts';

const fails = (fn: () => unknown, message: RegExp, hint?: RegExp) =>
  assert.throws(fn, (e: MeshError) => {
    assert.equal(e.exitCode, 2);
    assert.match(e.message, message);
    if (hint) assert.match(e.hint ?? '', hint);
    return true;
  });

test('defaults resolve with no input and are not shared with the result', () => {
  const v = resolveValues();
  assert.deepEqual(v, DEFAULTS);
  v.controller.replicas = 9;
  assert.equal(DEFAULTS.controller.replicas, 1);
});

test('profiles: ha has 3 replicas, a PDB and anti-affinity; demo is PERMISSIVE with debug logs', () => {
  const ha = resolveValues({ profile: 'ha' });
  assert.equal(ha.controller.replicas, 3);
  assert.equal(ha.controller.podDisruptionBudget, true);
  assert.equal(ha.controller.antiAffinity, true);
  const demo = resolveValues({ profile: 'demo' });
  assert.equal(demo.mtls.mode, 'PERMISSIVE');
  assert.equal(demo.proxy.logLevel, 'debug');
  assert.deepEqual(PROFILES.map((p) => p.name), ['default', 'minimal', 'demo', 'ha']);
});

test('an unknown profile suggests the closest one', () => {
  fails(() => resolveValues({ profile: 'demmo' }), /unknown profile "demmo"/, /did you mean "demo"/);
});

test('order: profile < files (in order) < --set (in order)', () => {
  const v = resolveValues({
    profile: 'ha',
    files: [
      { source: 'a.yaml', values: { controller: { replicas: 5 }, trustDomain: 'a.example' } },
      { source: 'b.yaml', values: { controller: { replicas: 7 } } },
    ],
    sets: ['controller.replicas=4', 'controller.replicas=6'],
  });
  assert.equal(v.controller.replicas, 6);
  assert.equal(v.trustDomain, 'a.example');
  assert.equal(v.controller.podDisruptionBudget, true, 'profile values not overridden survive');
});

test('--set types values by the key: numbers, booleans, strings', () => {
  assert.deepEqual(parseSet('controller.replicas=3'), { controller: { replicas: 3 } });
  assert.deepEqual(parseSet('proxy.holdApplicationUntilProxyStarts=false'), { proxy: { holdApplicationUntilProxyStarts: false } });
  assert.deepEqual(parseSet('proxy.image=envoy:dev=1'), { proxy: { image: 'envoy:dev=1' } }, 'only the first = splits');
});

const bad: [string, () => unknown, RegExp, RegExp?][] = [
  ['a mistyped key names it and suggests the closest', () => resolveValues({ sets: ['controller.replcas=3'] }), /unknown value "controller.replcas"/, /did you mean "controller.replicas"/],
  ['a mistyped top-level key in a file names the file', () => resolveValues({ files: [{ source: 'values.yaml', values: { trustdomain: 'x' } }] }), /^values.yaml: unknown value "trustdomain"/, /did you mean "trustDomain"/],
  ['a key nested too deep', () => resolveValues({ files: [{ source: 'v.yaml', values: { proxy: { image: { repo: 'x' } } } }] }), /value "proxy.image" must be a non-empty string/],
  ['an enum value', () => resolveValues({ sets: ['mtls.mode=strict'] }), /"mtls.mode" must be one of STRICT, PERMISSIVE/],
  ['a number that is not one', () => resolveValues({ sets: ['controller.replicas=three'] }), /"controller.replicas" must be a whole number/],
  ['a port out of range', () => resolveValues({ sets: ['proxy.adminPort=70000'] }), /must be a port from 1 to 65535/],
  ['a bad quantity', () => resolveValues({ sets: ['proxy.resources.limits.memory=lots'] }), /Kubernetes quantity/],
  ['a bad duration', () => resolveValues({ sets: ['ca.workloadCertTTL=1day'] }), /duration/],
  ['--set without =', () => parseSet('controller.replicas'), /expected KEY=VALUE/],
  ['a file that is not a mapping', () => resolveValues({ files: [{ source: 'v.yaml', values: ['a'] }] }), /v.yaml: values must be a mapping/],
];
for (const [name, fn, msg, hint] of bad) test(`bad values: ${name}`, () => fails(fn, msg, hint));

test('diffFromDefaults returns only what differs', () => {
  assert.deepEqual(diffFromDefaults(resolveValues()), {});
  assert.deepEqual(diffFromDefaults(resolveValues({ sets: ['controller.replicas=2', 'mtls.mode=PERMISSIVE'] })), { controller: { replicas: 2 }, mtls: { mode: 'PERMISSIVE' } });
});

test('every value path is documented in docs/values.md', async () => {
  const { readFile } = await import('node:fs/promises');
  const doc = await readFile(new URL('../../docs/values.md', import.meta.url), 'utf8');
  for (const p of valuePaths()) assert.ok(doc.includes(`\`${p}\``), `docs/values.md lacks ${p}`);
});

test('values: only own keys exist, so inherited names and __proto__ are refused as unknown, never crash or pollute', () => {
  for (const expr of ['toString=x', 'constructor.name=x', '__proto__.polluted=1', 'controller.valueOf=x', 'hasOwnProperty=1', 'controller.__proto__.x=1']) {
    assert.throws(() => parseSet(expr), (e: MeshError) => e.exitCode === 2 && /unknown value/.test(e.message), expr);
  }
  for (const file of [{ hasOwnProperty: 1 }, { constructor: { name: 'x' } }, JSON.parse('{"__proto__": {"polluted": 1}}') as unknown]) {
    assert.throws(() => validateOverride(file, 'values.yaml'), (e: MeshError) => e.exitCode === 2 && /values.yaml: unknown value/.test(e.message), JSON.stringify(file));
  }
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('values: trustDomain must be a SPIFFE trust domain and namespace a DNS-1123 label', () => {
  for (const td of ['a b/c', 'a..b', '.cluster.local', 'cluster.local.', 'Cluster.Local', 'clüster.local']) {
    assert.throws(() => parseSet(`trustDomain=${td}`), (e: MeshError) => e.exitCode === 2 && /value "trustDomain" must be a SPIFFE trust domain/.test(e.message), td);
  }
  for (const ns of ['UPPER_case', '-lead', 'a'.repeat(64), 'dots.not.allowed']) {
    assert.throws(() => parseSet(`namespace=${ns}`), (e: MeshError) => e.exitCode === 2 && /value "namespace" must be a Kubernetes namespace name/.test(e.message), ns);
  }
  assert.deepEqual(parseSet('trustDomain=prod.example.com'), { trustDomain: 'prod.example.com' });
  assert.deepEqual(parseSet('namespace=mesh-system'), { namespace: 'mesh-system' });
});
