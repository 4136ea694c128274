// toYaml writes manifests with src/cluster/yaml-emit.ts when it can and js-yaml otherwise; every
// output must be byte for byte what js-yaml's dump() writes with the same options.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { dump } from 'js-yaml';
import { DUMP_OPTIONS, toYaml, toYamlByJsYaml } from '../../src/cluster/yaml.ts';
import { YamlEmitter } from '../../src/cluster/yaml-emit.ts';

const reference = (v: unknown) => dump(v, DUMP_OPTIONS);

/** Multi-line strings: block scalars with every chomping, leading blanks (an indentation indicator), blank tails, CRLF. */
const multiLine = fc.oneof(
  fc.constantFrom('a\nb', 'a\nb\n', 'a\nb\n\n', '\n', '\n\n', '\nlead', '  indented\nx', 'x\n  more\n', 'x\n \n', 'x\n\t', 'crlf\r\nline', 'cr\ronly', 'a\n\u0085b', 'tab\tx\ny', '- a\n- b', 'k: v\nk2: v2', '# c\nx', 'x\n# c\n', "set -e\n{ exec 3<>/dev/tcp/127.0.0.1/15000 && printf '%s' x >&3; } 2>/dev/null\nuntil [ $S -ge $e ]; do sleep \"${P:-1}\"; done"),
  fc.array(fc.oneof(fc.string(), fc.constantFrom('', ' ', '  x', '\t', 'y: z', '"')), { minLength: 2, maxLength: 5 }).map((lines) => lines.join('\n')),
);

/** Strings YAML styles in many ways: numbers, booleans, 1.1 look-alikes, indicators, quotes, line breaks, unicode. */
const tricky = fc.oneof(
  fc.string(),
  fc.constantFrom('', ' ', 'null', 'Null', '~', 'true', 'yes', 'NO', 'on', 'y', '1', '0x1F', '1_000', '0.1.0', '1:20', '2001-1-5', '<<', '=', '.inf', '-.5', '1e3', 'e3', '- item', '-', '? x', ': x', 'a: b', 'a #b', '#x', '"q"', "'s'", '[a]', '{a}', 'a,b', '*ref', '&a', '!tag', '%x', '@x', '`x', '|', '>', 'x ', ' x', 'multi\nline', 'trailing\n', '\n', 'crlf\r\n', 'tab\tin', 'é', '日本', '\u2028', '\u0085', 'x'.repeat(1100)),
  fc.constantFrom('8080', '5432', 'http', 'ghcr.io/mesh-dev/mesh:0.1.0', '/app-health/web/readyz', '{"k":[1,2]}'),
);
const key = fc.oneof(fc.string(), tricky);
const data = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, tricky, multiLine, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant(-0), tie('array'), tie('object')),
  array: fc.array(fc.oneof(tie('value'), fc.constant(undefined)), { maxLength: 4 }),
  object: fc.dictionary(key, fc.oneof(tie('value'), fc.constant(undefined)), { maxKeys: 5 }),
}));

test('toYaml writes what js-yaml dump writes, for any JSON-like data (strings of every style, multi-line strings at every depth, nesting, undefined, -0)', () => {
  fc.assert(
    fc.property(data.value, (v) => {
      assert.equal(toYaml(v), toYamlByJsYaml(v));
    }),
    { numRuns: 3000 },
  );
});

test('the emitter writes name-like strings (letters, digits, - _ . /) exactly as js-yaml does: plain, or quoted when YAML would read a boolean, null or number', () => {
  const emitter = new YamlEmitter(DUMP_OPTIONS);
  const words = ['y', 'Y', 'n', 'N', 'yes', 'Yes', 'YES', 'yEs', 'no', 'No', 'on', 'On', 'ON', 'oN', 'off', 'OFF', 'true', 'True', 'tRue', 'false', 'FALSE', 'null', 'Null', 'NULL', 'nULL', 'e', 'E', 'e3', 'E3', 'e-3', 'inf', 'nan', 'Infinity', 'NaN', 'x', 'web-0', 'app.kubernetes.io/name'];
  const nameLike = fc.oneof(
    fc.constantFrom(...words),
    fc.stringMatching(/^[A-Za-z0-9_./-]{1,12}$/),
    fc.tuple(fc.constantFrom(...words), fc.stringMatching(/^[A-Za-z0-9_./-]{0,4}$/)).map(([w, t]) => w + t),
  );
  fc.assert(
    fc.property(nameLike, nameLike, (k, v) => {
      assert.equal(emitter.emit({ [k]: v, list: [v] }), reference({ [k]: v, list: [v] }));
    }),
    { numRuns: 3000 },
  );
  // Written as they are: no quoting, no cache.
  assert.equal(emitter.emit({ name: 'web-0', image: 'ghcr.io/x/web' }), 'name: web-0\nimage: ghcr.io/x/web\n');
  assert.equal(emitter.emit({ a: 'yes', b: 'e3', c: 'On' }), reference({ a: 'yes', b: 'e3', c: 'On' }));
});

test('toYaml: a multi-line string is a block scalar indented by its depth, the same text js-yaml writes at each depth', () => {
  const script = 'until ready; do\n  sleep 1\ndone\n';
  // The emitter itself, so a fall-back to js-yaml cannot hide a difference.
  const emitter = new YamlEmitter(DUMP_OPTIONS);
  let v: unknown = script;
  for (let depth = 0; depth < 8; depth++) {
    assert.equal(emitter.emit(v), reference(v));
    assert.equal(emitter.emit([v, { k: [v] }]), reference([v, { k: [v] }]));
    assert.equal(emitter.emit([v, { k: [v] }]), reference([v, { k: [v] }]), 'the second time, from the cache');
    v = depth % 2 ? { a: v } : [v];
  }
  // A string ending in a line of blanks: the whole document is quoted (toYaml's own rule), not a block scalar.
  assert.equal(toYaml({ a: 'x', b: 'y\n \n' }), 'a: "x"\nb: "y\\n \\n"\n');
});

test('toYaml: a Kubernetes object with the shapes inject writes (sequences level with their key, lists of mappings, empty ones)', () => {
  const pod = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', labels: { app: 'web', 'mesh.dev/proxy-version': '0.1.0' }, annotations: { 'mesh.dev/status': '{"version":"0.1.0"}', empty: '' } },
    spec: {
      replicas: 2,
      template: {
        spec: {
          containers: [{ name: 'web', args: ['--port', '8080'], ports: [{ containerPort: 8080 }], env: [], resources: {} }],
          initContainers: [{ name: 'init', command: [['nested'], []], securityContext: { runAsUser: 1337, privileged: false } }],
          volumes: [{ name: 'v', emptyDir: {} }],
        },
      },
    },
  };
  assert.equal(toYaml(pod), reference(pod));
  assert.equal(toYaml([pod, [], {}, 'x']), reference([pod, [], {}, 'x']));
});

test('toYaml: a value js-yaml refuses is still refused the same way', () => {
  assert.throws(() => toYaml({ f: () => 1 }), /unacceptable kind of an object to dump/);
  assert.throws(() => toYaml({ d: new Date(0) }), /unacceptable kind of an object to dump/);
});
