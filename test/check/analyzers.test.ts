import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { loadObjects } from '../../src/cluster/files.ts';
import { ALL_CODES, analyze, parseSuppressRule, type SourcedObject } from '../../src/analyzers/index.ts';
import { validateAnnotation } from '../../src/analyzers/annotations.ts';
import { servicesNamedIn } from '../../src/analyzers/services.ts';
import { ROOT } from '../support/cli.ts';
import { readGolden } from '../support/golden.ts';

const FIXTURES = join(ROOT, 'test/fixtures/check');

async function load(dir: string): Promise<SourcedObject[]> {
  const loaded = await loadObjects([dir], { recursive: true });
  return loaded.map((l) => ({ object: l.object, location: { file: l.source.slice(ROOT.length), line: l.line } }));
}

// Every code has a fixture directory that makes it fire; the golden file pins every finding
// (code, resource, file, line, message). UPDATE_GOLDEN=1 rewrites them.
for (const { code } of ALL_CODES) {
  test(`fixture ${code} fires ${code} (golden ${code}.golden.yaml)`, async () => {
    const dir = join(FIXTURES, code);
    assert.ok(existsSync(dir), `missing fixture directory test/fixtures/check/${code}/`);
    const { findings } = analyze(await load(dir));
    assert.ok(findings.some((f) => f.code === code), `${code} did not fire: ${JSON.stringify(findings)}`);
    for (const f of findings.filter((x) => x.code === code)) {
      assert.ok(f.file && f.line && f.line > 0, `${code} finding has no file/line`);
    }
    assert.deepEqual(findings, parse(readGolden(join(FIXTURES, `${code}.golden.yaml`), stringify(findings, { lineWidth: 0, aliasDuplicateObjects: false }))));
  });
}

test('the fixture directories cover exactly the documented codes', () => {
  const dirs = readdirSync(FIXTURES, { withFileTypes: true }).filter((d) => d.isDirectory() && /^MSH\d{4}$/.test(d.name)).map((d) => d.name).sort();
  assert.deepEqual(dirs, ALL_CODES.map((c) => c.code));
});

test('examples/shop (and the clean fixture) produce no findings at all', async () => {
  for (const dir of [join(ROOT, 'examples/shop'), join(FIXTURES, 'clean')]) {
    const r = analyze(await load(dir));
    assert.deepEqual(r.findings, [], dir);
    assert.ok(r.objects > 10, 'the example must actually be read');
  }
});

test('a finding names the line of its document, not of the file', async () => {
  const { findings } = analyze(await load(join(FIXTURES, 'MSH0006')));
  const f = findings.find((x) => x.code === 'MSH0006' && x.resource.kind === 'HTTPRoute')!;
  assert.equal(f.resource.name, 'web-b', 'the newer route loses precedence and is reported');
  const text = readFileSync(join(ROOT, f.file!), 'utf8').split('\n');
  assert.match(text.slice(f.line! - 1, f.line! + 2).join('\n'), /web-b/);
});

test('suppression: the mesh.dev/check-suppress annotation and --suppress rules with wildcards', async () => {
  const objects = await load(join(FIXTURES, 'suppressed'));
  const plain = analyze(objects);
  assert.deepEqual(plain.findings.map((f) => f.code), ['MSH0011']);
  assert.equal(plain.suppressed, 1, 'the annotated Service hides its MSH0010');
  const rule = parseSuppressRule('MSH0011=Deployment/shop/work*');
  assert.equal(typeof rule, 'object');
  const r = analyze(objects, { suppress: [rule as Exclude<typeof rule, string>] });
  assert.deepEqual(r.findings, []);
  assert.equal(r.suppressed, 2);
  const other = parseSuppressRule('MSH0011=Deployment/other/*');
  assert.equal(analyze(objects, { suppress: [other as Exclude<typeof other, string>] }).findings.length, 1, 'a rule for another namespace suppresses nothing');
});

test('parseSuppressRule accepts CODE=kind/ns/name and CODE=kind/name, rejects the rest', () => {
  const cases: [string, string | object][] = [
    ['MSH0001=HTTPRoute/shop/web', { code: 'MSH0001', kind: 'HTTPRoute', namespace: 'shop', name: 'web' }],
    ['msh00*=*/*/*', { code: 'MSH00*', kind: '*', namespace: '*', name: '*' }],
    ['*=Namespace/shop', { code: '*', kind: 'Namespace', namespace: '', name: 'shop' }],
    ['MSH0001', 'not CODE='],
    ['XYZ=Service/a/b', 'not a finding code'],
    ['MSH0001=Service', 'not kind/namespace/name'],
    ['MSH0001=a/b/c/d', 'not kind/namespace/name'],
  ];
  for (const [input, want] of cases) {
    const got = parseSuppressRule(input);
    if (typeof want === 'string') assert.match(String(got), new RegExp(want), input);
    else assert.deepEqual(got, want, input);
  }
});

test('validateAnnotation: known keys, invalid values, typos with suggestions', () => {
  const cases: [string, string, string | undefined][] = [
    ['mesh.dev/inject', 'enabled', undefined],
    ['mesh.dev/inject', 'true', 'invalid'],
    ['mesh.dev/mtls', 'strict', undefined],
    ['mesh.dev/mtls', 'ON', 'invalid'],
    ['mesh.dev/exclude-outbound-ip-ranges', '10.0.0.0/8, 192.168.0.0/16', undefined],
    ['mesh.dev/exclude-outbound-ip-ranges', '10.0.0.0', 'invalid'],
    ['mesh.dev/proxy-cpu', '250m', undefined],
    ['mesh.dev/proxy-memory', '128Mi', undefined],
    ['mesh.dev/outlier-detection', '{"consecutive5xx": 5}', undefined],
    ['mesh.dev/outlier-detection', '[1]', 'invalid'],
    ['mesh.dev/outlier-detection', '{"interval": "10s", "baseEjectionTime": "1m30s"}', undefined],
    ['mesh.dev/retry', '{"attempts": 2, "perTryTimeout": "1.5s"}', undefined],
    ['mesh.dev/fault', '{"delay": {"fixedDelay": "100ms"}}', undefined],
    ['mesh.dev/check-suppress', 'MSH0001, MSH0010', undefined],
    ['mesh.dev/check-suppress', 'IST0101', 'invalid'],
    ['mesh.dev/reachable-namespaces', 'shop,payments', undefined],
    ['mesh.dev/reachable-namespaces', 'Shop_1', 'invalid'],
    ['mesh.dev/injection', 'enabled', 'unknown'],
  ];
  for (const [k, v, want] of cases) assert.equal(validateAnnotation(k, v)?.code, want, `${k}=${v}`);
  // Durations inside the JSON annotations read the one grammar, as the model reads them.
  const durations: [string, string, RegExp][] = [
    ['mesh.dev/retry', '{"perTryTimeout": "2"}', /^perTryTimeout 2: add a unit, e\.g\. 2s or 2m$/],
    ['mesh.dev/retry', '{"backoff": 25}', /^backoff 25 is not a duration string/],
    ['mesh.dev/fault', '{"delay": {"fixedDelay": "soon"}}', /^delay\.fixedDelay "soon" is not a duration$/],
    ['mesh.dev/outlier-detection', '{"interval": "-1s"}', /^interval "-1s" is negative/],
  ];
  for (const [k, v, reason] of durations) {
    const r = validateAnnotation(k, v);
    assert.match(r?.code === 'invalid' ? r.reason : String(r?.code), reason, `${k}=${v}`);
  }
  const typo = validateAnnotation('mesh.dev/proxy-memroy', '1Gi');
  assert.equal(typo?.code === 'unknown' ? typo.suggestion : undefined, 'mesh.dev/proxy-memory');
});

test('servicesNamedIn: FQDNs, short name.ns and same-namespace URLs of known Services only', () => {
  const known = new Map([['shop/catalog', 1], ['shop/redis', 1], ['pay/api', 1]]);
  const cases: [string, string, string[]][] = [
    ['http://catalog.shop.svc.cluster.local:8080', 'web', ['shop/catalog']],
    ['redis.shop:6379', 'web', ['shop/redis']],
    ['http://catalog:8080/items', 'shop', ['shop/catalog']],
    ['http://catalog:8080/items', 'other', []],
    ['https://api.pay.svc/x and http://www.example.com', 'shop', ['pay/api']],
    ['catalog', 'shop', []],
  ];
  for (const [text, ns, want] of cases) assert.deepEqual(servicesNamedIn(text, ns, known), want, text);
});

test('analysis is deterministic whatever the input order', async () => {
  for (const { code } of ALL_CODES) {
    const objects = await load(join(FIXTURES, code));
    const a = analyze(objects).findings;
    assert.deepEqual(analyze([...objects].reverse()).findings, a, code);
    assert.ok(a.length > 0);
  }
});
