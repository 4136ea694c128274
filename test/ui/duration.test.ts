import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseGoDuration } from '../../src/duration.ts';

const cases: [string, number | undefined][] = [
  ['1h', 3_600_000], ['30s', 30_000], ['500ms', 500], ['1m30s', 90_000], ['1h30m', 5_400_000], ['1.5s', 1500], ['0s', 0],
  ['', undefined], ['5', undefined], ['1d', undefined], ['1m 30s', undefined], [' 1s', undefined], ['1s ', undefined], ['-1s', undefined], ['s', undefined], ['1sx', undefined],
];
for (const [input, want] of cases) {
  test(`parseGoDuration(${JSON.stringify(input)}) = ${want}`, () => assert.equal(parseGoDuration(input), want));
}
