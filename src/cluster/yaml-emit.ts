import { dump, type DumpOptions } from 'js-yaml';

/**
 * Block YAML exactly as js-yaml's dump() writes it with the manifest options (indent 2, no line
 * folding, no anchors, sequences level with their key, keys in insertion order), for plain data,
 * several times faster: js-yaml decides the style of every scalar it writes anew, and `mesh inject`
 * writes the same keys and values (container names, images, probe fields) thousands of times.
 * Here the structure is laid out directly and each distinct one-line scalar is styled once by
 * js-yaml itself and remembered. Anything else (a string with a line break, which is written as a
 * block scalar indented by depth; a key over 1,024 characters; a value that is not JSON data) makes
 * {@link emitYaml} return undefined, and the caller uses js-yaml for that document.
 * test/cluster/yaml-emit.test.ts compares the two on generated data.
 */

/** Thrown inside the emitter when a value needs js-yaml's own layout. */
const FALLBACK = Symbol('fallback');

/** Remembered scalar texts; cleared when full, so memory stays bounded on any input. */
const MAX_CACHED = 50_000;
/** Strings longer than this are styled each time, not remembered. */
const MAX_CACHED_LENGTH = 256;

/** A YAML writer for one set of dump options (the cache belongs to those options). */
export class YamlEmitter {
  private readonly scalars = new Map<string, string>();
  private readonly numbers = new Map<number, string>();
  /** "\n" and the indentation of each level. */
  private readonly indents: string[] = [];
  constructor(private readonly options: DumpOptions) {}

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

  /** A one-line string as js-yaml styles it (plain, or quoted when it would read as something else). */
  private string(s: string): string {
    let text = this.scalars.get(s);
    if (text === undefined) {
      if (s.includes('\n') || s.includes('\r')) throw FALLBACK;
      text = dump(s, this.options).slice(0, -1);
      if (text.includes('\n')) throw FALLBACK;
      // Long texts (certificates, blobs) rarely repeat: not worth holding on to.
      if (s.length > MAX_CACHED_LENGTH) return text;
      if (this.scalars.size >= MAX_CACHED) this.scalars.clear();
      this.scalars.set(s, text);
    }
    return text;
  }

  /** js-yaml's writeNode for block context at `level`: what follows "key:" or "-". */
  private node(v: unknown, level: number, compact: boolean, inSequence: boolean): string {
    if (v === null) return 'null';
    switch (typeof v) {
      case 'string':
        return this.string(v);
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
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      // Sequences sit level with their key (noArrayIndent), except inside another sequence.
      return this.sequence(v, !inSequence && level > 0 ? level - 1 : level, compact);
    }
    if (Object.prototype.toString.call(v) !== '[object Object]') throw FALLBACK;
    const keys = Object.keys(v);
    if (keys.length === 0) return '{}';
    return this.mapping(v as Record<string, unknown>, keys, level, compact);
  }

  private mapping(o: Record<string, unknown>, keys: string[], level: number, compact: boolean): string {
    let out = '';
    const indent = (this.indents[level] ??= '\n' + '  '.repeat(level));
    for (const k of keys) {
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
