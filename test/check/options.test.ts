import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateCheckOptions, type RawCheckOptions } from '../../src/checks/options.ts';

test('validateCheckOptions: modes, defaults and every rejected combination', () => {
  const base: RawCheckOptions = { output: 'table' };
  const ok: [RawCheckOptions, Partial<ReturnType<typeof validateCheckOptions>>][] = [
    [base, { mode: 'post', failOn: 'error', outputThreshold: 'info', waitMs: 0, timeoutMs: 20_000 }],
    [{ ...base, pre: true }, { mode: 'pre' }],
    [{ ...base, filename: ['k8s/'], recursive: true }, { mode: 'files', filenames: ['k8s/'], recursive: true }],
    [{ ...base, wait: '1m30s', timeout: '5s', failOn: 'WARNING', outputThreshold: 'error' }, { waitMs: 90_000, timeoutMs: 5000, failOn: 'warning', outputThreshold: 'error' }],
    [{ ...base, suppress: ['MSH0010=Service/*/*'] }, { suppress: [{ code: 'MSH0010', kind: 'Service', namespace: '*', name: '*' }] }],
  ];
  for (const [raw, want] of ok) {
    const got = validateCheckOptions(raw);
    for (const [k, v] of Object.entries(want)) assert.deepEqual(got[k as keyof typeof got], v, `${JSON.stringify(raw)} ${k}`);
  }
  const bad: [RawCheckOptions, RegExp][] = [
    [{ ...base, pre: true, filename: ['a.yaml'] }, /--pre and -f/],
    [{ ...base, recursive: true }, /-R needs -f/],
    [{ ...base, filename: ['a'], wait: '1m' }, /--wait cannot be used with -f/],
    [{ ...base, wait: 'soon' }, /--wait "soon" is not a duration/],
    // A bare number was seconds here and an error in `mesh route`; now an error everywhere.
    [{ ...base, wait: '5' }, /^--wait 5: add a unit, e.g. 5s or 5m$/],
    [{ ...base, timeout: '0s' }, /--timeout must be longer than zero/],
    [{ ...base, failOn: 'info' }, /--fail-on "info"/],
    [{ ...base, outputThreshold: 'debug' }, /--output-threshold "debug"/],
    [{ ...base, suppress: ['MSH0010'] }, /--suppress/],
  ];
  for (const [raw, re] of bad) {
    assert.throws(() => validateCheckOptions(raw), (e: Error & { exitCode?: number }) => re.test(e.message) && e.exitCode === 2, JSON.stringify(raw));
  }
});
