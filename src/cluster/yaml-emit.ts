import { dump, type DumpOptions } from 'js-yaml';

/**
 * Block YAML exactly as js-yaml's dump() writes it with the manifest options (indent 2, no line
 * folding, no anchors, sequences level with their key, keys in insertion order), for plain data,
 * several times faster: js-yaml decides the style of every scalar it writes anew, and `mesh inject`
 * writes the same keys and values (container names, images, probe fields) thousands of times.
 * Here the structure is laid out directly and each distinct one-line scalar is styled once by
 * js-yaml itself and remembered; a string with a line break is written as a block scalar indented
 * by depth, styled by js-yaml once per depth. Anything else (a key with a line break or over 1,024
 * characters, a value that is not JSON data, a multi-line string ending in blanks) makes
 * {@link YamlEmitter.emit} return undefined, and the caller uses js-yaml for that document.
 * test/cluster/yaml-emit.test.ts compares the two on generated data.
 */

/** Thrown inside the emitter when a value needs js-yaml's own layout. */
const FALLBACK = Symbol('fallback');

/**
 * Remembered scalar texts; cleared when full, so memory stays bounded on any input (and the live
 * heap of a 100,000-document inject stays level: names differ per document, the strings worth
 * remembering are the few that recur, soon remembered again).
 */
const MAX_CACHED = 5_000;
/**
 * Strings longer than this are styled each time, not remembered: long texts (certificates, blobs)
 * rarely repeat, though some do (inject's status annotation is the same for pods with the same probes).
 */
const MAX_CACHED_LENGTH = 16_384;
/** Characters of remembered strings (keys and texts) before the caches start afresh. */
const MAX_CACHED_CHARS = 1_000_000;

/**
 * Whether `s` is a multi-line string ending in a line of only blanks (and any empty lines): js-yaml
 * writes it as a block scalar that other readers (the `yaml` package, libyaml) read back without
 * the blanks, so toYaml writes a document holding one with every string double-quoted, and
 * the emitter leaves such documents to it.
 */
export function blankTail(s: string): boolean {
  if (!s.includes('\n')) return false;
  const lines = s.split('\n');
  let last = lines.length - 1;
  while (last >= 0 && !/[^ \t]/.test(lines[last]!)) last--;
  return lines.slice(last + 1).some((l) => l.length > 0);
}

/**
 * Strings js-yaml writes plain with a core-based schema such as yaml.ts's DUMP_SCHEMA (unless
 * forceQuotes): a letter first, but not e/E (so no number, exponent or YAML 1.1 look-alike of that
 * schema), then letters, digits, `-`, `_`, `.` and `/` (no indicator, no space, no colon).
 * YAML_WORD lists those it still quotes: the core schema's booleans and nulls, and YAML 1.1's
 * booleans (js-yaml's compatibility quoting).
 */
const PLAIN = /^[A-DF-Za-df-z][A-Za-z0-9_./-]*$/;
const YAML_WORD = /^(?:[yYnN]|yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF|true|True|TRUE|false|False|FALSE|null|Null|NULL)$/;

/** A YAML writer for one set of dump options (the cache belongs to those options). */
export class YamlEmitter {
  private readonly scalars = new Map<string, string>();
  /** Multi-line strings by indentation level (their block scalar is indented by depth). */
  private readonly blocks: Map<string, string>[] = [];
  private readonly numbers = new Map<number, string>();
  /** Characters held by scalars and blocks. */
  private cachedChars = 0;
  /** Texts of shared (deep-frozen) values by layout, see {@link YamlEmitter.share}. */
  private readonly shared = new WeakMap<object, Map<number, string>>();
  /** "\n" and the indentation of each level. */
  private readonly indents: string[] = [];
  /** Whether PLAIN strings are written as they are (not when every string is quoted). */
  private readonly plainAsIs: boolean;
  constructor(private readonly options: DumpOptions) {
    this.plainAsIs = options.forceQuotes !== true;
  }

  /** `value` as js-yaml would dump it with this emitter's options, or undefined when only js-yaml can. */
  emit(value: unknown): string | undefined {
    if (value === undefined) return undefined;
    try {
      return this.node(value, 0, true, false) + '\n';
    } catch (err) {
      if (err === FALLBACK) return undefined;
      throw err;
    }
  }

  /**
   * Remember the text of `value` (deep-frozen by the caller, so it cannot change) for each layout it
   * is written in: inject puts the same sidecar containers into thousands of pods.
   */
  share(value: object): void {
    if (!Object.isFrozen(value)) throw new Error('YamlEmitter.share: the value must be deep-frozen');
    if (!this.shared.has(value)) this.shared.set(value, new Map());
  }

  /** Make room for `chars` more characters in `cache`: everything remembered is dropped when a bound is reached. */
  private room(cache: Map<string, string>, chars: number): void {
    if (cache.size >= MAX_CACHED || this.cachedChars + chars > MAX_CACHED_CHARS) {
      this.scalars.clear();
      this.blocks.length = 0;
      this.cachedChars = 0;
    }
    this.cachedChars += chars;
  }

  /** A one-line string as js-yaml styles it (plain, or quoted when it would read as something else). */
  private string(s: string): string {
    // Most keys and names are plain as they are: no cache, no js-yaml.
    if (this.plainAsIs && PLAIN.test(s) && !YAML_WORD.test(s)) return s;
    let text = this.scalars.get(s);
    if (text === undefined) {
      if (s.includes('\n') || s.includes('\r')) throw FALLBACK;
      text = dump(s, this.options).slice(0, -1);
      if (text.includes('\n')) throw FALLBACK;
      // Long texts (certificates, blobs) rarely repeat: not worth holding on to.
      if (s.length > MAX_CACHED_LENGTH) return text;
      this.room(this.scalars, s.length + text.length);
      this.scalars.set(s, text);
    }
    return text;
  }

  /**
   * A string with a line break (or a carriage return) as a value at `level`: js-yaml writes it as a
   * block scalar indented by `2 * max(1, level)`, so it is styled by js-yaml nested that deep in
   * one-key mappings and cut out of the result, once per distinct string and depth (the proxy's
   * preStop script is the same in every injected pod).
   */
  private block(s: string, level: number): string {
    const depth = Math.max(1, level);
    let text = this.blocks[depth]?.get(s);
    if (text === undefined) {
      // toYaml writes a document holding such a string with every string quoted (see blankTail).
      if (blankTail(s)) throw FALLBACK;
      let wrapped: unknown = s;
      let prefix = '';
      for (let i = 0; i < depth; i++) {
        wrapped = { a: wrapped };
        prefix += '  '.repeat(i) + (i === depth - 1 ? 'a: ' : 'a:\n');
      }
      const out = dump(wrapped, this.options);
      if (!out.startsWith(prefix)) throw FALLBACK;
      text = out.slice(prefix.length, -1);
      if (s.length > MAX_CACHED_LENGTH) return text;
      this.room(this.blocks[depth] ?? this.scalars, s.length + text.length);
      (this.blocks[depth] ??= new Map()).set(s, text);
    }
    return text;
  }

  /** js-yaml's writeNode for block context at `level`: what follows "key:" or "-". */
  private node(v: unknown, level: number, compact: boolean, inSequence: boolean): string {
    if (v === null) return 'null';
    switch (typeof v) {
      case 'string':
        return v.includes('\n') || v.includes('\r') ? this.block(v, level) : this.string(v);
      case 'boolean':
        return v ? 'true' : 'false';
      case 'number': {
        // -0 is written "-0.0" but is the same Map key as 0.
        if (Object.is(v, -0)) return dump(v, this.options).slice(0, -1);
        let text = this.numbers.get(v);
        if (text === undefined) {
          text = dump(v, this.options).slice(0, -1);
          if (this.numbers.size >= MAX_CACHED) this.numbers.clear();
          this.numbers.set(v, text);
        }
        return text;
      }
      case 'object':
        break;
      default:
        throw FALLBACK;
    }
    const memo = this.shared.get(v);
    if (memo) {
      const layout = level * 4 + (compact ? 2 : 0) + (inSequence ? 1 : 0);
      let text = memo.get(layout);
      if (text === undefined) {
        text = this.collection(v, level, compact, inSequence);
        memo.set(layout, text);
      }
      return text;
    }
    return this.collection(v, level, compact, inSequence);
  }

  /** A mapping or sequence at `level` (see node). */
  private collection(v: object, level: number, compact: boolean, inSequence: boolean): string {
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      // Sequences sit level with their key (noArrayIndent), except inside another sequence.
      return this.sequence(v, !inSequence && level > 0 ? level - 1 : level, compact);
    }
    if (Object.prototype.toString.call(v) !== '[object Object]') throw FALLBACK;
    // Plain data only: for-in (below) would also see what a prototype adds.
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) throw FALLBACK;
    return this.mapping(v as Record<string, unknown>, level, compact);
  }

  /** A mapping's entries in Object.keys order; `{}` when it has none (or only undefined values). */
  private mapping(o: Record<string, unknown>, level: number, compact: boolean): string {
    let out = '';
    const indent = (this.indents[level] ??= '\n' + '  '.repeat(level));
    // for-in rather than Object.keys: no array per mapping, and V8 reads each value through the
    // object's enum cache instead of a lookup by name.
    for (const k in o) {
      const v = o[k];
      if (v === undefined) continue;
      const key = this.string(k);
      if (key.length > 1024) throw FALLBACK;
      const value = this.node(v, level + 1, false, false);
      if (!compact || out !== '') out += indent;
      out += key + (value.charCodeAt(0) === 10 ? ':' : ': ') + value;
    }
    return out || '{}';
  }

  private sequence(a: unknown[], level: number, compact: boolean): string {
    let out = '';
    const indent = (this.indents[level] ??= '\n' + '  '.repeat(level));
    for (const item of a) {
      const value = this.node(item === undefined ? null : item, level + 1, true, true);
      if (!compact || out !== '') out += indent;
      out += (value.charCodeAt(0) === 10 ? '-' : '- ') + value;
    }
    return out;
  }
}
