import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parse, stringify } from 'yaml';
import { fastParse, fastStringify, NOT_SIMPLE } from '../../src/cluster/fast-yaml.ts';

// The fast path must agree with the `yaml` package wherever it answers (and say NOT_SIMPLE elsewhere).
const agrees = (text: string) => {
  const fast = fastParse(text);
  if (fast === NOT_SIMPLE) return false;
  assert.deepStrictEqual(fast, parse(text), `fastParse disagrees with yaml on:\n${text}`);
  return true;
};

const TRICKY = [
  'yes', 'no', 'on', 'off', 'y', 'N', '~', 'null', 'Null', 'true', 'FALSE', '1.0', '0x1F', '0o17', '.inf', '-.Inf', '.NaN', '-', '- a', 'a: b', 'a:b', '#x',
  'a #b', 'a#b', '', ' lead', 'trail ', '@x', '"q"', "'s'", 'multi\nline\n', 'multi\nline', '\n', 'x\n\n', '  x\ny', 'a\ttab', '---', '...', '08', '1_000',
  '1:20', '=', '<<', '123', '-5', '+5', '1e3', '3.', '.5', 'http://x:80/a', 'é ü 日本', '\u2028', '\u0085', '\u007f', 'key: "v"', '{a}', '[a]', '*ref', '&a', '!tag',
  '%x', '|', '>', '? x', ': x', 'a\n b', 'tail\n  ', '\ttab', '\\', 'x\\ny',
];
const scalar = fc.oneof(fc.constantFrom(...TRICKY), fc.string(), fc.string({ unit: 'binary-ascii' }), fc.string({ unit: 'grapheme' }), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null));
const key = fc.oneof(fc.constantFrom(...TRICKY), fc.string(), fc.constantFrom('app.kubernetes.io/name', 'name', '8080', 'a b'));
const data = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small' }, scalar, tie('arr'), tie('obj')),
  arr: fc.array(tie('node'), { maxLength: 4 }),
  obj: fc.dictionary(key, tie('node'), { maxKeys: 4 }),
})).node.map((x) => JSON.parse(JSON.stringify(x)) as unknown);

test('fastStringify: the yaml package and fastParse read back exactly the data written', () => {
  fc.assert(
    fc.property(data, (x) => {
      const text = fastStringify(x);
      assert.deepStrictEqual(parse(text), x, text);
      const fast = fastParse(text);
      if (fast !== NOT_SIMPLE) assert.deepStrictEqual(fast, x, text);
    }),
    { numRuns: 1000 },
  );
});

test('fastParse agrees with the yaml package on YAML written by the yaml package, in every style', () => {
  let answered = 0;
  fc.assert(
    fc.property(data, fc.constantFrom('block', 'flow', 'json'), (x, style) => {
      const text = style === 'json' ? JSON.stringify(x, null, 2) : stringify(x, style === 'flow' ? { collectionStyle: 'flow' } : {});
      if (agrees(text)) answered++;
    }),
    { numRuns: 1000 },
  );
  assert.ok(answered > 300, `the fast path answered only ${answered} of 1000`);
});

const CASES: [string, string][] = [
  ['kubectl style', 'a:\n- b\n- c: 1\n  d: [x, "y", \'z\']\ne: {f: g, h: 8080}\n'],
  ['comments everywhere', '# top\na: 1 # one\n# mid\nb:   # empty\n  c: d#notcomment\n'],
  ['nested sequences', 'a:\n  - - 1\n    - 2\n  -\n    - 3\n'],
  ['literal blocks', 'a: |\n  line 1\n\n  # not a comment\n  line 3\nb: |-\n  x\n  y\nc: 1\n'],
  ['a null value and an empty document', 'a:\nb: ~\n'],
  ['CRLF line ends', 'a: 1\r\nb:\r\n  - x\r\n'],
  ['quoted keys and escapes', '"a b": "x\\ty\\u00e9"\n\'c\'\'d\': \'e\'\'f\'\n'],
  ['numbers', 'a: 0.5\nb: -3\nc: 1e3\nd: 007\n'],
];
for (const [name, text] of CASES) test(`fastParse answers and agrees: ${name}`, () => assert.ok(agrees(text)));

const FALLBACK: [string, string][] = [
  ['anchors and aliases', 'a: &x 1\nb: *x\n'],
  ['folded block', 'a: >\n  x\n  y\n'],
  ['multi-line plain scalar', 'a: one\n  two\n'],
  ['duplicate keys', 'a: 1\na: 2\n'],
  ['tags', 'a: !!str 1\n'],
  ['bad indentation', 'a:\n  b: 1\n c: 2\n'],
  ['tab indentation', 'a:\n\tb: 1\n'],
  ['unterminated flow', 'a: [1, 2\n'],
];
for (const [name, text] of FALLBACK) test(`fastParse leaves it to the yaml package: ${name}`, () => assert.equal(fastParse(text), NOT_SIMPLE));

test('fastStringify is deterministic and kubectl-shaped', () => {
  // "n" is quoted: kubectl's YAML 1.1 reader would take a plain n for false.
  const o = { kind: 'X', list: [{ name: 'a', v: 'yes' }, 'plain'], empty: {}, none: [], n: null, multi: 'a\nb\n' };
  const text = fastStringify(o);
  assert.equal(text, 'kind: X\nlist:\n- name: a\n  v: "yes"\n- plain\nempty: {}\nnone: []\n"n": null\nmulti: |\n  a\n  b\n');
  assert.equal(fastStringify(structuredClone(o)), text);
});
