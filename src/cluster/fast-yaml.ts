/**
 * A fast path for the YAML that Kubernetes manifests are made of, because the `yaml` package
 * spends about 0.3 ms on a 30-line Deployment and `mesh inject` must handle 10,000 documents in
 * under two seconds.
 *
 * `fastParse` understands block mappings and sequences, one-line flow collections, plain,
 * single- and double-quoted one-line scalars and comments, resolving scalars exactly as the
 * `yaml` package's YAML 1.2 core schema does. Anything else (anchors, tags, block scalars,
 * multi-line scalars, duplicate keys, tabs, errors) makes it return NOT_SIMPLE, and the caller
 * parses with the `yaml` package, which also produces the error messages. A differential test
 * (test/inject/fast-yaml.test.ts) checks both agree.
 *
 * `fastStringify` writes plain data (what JSON can hold) as block YAML, kubectl style, quoting
 * every string that a YAML 1.1 or 1.2 reader (kubectl uses 1.1) could read as anything but that
 * string. Same data, same bytes.
 */

/** Returned by fastParse when the text is outside the subset it handles. */
export const NOT_SIMPLE: unique symbol = Symbol('not simple YAML');

class NotSimple extends Error {}
const bail = (): never => {
  throw new NotSimple();
};

interface Line {
  indent: number;
  text: string;
  /** Index of the line in the document's raw lines (block scalars read those). */
  n: number;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** YAML white space is only space and tab (String.trim would also eat U+00A0 and friends). */
const WS_END = /[ \t]+$/;
const WS_START = /^[ \t]+/;

const INT = /^[-+]?[0-9]+$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;
/** Plain scalars whose core-schema meaning we do not reproduce: leave them to the yaml package. */
const ODD_PLAIN = /^(?:[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)|0o[0-7]+|0x[0-9a-fA-F]+)$/;

function resolvePlain(s: string): Json {
  switch (s) {
    case '':
    case '~':
    case 'null':
    case 'Null':
    case 'NULL':
      return null;
    case 'true':
    case 'True':
    case 'TRUE':
      return true;
    case 'false':
    case 'False':
    case 'FALSE':
      return false;
  }
  const c = s.charCodeAt(0);
  // Digits, '+', '-', '.': maybe a number.
  if ((c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46) {
    if (INT.test(s) || FLOAT.test(s)) {
      const n = Number(s);
      if (Object.is(n, -0) || !Number.isFinite(n) || (INT.test(s) && !Number.isSafeInteger(n))) bail();
      return n;
    }
    if (ODD_PLAIN.test(s)) bail();
  }
  return s;
}

/** Characters that may not start a plain scalar (or that we leave to the yaml package). */
const BAD_START = new Set(['&', '*', '!', '|', '>', '%', '@', '`', '"', "'", '{', '}', '[', ']', ',', '#', '?', ':', '-']);

function checkPlainStart(s: string): void {
  const ch = s[0]!;
  if (BAD_START.has(ch)) {
    // '-', '?' and ':' may start a plain scalar when followed by a non-space character.
    if ((ch === '-' || ch === '?' || ch === ':') && s.length > 1 && s[1] !== ' ') return;
    bail();
  }
}

function parseDoubleQuoted(src: string, start: number): [string, number] {
  let i = start + 1;
  let simpleEscapes = true;
  for (; i < src.length; i++) {
    const ch = src[i];
    if (ch === '\\') {
      const n = src[i + 1];
      if (n === undefined || !'"\\/bfnrtu'.includes(n)) simpleEscapes = false;
      i++;
    } else if (ch === '"') break;
    else if (ch === '\t' || src.charCodeAt(i) < 32) bail();
  }
  if (i >= src.length || !simpleEscapes) bail();
  let value: string;
  try {
    value = JSON.parse(src.slice(start, i + 1)) as string;
  } catch {
    return bail();
  }
  return [value, i + 1];
}

function parseSingleQuoted(src: string, start: number): [string, number] {
  let out = '';
  let i = start + 1;
  for (;;) {
    const q = src.indexOf("'", i);
    if (q < 0) bail();
    out += src.slice(i, q);
    if (src[q + 1] === "'") {
      out += "'";
      i = q + 2;
    } else return [out, q + 1];
  }
}

/** After a value: only spaces, then nothing or a comment. */
function expectEnd(src: string, i: number): void {
  while (src[i] === ' ') i++;
  if (i < src.length && src[i] !== '#') bail();
  if (src[i] === '#' && src[i - 1] !== ' ') bail();
}

/** A value on the rest of a line (after `key: ` or `- `): scalar or one-line flow collection. */
function parseInline(src: string): Json {
  const ch = src[0];
  if (ch === '"') {
    const [v, end] = parseDoubleQuoted(src, 0);
    expectEnd(src, end);
    return v;
  }
  if (ch === "'") {
    const [v, end] = parseSingleQuoted(src, 0);
    expectEnd(src, end);
    return v;
  }
  if (ch === '{' || ch === '[') {
    const p = new FlowParser(src);
    const v = p.value();
    expectEnd(src, p.i);
    return v;
  }
  checkPlainStart(src);
  let end = src.indexOf(' #');
  if (end < 0) end = src.length;
  const plain = src.slice(0, end).replace(WS_END, '');
  if (plain.includes(': ') || plain.endsWith(':') || plain.includes('\t')) bail();
  return resolvePlain(plain);
}

class FlowParser {
  i = 0;
  constructor(readonly s: string) {}

  private ws(): void {
    while (this.s[this.i] === ' ') this.i++;
  }

  value(): Json {
    this.ws();
    const ch = this.s[this.i];
    if (ch === '{') return this.map();
    if (ch === '[') return this.seq();
    return this.scalar();
  }

  private scalar(): Json {
    const s = this.s;
    const ch = s[this.i];
    if (ch === '"') {
      const [v, end] = parseDoubleQuoted(s, this.i);
      this.i = end;
      return v;
    }
    if (ch === "'") {
      const [v, end] = parseSingleQuoted(s, this.i);
      this.i = end;
      return v;
    }
    const start = this.i;
    for (; this.i < s.length; this.i++) {
      const c = s[this.i];
      if (c === ',' || c === '}' || c === ']' || c === '{' || c === '[') break;
      if (c === ':') {
        const n = s[this.i + 1];
        if (n === undefined || n === ' ' || n === ',' || n === '}' || n === ']') break;
      }
      if (c === '#' && s[this.i - 1] === ' ') bail();
    }
    const plain = s.slice(start, this.i).replace(WS_END, '');
    if (plain === '') bail();
    checkPlainStart(plain);
    return resolvePlain(plain);
  }

  private map(): Json {
    const out: Record<string, Json> = {};
    this.i++;
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      const k = this.scalar();
      if (typeof k !== 'string' || Object.hasOwn(out, k)) bail();
      this.ws();
      if (this.s[this.i] !== ':') bail();
      this.i++;
      this.ws();
      const c = this.s[this.i];
      out[k as string] = c === ',' || c === '}' ? null : this.value();
      this.ws();
      const sep = this.s[this.i++];
      if (sep === '}') return out;
      if (sep !== ',') bail();
      this.ws();
      if (this.s[this.i] === '}') {
        this.i++;
        return out;
      }
    }
  }

  private seq(): Json {
    const out: Json[] = [];
    this.i++;
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.ws();
      if (this.s[this.i] === ':') bail(); // an implicit single-pair mapping
      const sep = this.s[this.i++];
      if (sep === ']') return out;
      if (sep !== ',') bail();
      this.ws();
      if (this.s[this.i] === ']') {
        this.i++;
        return out;
      }
    }
  }
}

/** Split `key: rest` (or `key:`); undefined when the line is not a mapping entry. */
function splitKey(text: string): [string, string] | undefined {
  const ch = text[0];
  if (ch === '"' || ch === "'") {
    const [k, end] = ch === '"' ? parseDoubleQuoted(text, 0) : parseSingleQuoted(text, 0);
    let i = end;
    while (text[i] === ' ') i++;
    if (text[i] !== ':') return undefined;
    if (i + 1 < text.length && text[i + 1] !== ' ') bail();
    return [k, text.slice(i + 1).replace(WS_START, '')];
  }
  if (ch === '{' || ch === '[') return undefined;
  const hash = text.indexOf(' #');
  const limit = hash < 0 ? text.length : hash;
  let colon = text.indexOf(': ');
  if (colon < 0 || colon > limit) {
    const bare = text.slice(0, limit).replace(WS_END, '');
    if (!bare.endsWith(':')) return undefined;
    colon = bare.length - 1;
  }
  const key = text.slice(0, colon);
  if (key === '' || key.endsWith(' ')) bail();
  checkPlainStart(key);
  if (key.includes('#') && key.includes(' #')) bail();
  const k = resolvePlain(key);
  if (typeof k !== 'string') bail();
  return [k as string, text.slice(colon + 1).replace(WS_START, '')];
}

const isComment = (rest: string): boolean => rest === '' || rest[0] === '#';

class BlockParser {
  i = 0;
  constructor(
    readonly lines: Line[],
    readonly raw: string[],
  ) {}

  /** A literal block scalar (`|` or `|-`) whose header is on line `n`, for an entry at `indent`. */
  private literal(indent: number, header: string, n: number): string {
    if (header !== '|' && header !== '|-') bail();
    const body: string[] = [];
    let contentIndent = -1;
    let k = n + 1;
    for (; k < this.raw.length; k++) {
      const l = this.raw[k]!;
      let ind = 0;
      while (l.charCodeAt(ind) === 32) ind++;
      if (ind === l.length) {
        if (contentIndent >= 0 && ind > contentIndent) bail();
        body.push('');
        continue;
      }
      if (contentIndent < 0) {
        if (ind <= indent) break;
        contentIndent = ind;
      }
      if (ind < contentIndent) break;
      if (l[ind] === '\t') bail();
      body.push(l.slice(contentIndent));
    }
    while (this.i < this.lines.length && this.lines[this.i]!.n < k) this.i++;
    while (body.length && body[body.length - 1] === '') body.pop();
    const text = body.join('\n');
    return header === '|' && text !== '' ? text + '\n' : text;
  }

  block(indent: number): Json {
    const line = this.lines[this.i]!;
    if (line.text === '-' || line.text.startsWith('- ')) return this.seq(indent);
    return this.map(indent);
  }

  private map(indent: number): Json {
    const out: Record<string, Json> = {};
    while (this.i < this.lines.length) {
      const line = this.lines[this.i]!;
      if (line.indent < indent) break;
      if (line.indent > indent) bail();
      if (line.text === '-' || line.text.startsWith('- ')) break;
      const kv = splitKey(line.text);
      if (!kv) bail();
      const [k, rest] = kv!;
      if (Object.hasOwn(out, k)) bail();
      this.i++;
      out[k] = this.valueAfter(indent, rest, true, line.n);
    }
    return out;
  }

  /** The value of an entry whose header line had `rest` after the indicator. */
  private valueAfter(indent: number, rest: string, inMap: boolean, n: number): Json {
    if (rest[0] === '|' || rest[0] === '>') return this.literal(indent, rest, n);
    const next = this.lines[this.i];
    if (isComment(rest)) {
      if (next && next.indent > indent) return this.block(next.indent);
      if (inMap && next && next.indent === indent && (next.text === '-' || next.text.startsWith('- '))) return this.seq(indent);
      return null;
    }
    // A more indented line after a scalar would continue a multi-line plain scalar.
    if (next && next.indent > indent) bail();
    return parseInline(rest);
  }

  private seq(indent: number): Json {
    const out: Json[] = [];
    while (this.i < this.lines.length) {
      const line = this.lines[this.i]!;
      if (line.indent !== indent || !(line.text === '-' || line.text.startsWith('- '))) {
        if (line.indent > indent) bail();
        break;
      }
      let j = 1;
      while (line.text[j] === ' ') j++;
      const rest = line.text.slice(j);
      if (isComment(rest)) {
        this.i++;
        out.push(this.valueAfter(indent, '', false, line.n));
        continue;
      }
      if (rest === '-' || rest.startsWith('- ') || splitKey(rest)) {
        // A nested collection starting on the item's line: reparse the line at its real column.
        line.indent += j;
        line.text = rest;
        out.push(this.block(line.indent));
        continue;
      }
      this.i++;
      out.push(this.valueAfter(indent, rest, false, line.n));
    }
    return out;
  }
}

/**
 * Parse one YAML document (no `---` markers) of the common Kubernetes subset. Returns NOT_SIMPLE
 * when the text uses anything else; never throws.
 */
export function fastParse(text: string): unknown {
  try {
    const lines: Line[] = [];
    const raw = text.split('\n');
    for (let n = 0; n < raw.length; n++) {
      let l = raw[n]!;
      if (l.endsWith('\r')) l = raw[n] = l.slice(0, -1);
      let indent = 0;
      while (l.charCodeAt(indent) === 32) indent++;
      if (indent === l.length) continue;
      const t = l.slice(indent);
      if (t[0] === '#') continue;
      if (t[0] === '\t' || t.startsWith('---') || t.startsWith('...') || t[0] === '%') bail();
      lines.push({ indent, text: t.replace(WS_END, ''), n });
    }
    if (lines.length === 0) return null;
    const p = new BlockParser(lines, raw);
    const first = lines[0]!;
    let v: Json;
    if (first.text === '-' || first.text.startsWith('- ') || splitKey(first.text)) v = p.block(first.indent);
    else {
      if (lines.length !== 1) bail();
      v = parseInline(first.text);
      p.i = 1;
    }
    if (p.i !== lines.length) bail();
    return v;
  } catch (e) {
    if (e instanceof NotSimple) return NOT_SIMPLE;
    throw e;
  }
}

const RESERVED = /^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|null|Null|NULL|~)$/;
/** Conservative: a string written plain must start with a letter or '/' and hold no YAML syntax. */
const PLAIN_OK = /^[A-Za-z/_][A-Za-z0-9_./:=+@()-]*(?: [A-Za-z0-9_./:=+@()-]+)*$/;

/** YAML double-quoted form: JSON's, plus escapes for characters YAML may not hold raw. */
function quoted(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\u009f\u2028\u2029\ufeff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function scalar(s: string): string {
  return PLAIN_OK.test(s) && !RESERVED.test(s) && !/:(?: |$)/.test(s) ? s : quoted(s);
}

const keyCache = new Map<string, string>();

function key(k: string): string {
  let r = keyCache.get(k);
  if (r === undefined) {
    r = PLAIN_OK.test(k) && !RESERVED.test(k) && !k.includes(':') && !k.includes(' ') ? k : quoted(k);
    if (keyCache.size > 4096) keyCache.clear();
    keyCache.set(k, r);
  }
  return r;
}

function leaf(v: unknown): string | undefined {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return scalar(v);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : bail();
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (Array.isArray(v)) return v.length === 0 ? '[]' : undefined;
  if (typeof v === 'object') return Object.keys(v).length === 0 ? '{}' : undefined;
  return quoted(String(v));
}

/** Multi-line strings that read back exactly as a `|` or `|-` literal block. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what must be excluded
const LITERAL_OK = /^[^ \n][^\r\t\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\ufeff]*$/;

/** Long literals repeat (every injected pod carries the same bootstrap): render each once. */
// Keyed by the string itself: V8 caches a string's hash in it, so a repeated lookup is cheap.
const literalCache = new Map<string, Map<number, string | undefined>>();

function literal(s: string, indent: string): string | undefined {
  if (s.length < 256) return renderLiteral(s, indent);
  let byIndent = literalCache.get(s);
  if (!byIndent) {
    if (literalCache.size > 64) literalCache.clear();
    literalCache.set(s, (byIndent = new Map()));
  }
  if (byIndent.has(indent.length)) return byIndent.get(indent.length);
  const r = renderLiteral(s, indent);
  byIndent.set(indent.length, r);
  return r;
}

function renderLiteral(s: string, indent: string): string | undefined {
  if (!s.includes('\n') || !LITERAL_OK.test(s) || s.endsWith('\n\n')) return undefined;
  const lines = (s.endsWith('\n') ? s.slice(0, -1) : s).split('\n');
  if (lines.some((l) => l.endsWith(' ') || (l !== '' && l.trim() === ''))) return undefined;
  const body = lines.map((l) => (l === '' ? '\n' : `${indent}${l}\n`)).join('');
  return `${s.endsWith('\n') ? '|' : '|-'}\n${body}`;
}

function emit(v: unknown, indent: string, out: string[]): void {
  if (Array.isArray(v)) {
    for (const item of v) {
      const lit = typeof item === 'string' ? literal(item, indent + '  ') : undefined;
      if (lit !== undefined) {
        out.push(`${indent}- ${lit}`);
        continue;
      }
      const l = leaf(item);
      if (l !== undefined) out.push(`${indent}- ${l}\n`);
      else if (Array.isArray(item)) {
        out.push(`${indent}-\n`);
        emit(item, indent + '  ', out);
      } else {
        // `- key: value` with the rest of the mapping aligned under the first key.
        const sub: string[] = [];
        emit(item, indent + '  ', sub);
        sub[0] = `${indent}- ${sub[0]!.slice(indent.length + 2)}`;
        for (const s of sub) out.push(s);
      }
    }
    return;
  }
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (val === undefined) continue;
    const lit = typeof val === 'string' ? literal(val, indent + '  ') : undefined;
    if (lit !== undefined) {
      out.push(`${indent}${key(k)}: ${lit}`);
      continue;
    }
    const l = leaf(val);
    if (l !== undefined) out.push(`${indent}${key(k)}: ${l}\n`);
    else {
      out.push(`${indent}${key(k)}:\n`);
      emit(val, Array.isArray(val) ? indent : indent + '  ', out);
    }
  }
}

/** Block YAML for plain data (kubectl layout: sequences not indented under their key). */
export function fastStringify(v: unknown): string {
  const l = leaf(v);
  if (l !== undefined) return l + '\n';
  const out: string[] = [];
  emit(v, '', out);
  return out.join('');
}
