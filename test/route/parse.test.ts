import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseBackendWeights,
  parseHeaderMatch,
  parseHeaderMatches,
  parsePathMatch,
  parsePercentFlag,
  parseRetryOn,
  parseSteps,
  parseWeight,
} from '../../src/route/parse.ts';
import { validateCanaryOptions, type RawCanaryFlags } from '../../src/route/options.ts';
import type { MeshError } from '../../src/errors.ts';

const usage = (fn: () => unknown, message: RegExp) =>
  assert.throws(fn, (e: MeshError) => {
    assert.equal(e.exitCode, 2, `exit code for ${e.message}`);
    assert.match(e.message, message);
    return true;
  });

test('duration flags name themselves when refused; a bare number says which unit to add', () => {
  const raw: RawCanaryFlags = { canary: 'web-v2', steps: '5,100' };
  assert.equal(validateCanaryOptions('web', { ...raw, maxP99: '0.5s' }).gates.maxP99Ms, 500);
  usage(() => validateCanaryOptions('web', { ...raw, maxP99: '300' }), /^--max-p99 300: add a unit, e.g. 300s or 300m$/);
  usage(() => validateCanaryOptions('web', { ...raw, interval: '1m 30s' }), /^--interval "1m 30s" is not a duration$/);
  usage(() => validateCanaryOptions('web', { ...raw, timeout: '-1s' }), /^--timeout "-1s" is negative/);
});

test('percentages: 1% and 0.5% and a bare 5 mean percent; over 100 or junk is refused', () => {
  const table: [string, number][] = [['1%', 1], ['0.5%', 0.5], ['5', 5], ['100%', 100], ['0%', 0]];
  for (const [v, p] of table) assert.equal(parsePercentFlag('--max-error-rate', v), p, v);
  for (const bad of ['101%', '-1%', 'one', '1%%', '']) usage(() => parsePercentFlag('--max-error-rate', bad), /--max-error-rate/);
});

test('steps must be increasing weights 1..100', () => {
  assert.deepEqual(parseSteps('5,25,50,100'), [5, 25, 50, 100]);
  assert.deepEqual(parseSteps(' 10 , 20 '), [10, 20]);
  usage(() => parseSteps('5,5,10'), /must increase/);
  usage(() => parseSteps('50,25'), /must increase/);
  usage(() => parseSteps('0,50'), /at least 1/);
  usage(() => parseSteps('5,,10'), /empty step/);
  usage(() => parseSteps('5,120'), /more than 100/);
  usage(() => parseSteps('5,abc'), /not a whole number/);
});

test('weights and BACKEND=WEIGHT lists must be whole percentages summing to 100', () => {
  assert.equal(parseWeight('--weight', '10'), 10);
  usage(() => parseWeight('--weight', '10.5'), /not a whole number/);
  assert.deepEqual(parseBackendWeights(['web=90', 'web-v2=10']), [{ backend: 'web', weight: 90 }, { backend: 'web-v2', weight: 10 }]);
  assert.deepEqual(parseBackendWeights(['web-v2=100']), [{ backend: 'web-v2', weight: 100 }]);
  usage(() => parseBackendWeights(['web=90', 'web-v2=20']), /add up to 110/);
  usage(() => parseBackendWeights(['web']), /not BACKEND=WEIGHT/);
  usage(() => parseBackendWeights(['Web=100']), /not a Service name/);
  usage(() => parseBackendWeights(['web=50', 'web=50']), /twice/);
  usage(() => parseBackendWeights([]), /at least one/);
});

test('matches, retry conditions and duration formatting', () => {
  assert.deepEqual(parseHeaderMatch('X-Canary=true'), { name: 'x-canary', value: 'true' });
  assert.deepEqual(parseHeaderMatch('x-user=a=b'), { name: 'x-user', value: 'a=b' });
  usage(() => parseHeaderMatch('=true'), /NAME=VALUE/);
  usage(() => parseHeaderMatch('x canary=true'), /NAME=VALUE/);
  assert.deepEqual(parsePathMatch('/api'), { type: 'PathPrefix', value: '/api' });
  assert.deepEqual(parsePathMatch('=/login'), { type: 'Exact', value: '/login' });
  usage(() => parsePathMatch('api'), /must start with "\/"/);
});

test('route flags the official HTTPRoute CRD would reject are refused by name, before anything is written', () => {
  // Each of these was written into an HTTPRoute the API server then rejected.
  for (const path of ['/a//b', '/a#b', '/a b', '/a?b', '/a/./b', '/a/../b', '/a/..', '/a%2Fb', `/${'x'.repeat(1024)}`]) {
    usage(() => parsePathMatch(path), /^--match-path .*: the path /);
    usage(() => parsePathMatch(`=${path}`), /^--match-path /);
  }
  usage(() => parseHeaderMatch('x-canary='), /--match-header x-canary: the value must not be empty/);
  usage(() => parseHeaderMatch('x-canary=a\r\nx-evil: 1'), /must not contain CR, LF or NUL/);
  usage(() => parseHeaderMatch(`x-big=${'v'.repeat(4097)}`), /longer than 4096/);
  usage(() => parseHeaderMatches(['X-Canary=a', 'x-canary=b']), /--match-header x-canary is given twice/);
  assert.deepEqual(parseHeaderMatches(['x-a=1', 'x-b=2']).map((h) => h.name), ['x-a', 'x-b']);
  assert.deepEqual(parsePathMatch('/api/v1.2/~user'), { type: 'PathPrefix', value: '/api/v1.2/~user' });
  assert.deepEqual(parseRetryOn('5xx, reset,unavailable'), ['5xx', 'reset', 'unavailable']);
  usage(() => parseRetryOn('5xx,sometimes'), /"sometimes" is not a retry condition/);
});

test('validateCanaryOptions: table of accepted and refused flag sets', () => {
  const ok = validateCanaryOptions('web', { canary: 'web-v2', steps: '5,25,50,100', interval: '30s', maxErrorRate: '1%', maxP99: '300ms', retries: '2', perTryTimeout: '500ms', retryOn: '5xx', faultAbort: '503', faultAbortPercent: '5', faultDelay: '100ms', faultDelayPercent: '10', matchHeader: ['x-canary=true'], mirror: 'web-shadow', timeout: '2s' });
  assert.deepEqual(ok.steps, [5, 25, 50, 100]);
  assert.equal(ok.intervalMs, 30_000);
  assert.deepEqual(ok.gates, { maxErrorRatePercent: 1, maxP99Ms: 300 });
  assert.deepEqual(ok.retry, { attempts: 2, perTryTimeoutMs: 500, retryOn: ['5xx'] });
  assert.deepEqual(ok.fault, { delay: { fixedDelayMs: 100, percent: 10 }, abort: { httpStatus: 503, percent: 5 } });
  assert.deepEqual(ok.matchHeaders, [{ name: 'x-canary', value: 'true' }]);
  assert.equal(ok.timeoutMs, 2000);
  assert.equal(validateCanaryOptions('web', { canary: 'web-v2', weight: '10' }).intervalMs, 60_000);
  assert.deepEqual(validateCanaryOptions('web', { canary: 'web-v2', weight: '0', faultAbort: '500' }).fault, { abort: { httpStatus: 500, percent: 100 } });

  const refused: [RawCanaryFlags, RegExp][] = [
    [{ weight: '10' }, /--canary is required/],
    [{ canary: 'web-v2' }, /give --weight PERCENT or --steps LIST/],
    [{ canary: 'web-v2', weight: '10', steps: '5,10' }, /cannot be used together/],
    [{ canary: 'web', weight: '10' }, /is the stable backend too/],
    [{ canary: 'web-v2', weight: '10', maxErrorRate: '1%' }, /--max-error-rate needs --steps/],
    [{ canary: 'web-v2', weight: '10', interval: '1m' }, /--interval needs --steps/],
    [{ canary: 'web-v2', weight: '10', perTryTimeout: '1s' }, /--per-try-timeout needs --retries/],
    [{ canary: 'web-v2', weight: '10', retries: 'lots' }, /--retries "lots"/],
    [{ canary: 'web-v2', weight: '10', faultAbortPercent: '5' }, /--fault-abort-percent needs --fault-abort/],
    [{ canary: 'web-v2', weight: '10', faultAbort: '42' }, /not an HTTP status/],
    [{ canary: 'web-v2', weight: '10', mirror: 'web-v2' }, /already receives traffic/],
    [{ canary: 'web-v2', weight: '10', port: '70000' }, /not a port number/],
    [{ canary: 'Web_V2', weight: '10' }, /not a Service name/],
  ];
  for (const [flags, msg] of refused) usage(() => validateCanaryOptions('web', flags), msg);
});
