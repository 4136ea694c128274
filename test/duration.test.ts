// The one duration grammar every flag and annotation reads (src/duration.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { durationValue, formatDuration, GATEWAY_DURATION, parseDuration, parseGatewayDuration, tryParseDuration } from '../src/duration.ts';
import { MeshError } from '../src/errors.ts';

const good: [string, number][] = [
  ['500ms', 500], ['30s', 30_000], ['5m', 300_000], ['1h', 3_600_000], ['1h30m', 5_400_000], ['1m30s', 90_000],
  ['1.5s', 1500], ['.5s', 500], ['1.5h', 5_400_000], ['2h45m10s250ms', 9_910_250], ['0s', 0], ['0', 0], [' 2s ', 2000], ['0.4ms', 0],
];
for (const [input, want] of good) {
  test(`parseDuration(${JSON.stringify(input)}) = ${want} ms`, () => assert.equal(parseDuration(input, '--wait'), want));
}

const bad: [string, RegExp][] = [
  ['5', /^--wait 5: add a unit, e.g. 5s or 5m$/],
  ['1.5', /^--wait 1\.5: add a unit, e.g. 1\.5s or 1\.5m$/],
  ['', /^--wait is empty/],
  ['-1s', /^--wait "-1s" is negative/],
  ['1d', /^--wait "1d" is not a duration$/],
  ['1m 30s', /not a duration/],
  ['s', /not a duration/],
  ['1sx', /not a duration/],
  ['5 minutes', /not a duration/],
  ['1e3s', /not a duration/],
  ['99999999999999999999h', /too long/],
];
for (const [input, message] of bad) {
  test(`parseDuration(${JSON.stringify(input)}) is a usage error`, () => {
    assert.throws(() => parseDuration(input, '--wait'), (e: unknown) => e instanceof MeshError && e.exitCode === 2 && message.test(e.message) && /e\.g\. 500ms/.test(e.hint ?? ''));
  });
}

test('tryParseDuration returns the error instead of throwing', () => {
  assert.equal(tryParseDuration('2s'), 2000);
  const e = tryParseDuration('2', 'perTryTimeout');
  assert.ok(e instanceof MeshError && /^perTryTimeout 2: add a unit/.test(e.message));
});

test('durationValue: JSON/YAML data: absent, a string read by the grammar, or a number refused like a bare flag value', () => {
  assert.equal(durationValue(undefined, 'backoff'), undefined);
  assert.equal(durationValue('25ms', 'backoff'), 25);
  for (const [v, message] of [[25, /^backoff 25 is not a duration string: add a unit, e\.g\. "25ms" or "25s"$/], ['25', /^backoff 25: add a unit/], [true, /^backoff true is not a duration string/]] as const) {
    const e = durationValue(v, 'backoff');
    assert.ok(e instanceof MeshError && e.exitCode === 2 && message.test(e.message), String(v));
  }
});

test('formatDuration writes what users write', () => {
  const table: [number, string][] = [[0, '0s'], [300, '300ms'], [2000, '2s'], [60_000, '1m'], [90_000, '1m30s'], [3_600_000, '1h'], [1500, '1s500ms'], [3_661_001, '1h1m1s1ms']];
  for (const [ms, s] of table) assert.equal(formatDuration(ms), s);
});

test('parseGatewayDuration: the GEP-2257 subset, read by the same parser', () => {
  assert.equal(parseGatewayDuration('1h30m', 'timeouts.request'), 5_400_000);
  assert.equal(parseGatewayDuration('500ms', 'timeouts.request'), 500);
  for (const s of ['1.5s', '123456s', '1h1m1s1ms1ms', '0']) {
    assert.throws(() => parseGatewayDuration(s, 'timeouts.request'), (e: unknown) => e instanceof MeshError && e.exitCode === 2 && /timeouts\.request ".*" is not a Gateway API duration/.test(e.message), s);
  }
  assert.throws(() => parseGatewayDuration('5', 'timeouts.request'), /add a unit/);
});

test('property: any whole number of milliseconds survives format then parse, and formats as a Gateway API duration', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 99_999 * 3_600_000 }), (ms) => {
      const s = formatDuration(ms);
      assert.equal(parseDuration(s), ms);
      assert.match(s, GATEWAY_DURATION);
    }),
  );
});

const part = fc.tuple(fc.oneof(fc.nat({ max: 10_000 }).map(String), fc.tuple(fc.nat({ max: 999 }), fc.nat({ max: 999 })).map(([a, b]) => `${a}.${b}`)), fc.constantFrom('h', 'm', 's', 'ms')).map(([n, u]) => n + u);

test('property: format(parse(x)) is a fixed point for every valid x', () => {
  fc.assert(
    fc.property(fc.array(part, { minLength: 1, maxLength: 4 }).map((ps) => ps.join('')), (x) => {
      const once = formatDuration(parseDuration(x));
      assert.equal(formatDuration(parseDuration(once)), once);
      assert.equal(parseDuration(once), parseDuration(x));
    }),
  );
});

test('property: any string either parses or throws a MeshError, never anything else', () => {
  const alphabet = fc.constantFrom(...'0123456789.hmsd +-µn '.split(''));
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.string({ unit: alphabet })), (x) => {
      try {
        const ms = parseDuration(x);
        assert.ok(Number.isSafeInteger(ms) && ms >= 0);
      } catch (e) {
        assert.ok(e instanceof MeshError, String(e));
      }
    }),
  );
});
