import { CORE_SCHEMA, dump, load, Type, type DumpOptions } from 'js-yaml';
import { blankTail, YamlEmitter } from './yaml-emit.js';
import { deepFreeze } from '../util/object.js';

/**
 * How manifests are read by the files Source and written by `mesh inject` (js-yaml, chosen for
 * speed: inject streams 10,000 documents). Reading uses the YAML 1.2 core schema, so timestamps
 * and the like stay strings, as Kubernetes expects. Writing produces block YAML the way kubectl
 * prints it and quotes every string that a YAML 1.1 reader (kubectl's sigs.k8s.io/yaml, the
 * `yaml` package in 1.1 mode) would read as something else.
 */

/**
 * Strings YAML 1.1 resolves to a number, a timestamp or a merge key but the 1.2 core schema does
 * not: `1_000`, `0b101`, `+.5`, `0.1.0` (the 1.1 spec's float pattern), `1:20` (base 60),
 * `2001-1-5`, `<<`. js-yaml already quotes y/n/yes/no/on/off (noCompatMode is off) and everything
 * its own schema resolves.
 */
const YAML11_ONLY =
  /^(?:[-+]?(?:(?:[0-9][0-9_]*)?(?:\.[0-9_.]*)?(?:[eE][-+]?[0-9]+)?|0b[01_]+|0x[0-9a-fA-F_]+|[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?|\.(?:inf|Inf|INF))|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt \t].*)?|<<|=)$/;

/**
 * Whether YAML11_ONLY can match `s`, judged by its first character alone: every alternative starts
 * with a sign, a digit, `.`, `e`/`E` (an exponent with nothing before it), `<` or `=`. The dumper
 * asks for every plain-safe string it writes, and most (names, images, paths) fail here, which is
 * much cheaper than running the regular expression.
 */
function mayBeYaml11(s: string): boolean {
  if (s.length === 0) return true; // the expression matches '' too
  const c = s.charCodeAt(0);
  // 0-9, + - . < = e E
  return (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e || c === 0x3c || c === 0x3d || c === 0x65 || c === 0x45;
}

/**
 * Never used to read: js-yaml's dumper quotes a string when any implicit type of the dump schema
 * resolves it, and this type resolves exactly the YAML 1.1 look-alikes. It has no predicate, so it
 * never represents a value.
 */
const yaml11Lookalike = new Type('tag:mesh.dev,2026:yaml-1.1-scalar', {
  kind: 'scalar',
  resolve: (s: unknown) => typeof s === 'string' && mayBeYaml11(s) && YAML11_ONLY.test(s),
  construct: (s: unknown) => s,
});

const DUMP_SCHEMA = CORE_SCHEMA.extend({ implicit: [yaml11Lookalike] });

/** js-yaml dump options for manifests: kubectl layout (sequences level with their key), no line folding, no anchors, keys in insertion order. */
export const DUMP_OPTIONS: DumpOptions = Object.freeze({
  schema: DUMP_SCHEMA,
  lineWidth: -1,
  noRefs: true,
  noArrayIndent: true,
  quotingType: '"',
});

const emitter = new YamlEmitter(DUMP_OPTIONS);

/**
 * Block YAML for plain data (what JSON can hold), ending in a newline. Same data, same bytes. The
 * bytes are js-yaml's (dump with DUMP_OPTIONS); yaml-emit.ts writes them faster when it can.
 */
export function toYaml(value: unknown): string {
  return emitter.emit(value) ?? toYamlByJsYaml(value);
}

/**
 * `value` deep-frozen, its YAML text remembered by toYaml for each place it is written at (the same
 * bytes, written once): for parts shared by many documents, such as inject's sidecar containers.
 */
export function sharedYaml<T extends object>(value: T): T {
  emitter.share(deepFreeze(value));
  return value;
}

/**
 * What toYaml writes, always by js-yaml's dump (the reference yaml-emit.ts is tested against).
 * js-yaml writes a multi-line string with a line of only blanks after its last text (" \n") as a
 * block scalar that other readers (the `yaml` package, libyaml) read back without the blanks: such
 * a document gets every string double-quoted instead (rare, and still the same data).
 */
export function toYamlByJsYaml(value: unknown): string {
  return dump(value, hasBlankTail(value) ? { ...DUMP_OPTIONS, forceQuotes: true } : DUMP_OPTIONS);
}

/** Whether `value` holds a multi-line string ending in a line of only blanks (and any empty lines). */
function hasBlankTail(value: unknown): boolean {
  if (typeof value === 'string') return blankTail(value);
  if (Array.isArray(value)) return value.some(hasBlankTail);
  if (value !== null && typeof value === 'object') return Object.entries(value).some(([k, v]) => hasBlankTail(k) || hasBlankTail(v));
  return false;
}

/**
 * Parse one YAML document (no `---` between documents) with the core schema; duplicate keys are
 * errors. Throws js-yaml's YAMLException (with a 0-based `mark.line`/`mark.column`) on bad YAML.
 */
export function parseYaml(text: string): unknown {
  return load(text, { schema: CORE_SCHEMA });
}
