import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildReport } from '../../src/checks/report.ts';
import type { RanCheck } from '../../src/checks/index.ts';
import type { Finding } from '../../src/analyzers/index.ts';
import { renderJunit, renderSarif, renderTable } from '../../src/ui/render/index.ts';
import { makeColor } from '../../src/ui/color.ts';
import { parseXml } from './xml.ts';

const finding = (code: string, severity: Finding['severity'], file?: string): Finding => ({
  code,
  severity,
  message: `problem <${code}> & "quotes"`,
  resource: { kind: 'HTTPRoute', namespace: 'shop', name: 'web' },
  ...(file ? { file, line: 7 } : {}),
});

function ran(id: string, status: RanCheck['result']['status'], extra: Partial<RanCheck['result']> = {}, findings?: Finding[]): RanCheck {
  const category = id.split('.')[0]!;
  return {
    result: { id, category, description: `${id} ok`, severity: 'error', status, message: `${id} says ${status}`, docs: `docs/checks.md#${id.replace('.', '-')}`, durationMs: 12, ...extra },
    outcome: { status, message: '', findings },
    retryable: status === 'fail' || status === 'warn',
  };
}

const sample = (): RanCheck[] => [
  ran('kubernetes-api.reachable', 'pass'),
  ran('control-plane.pods-ready', 'fail', { hint: 'describe the pod', details: ['mesh-controller-1 is not ready'] }),
  ran('control-plane.version', 'warn', { severity: 'warning' }),
  ran('dns.service-resolution', 'skip', { reason: 'forbidden' }),
  ran('policy.analysis', 'fail', {}, [finding('MSH0003', 'error', 'k8s/route.yaml'), finding('MSH0010', 'warning'), finding('MSH0011', 'info', 'k8s/app.yaml')]),
];

test('buildReport: counts, threshold hides but still decides, exit code', () => {
  const r = buildReport('post', sample(), { failOn: 'error', outputThreshold: 'warning' });
  assert.deepEqual(r.summary.checks, { passed: 1, warnings: 1, failed: 2, skipped: 1 });
  assert.deepEqual(r.summary.findings, { error: 1, warning: 1, info: 0 });
  assert.equal(r.summary.hidden, 1);
  assert.equal(r.exitCode, 1);
  assert.equal(r.ok, false);
  const onlyWarn = buildReport('files', [ran('policy.analysis', 'warn', {}, [finding('MSH0010', 'warning')])], { failOn: 'error', outputThreshold: 'info' });
  assert.equal(onlyWarn.exitCode, 0);
  const strict = buildReport('files', [ran('policy.analysis', 'warn', {}, [finding('MSH0010', 'warning')])], { failOn: 'warning', outputThreshold: 'error' });
  assert.equal(strict.exitCode, 1, '--fail-on warning fails even when the threshold hides the warning');
  assert.equal(strict.findings.length, 0);
});

test('buildReport: exit 3 only when nothing could run', () => {
  const down = [ran('kubernetes-api.reachable', 'fail', { reason: 'unreachable' }), ran('dns.cluster-dns', 'fail', { reason: 'unreachable' })];
  assert.equal(buildReport('post', down, { failOn: 'error', outputThreshold: 'info' }).exitCode, 3);
  assert.equal(buildReport('post', [...down, ran('x.ok', 'pass')], { failOn: 'error', outputThreshold: 'info' }).exitCode, 1);
});

test('table: grouped by category with ✔ ‼ ✖ symbols, hints and docs links; no colour codes when off', () => {
  const out = renderTable(buildReport('post', sample(), { failOn: 'error', outputThreshold: 'info' }), makeColor(false));
  assert.match(out, /^kubernetes-api\n-{14}\n✔ kubernetes-api\.reachable ok/m);
  assert.match(out, /control-plane\n-{13}\n✖ control-plane\.pods-ready ok: control-plane\.pods-ready says fail\n {4}mesh-controller-1 is not ready\n {4}hint: describe the pod\n {4}see docs\/checks\.md#control-plane-pods-ready/);
  assert.match(out, /‼ control-plane\.version ok/);
  assert.match(out, /○ dns\.service-resolution ok/);
  assert.match(out, /✖ MSH0003 HTTPRoute shop\/web \(k8s\/route\.yaml:7\): problem <MSH0003> & "quotes"\n {4}hint: fix the backendRef or create the Service/);
  assert.match(out, /Status check results are ✖/);
  assert.ok(!out.includes("\u001b["), "no ANSI codes");
  const coloured = renderTable(buildReport('post', sample(), { failOn: 'error', outputThreshold: 'info' }), makeColor(true));
  assert.ok(coloured.includes("\u001b[31m✖"), "red failure symbol");
});

test('junit: well-formed XML whose counts agree with the results and the exit code', () => {
  for (const failOn of ['error', 'warning'] as const) {
    const report = buildReport('post', sample(), { failOn, outputThreshold: 'info' });
    const els = parseXml(renderJunit(report));
    const root = els[0]!;
    assert.equal(root.name, 'testsuites');
    const cases = els.filter((e) => e.name === 'testcase');
    assert.equal(cases.length, 5 + 3, 'one testcase per check and per finding');
    assert.equal(Number(root.attrs.tests), cases.length);
    const failures = els.filter((e) => e.name === 'failure').length;
    // error: 2 failed checks + the error finding; warning adds the warned check and the warning finding.
    assert.equal(failures, failOn === 'error' ? 3 : 5);
    assert.equal(Number(root.attrs.failures), failures);
    assert.equal(Number(root.attrs.skipped), 1);
    const suites = els.filter((e) => e.name === 'testsuite');
    assert.equal(suites.reduce((a, s) => a + Number(s.attrs.tests), 0), cases.length);
    assert.ok(cases.some((c) => c.attrs.name === 'MSH0003 HTTPRoute shop/web (k8s/route.yaml:7)'));
    assert.ok(els.some((e) => e.name === 'failure' && e.attrs.message === 'problem <MSH0003> & "quotes"'), 'attributes are escaped and round-trip');
  }
});

test('junit: an all-pass run has no failures', () => {
  const els = parseXml(renderJunit(buildReport('files', [ran('policy.analysis', 'pass')], { failOn: 'error', outputThreshold: 'info' })));
  assert.equal(els[0]!.attrs.failures, '0');
  assert.equal(els[0]!.attrs.tests, '1');
});

test('sarif: 2.1.0 shape, every code a rule, results with ruleId, level and locations', () => {
  const doc = JSON.parse(renderSarif(buildReport('post', sample(), { failOn: 'error', outputThreshold: 'info' })));
  assert.equal(doc.version, '2.1.0');
  assert.match(doc.$schema, /sarif-2\.1\.0/);
  assert.equal(doc.runs.length, 1);
  const run = doc.runs[0];
  const rules = run.tool.driver.rules as { id: string; helpUri: string }[];
  assert.ok(rules.some((r) => r.id === 'MSH0013'));
  assert.ok(rules.every((r) => /#[a-z0-9-]+$/.test(r.helpUri)));
  assert.ok(rules.filter((r) => r.id.startsWith('MSH')).every((r) => (r as { help?: { text: string } }).help?.text), 'every code carries its hint');
  const byRule = Object.fromEntries((run.results as any[]).map((r) => [r.ruleId, r]));
  const r3 = byRule.MSH0003;
  assert.equal(r3.level, 'error');
  assert.equal(rules[r3.ruleIndex]!.id, 'MSH0003');
  assert.deepEqual(r3.locations[0].physicalLocation, { artifactLocation: { uri: 'k8s/route.yaml' }, region: { startLine: 7 } });
  assert.equal(r3.locations[0].logicalLocations[0].fullyQualifiedName, 'HTTPRoute/shop/web');
  assert.equal(byRule.MSH0010.level, 'warning');
  assert.equal(byRule.MSH0010.locations[0].physicalLocation, undefined, 'no file, no physical location');
  assert.equal(byRule.MSH0011.level, 'note');
  assert.equal(byRule['control-plane.pods-ready'].level, 'error');
  assert.equal(byRule['control-plane.version'].level, 'warning');
  assert.equal(byRule['kubernetes-api.reachable'], undefined, 'passing checks are not results');
  for (const r of run.results) assert.equal(rules[r.ruleIndex]!.id, r.ruleId);
});
