import { createReadStream } from 'node:fs';
import { access, constants as fsConstants, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { inputError, MeshError } from '../errors.js';
import { parseYaml, toYaml } from './yaml.js';
import type { KubeObject } from './types.js';
import { isObject } from '../util/object.js';
import { currentStdin } from '../util/cli-streams.js';

/**
 * The files Source: Kubernetes objects read from files, directories, https URLs and stdin, one
 * YAML/JSON document at a time. Used by `mesh inject`, `mesh check -f`, the controller's
 * `--source files` and manifest diffs.
 */

/** One document of an input, with where it came from. */
export interface SourceDocument {
  /** The file path, URL or '-' (stdin). */
  source: string;
  /** 0-based index of the document in its source (empty documents are not counted). */
  index: number;
  /** 1-based line of the source where the document starts. */
  line: number;
  /** The parsed object, or null for a document holding only comments. */
  object: KubeObject | null;
  /**
   * The document's exact text, comments included, without the `---` line that separates it from
   * the previous one. For the items of an expanded `kind: List` it is the item re-serialised.
   */
  raw: string;
}

/** Options of readDocuments. */
export interface ReadOptions {
  /** Descend into subdirectories of directory inputs (kubectl -R). Default false. */
  recursive?: boolean;
  /** The stream read for the input '-' (default process.stdin). */
  stdin?: NodeJS.ReadableStream;
  /** Yield the items of a `kind: List` as documents of their own (default true). */
  expandLists?: boolean;
}

const MANIFEST_EXT = /\.(ya?ml|json)$/i;

/** The files a directory input stands for: manifests sorted by name, subdirectories with -R. */
async function listDir(dir: string, recursive: boolean): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: string[] = [];
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (recursive) out.push(...(await listDir(p, true)));
    } else if (MANIFEST_EXT.test(e.name)) out.push(p);
  }
  return out;
}

function fsError(path: string, err: unknown): MeshError {
  const code = (err as { code?: string }).code;
  if (path === '-') return inputError(`cannot read stdin (-f -): ${code ?? (err as Error).message}`, 'pipe the manifests in (-f - < deploy.yaml) or pass a file path', err);
  if (code === 'ENOENT') return inputError(`${path}: no such file or directory`, 'check the path given to -f', err);
  if (code === 'EACCES' || code === 'EPERM') return inputError(`${path}: permission denied`, 'check the file permissions', err);
  if (code === 'EISDIR') return inputError(`${path}: is a directory`, 'pass the directory itself to -f (add -R for subdirectories)', err);
  return inputError(`cannot read ${path}: ${(err as Error).message}`, 'check the path given to -f', err);
}

/** Text chunks of one input; decoding is streaming so a multibyte character may span chunks. */
async function* chunksOf(input: string, opts: ReadOptions): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8');
  let stream: AsyncIterable<unknown>;
  if (input === '-') stream = (opts.stdin ?? currentStdin()) as AsyncIterable<unknown>;
  else if (/^https?:\/\//i.test(input)) {
    let res: Response;
    try {
      res = await fetch(input);
    } catch (err) {
      throw inputError(`cannot fetch ${input}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`, 'check the URL and your network', err);
    }
    if (!res.ok || !res.body) throw inputError(`cannot fetch ${input}: HTTP ${res.status}`, 'check the URL');
    stream = res.body as unknown as AsyncIterable<unknown>;
  } else stream = createReadStream(input);
  try {
    for await (const chunk of stream) {
      yield typeof chunk === 'string' ? chunk : decoder.decode(chunk as Uint8Array, { stream: true });
    }
  } catch (err) {
    if (err instanceof MeshError) throw err;
    throw fsError(input, err);
  }
  const tail = decoder.decode();
  if (tail) yield tail;
}

/** A document's text and its first line, split from a stream of chunks at `---` / `...` lines. */
interface RawDoc {
  text: string;
  line: number;
}

function isMarker(buf: string, at: number, marker: '---' | '...'): boolean {
  if (!buf.startsWith(marker, at)) return false;
  const c = buf[at + 3];
  return c === undefined || c === '\n' || c === '\r' || c === ' ' || c === '\t';
}

/**
 * Split a stream into documents, yielding those each chunk completes together, without holding more
 * than that chunk's documents and the current one in memory. A `---` at column 0 always starts a
 * document (YAML does not allow it inside content).
 *
 * Linear in the input: each chunk is scanned once, a document's pieces are joined once when it
 * ends, and only the first few characters of a line that straddles two chunks are carried over
 * (never the growing document), so one 50 MB scalar costs what fifty 1 MB documents cost.
 */
export async function* splitDocumentBatches(chunks: AsyncIterable<string>): AsyncGenerator<RawDoc[]> {
  /** The current document's text so far, in pieces. */
  let parts: string[] = [];
  let docLine = 1;
  /** The line number of the next line start. */
  let lineNo = 1;
  /** The start of a line (a few characters, no newline) kept until the next chunk tells whether it is a marker. */
  let carry = '';
  let atLineStart = true;
  let first = true;
  const finish = (): RawDoc | undefined => {
    const text = parts.join('');
    parts = [];
    return /\S/.test(text) ? { text, line: docLine } : undefined;
  };
  const feed = (s: string, final: boolean): RawDoc[] => {
    const out: RawDoc[] = [];
    let segStart = 0;
    let p = 0;
    let lineStart = atLineStart;
    carry = '';
    for (;;) {
      const nl = s.indexOf('\n', p);
      if (lineStart) {
        const lineEnd = nl < 0 ? s.length : nl;
        // A marker is told by its first four characters (or the line's end).
        if (!final && nl < 0 && s.length - p < 4) {
          parts.push(s.slice(segStart, p));
          carry = s.slice(p);
          atLineStart = true;
          return out;
        }
        if (isMarker(s, p, '---') || isMarker(s, p, '...')) {
          parts.push(s.slice(segStart, p));
          const d = finish();
          if (d) out.push(d);
          let rest = p + 3;
          if (s[p] === '-') while (s[rest] === ' ' || s[rest] === '\t') rest++;
          if (!final && nl < 0 && (s[p] === '.' || rest === s.length || s[rest] === '\r')) {
            // The marker's line goes on in the next chunk and nothing of it belongs to a document
            // yet: keep just enough of it to decide the same way again.
            carry = s[p] === '.' ? '... ' : rest === s.length ? '--- ' : '---\r';
            atLineStart = true;
            return out;
          }
          if (s[p] === '-' && rest < lineEnd && s[rest] !== '\r') {
            segStart = rest;
            docLine = lineNo;
          } else {
            segStart = nl < 0 ? s.length : nl + 1;
            docLine = lineNo + 1;
          }
        }
      }
      if (nl < 0) break;
      p = nl + 1;
      lineNo++;
      lineStart = true;
    }
    parts.push(s.slice(segStart));
    atLineStart = false;
    return out;
  };
  for await (let chunk of chunks) {
    if (first) {
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
      if (chunk === '') continue;
      first = false;
    }
    if (chunk === '') continue;
    const docs = feed(carry + chunk, false);
    if (docs.length) yield docs;
  }
  const docs = feed(carry, true);
  const last = finish();
  if (last) docs.push(last);
  if (docs.length) yield docs;
}

/** The documents of splitDocumentBatches one at a time. */
export async function* splitDocuments(chunks: AsyncIterable<string>): AsyncGenerator<RawDoc> {
  for await (const docs of splitDocumentBatches(chunks)) yield* docs;
}

function yamlError(source: string, index: number, docLine: number, err: { reason?: string; message: string; mark?: { line: number; column: number } }): MeshError {
  // js-yaml marks are 0-based and relative to the document's text.
  const where = err.mark ? `line ${docLine + err.mark.line}, column ${err.mark.column + 1}` : `starting at line ${docLine}`;
  const msg = err.reason ?? err.message.split('\n')[0]!;
  return inputError(`${source}: document ${index + 1} (${where}): invalid YAML: ${msg}`, 'fix the YAML there (indentation, quoting, a missing ":"); documents are separated by lines of "---"');
}

/**
 * js-yaml resolves an alias to the same object, so a few lines of anchors can stand for billions
 * of nodes once the document is copied or written out. Documents with aliases may expand to at
 * most this many nodes per character of text.
 */
const MAX_EXPANSION = 100;

/**
 * Whether a text can hold an alias: js-yaml reads `*` followed by at least one character that is
 * not a blank, a line break or a flow indicator as one. A cron schedule's `* * *` cannot.
 */
const MAY_HAVE_ALIAS = /\*[^ \t\r\n,[\]{}]/;

function expandedSize(v: unknown, budget: number): number {
  let n = 0;
  const stack: unknown[] = [v];
  while (stack.length > 0 && n <= budget) {
    const x = stack.pop();
    n++;
    if (typeof x === 'object' && x !== null) for (const c of Array.isArray(x) ? x : Object.values(x)) stack.push(c);
  }
  return n;
}

/** The start of a template placeholder: `{{` (Helm, Go templates, Jinja, Mustache) or `{%` (Jinja). */
const PLACEHOLDER = /\{\{|\{%/;
/** A line whose value (or the line itself) starts with a placeholder, outside quotes and comments. */
const PLACEHOLDER_VALUE = /^\s*(?:-\s+)*(?:[^\s#'"{][^#]*?:\s+)?(?:\{\{|\{%)/;

/** js-yaml turns a mapping used as a key into the key "[object Object]": what `{{x}}` becomes. */
function hasMappingKey(v: unknown): boolean {
  const stack: unknown[] = [v];
  while (stack.length > 0) {
    const x = stack.pop();
    if (typeof x !== 'object' || x === null) continue;
    if (Array.isArray(x)) stack.push(...x);
    else
      for (const [k, c] of Object.entries(x)) {
        if (k === '[object Object]') return true;
        stack.push(c);
      }
  }
  return false;
}

/** The input error for a template (exit 2), naming the line of its first placeholder; undefined when no line has one. */
function templateError(text: string, source: string, index: number, docLine: number): MeshError | undefined {
  const lines = text.split('\n');
  let at = lines.findIndex((l) => PLACEHOLDER_VALUE.test(l));
  if (at < 0) at = lines.findIndex((l) => PLACEHOLDER.test(l.split('#')[0]!));
  if (at < 0) return undefined;
  const shown = lines[at]!.trim();
  return inputError(
    `${source}: document ${index + 1}, line ${docLine + at}: a template placeholder (${shown.length > 60 ? shown.slice(0, 60) + '...' : shown}): this is a template, not a manifest`,
    'render the template first (helm template, jinja2, envsubst ...) and pass its output',
  );
}

/** Parse one document's text: JSON with JSON.parse, YAML with js-yaml's core schema. */
export function parseDocumentText(text: string, source: string, index: number, line: number): unknown {
  const t = text.trimStart();
  if (t[0] === '{' || t[0] === '[') {
    try {
      return JSON.parse(text);
    } catch {
      /* YAML flow style or broken: the YAML parser decides and explains */
    }
  }
  let v: unknown;
  const templated = PLACEHOLDER.test(text);
  try {
    v = parseYaml(text);
  } catch (err) {
    if ((err as Error).name === 'YAMLException') throw (templated && templateError(text, source, index, line)) || yamlError(source, index, line, err as never);
    throw err;
  }
  // A placeholder in a quoted string or a block scalar is text (a ConfigMap may hold a Go template);
  // an unquoted one is read as nested flow mappings, which no Kubernetes field is.
  if (templated && hasMappingKey(v)) throw templateError(text, source, index, line) || inputError(`${source}: document ${index + 1} (line ${line}): a mapping is used as a key`, 'quote the key');
  if (MAY_HAVE_ALIAS.test(text)) {
    const budget = 1000 + MAX_EXPANSION * text.length;
    if (expandedSize(v, budget) > budget) {
      throw inputError(`${source}: document ${index + 1} (line ${line}): invalid YAML: its aliases expand to more than ${budget} nodes`, 'write the repeated parts out instead of using anchors (&) and aliases (*)');
    }
  }
  return v;
}

function checkObject(v: unknown, source: string, index: number, line: number, what = ''): KubeObject {
  const where = `${source}: document ${index + 1} (line ${line})${what}`;
  if (!isObject(v)) throw inputError(`${where}: not a Kubernetes object (expected a mapping with apiVersion and kind)`, 'each document must be one object such as a Deployment');
  for (const f of ['apiVersion', 'kind'] as const) {
    if (typeof v[f] !== 'string' || v[f] === '') throw inputError(`${where}: the object has no "${f}"`, 'every Kubernetes object needs apiVersion and kind');
  }
  if (v.metadata !== undefined && !isObject(v.metadata)) throw inputError(`${where}: "metadata" must be a mapping`, 'see the object\'s schema');
  return v as KubeObject;
}

/** True for `kind: List` and typed lists such as `DeploymentList`. */
export function isList(o: KubeObject): boolean {
  return (o.kind === 'List' || o.kind.endsWith('List')) && Array.isArray(o.items);
}

/** The inputs, expanded: directories to their manifest files. Errors name the missing or unreadable path. */
async function expandInputs(inputs: string[], recursive: boolean): Promise<string[]> {
  const out: string[] = [];
  for (const input of inputs) {
    if (input === '-' || /^https?:\/\//i.test(input)) {
      out.push(input);
      continue;
    }
    let s;
    try {
      s = await stat(input);
    } catch (err) {
      throw fsError(input, err);
    }
    out.push(...(s.isDirectory() ? await listDir(input, recursive) : [input]));
  }
  // Every file must be readable before the first document is yielded, so an unreadable file fails
  // the run before any output is written.
  for (const f of out) {
    if (f === '-' || /^https?:\/\//i.test(f)) continue;
    try {
      await access(f, fsConstants.R_OK);
    } catch (err) {
      throw fsError(f, err);
    }
  }
  return out;
}

/**
 * The files the inputs stand for, in the order readDocuments reads them (directories expanded to
 * their manifests; `-` and URLs as given). Throws an input error naming a missing or unreadable path.
 */
export function inputFiles(inputs: string[], opts: { recursive?: boolean } = {}): Promise<string[]> {
  return expandInputs(inputs, opts.recursive === true);
}

/** One document's text as read from an input, before parsing. */
export interface RawDocument {
  /** The file path, URL or '-' (stdin). */
  source: string;
  /** 0-based index of the document in its source (empty documents are not counted). */
  index: number;
  /** 1-based line of the source where the document starts. */
  line: number;
  /** The document's exact text (see SourceDocument.raw). */
  text: string;
}

/**
 * The documents of every input as text, in order, unparsed (see readDocuments): for callers that
 * parse them elsewhere (mesh inject's worker threads). Throws an input error naming the path that
 * cannot be read.
 */
export async function* readRawDocuments(inputs: string[], opts: ReadOptions = {}): AsyncGenerator<RawDocument> {
  for await (const docs of readRawDocumentBatches(inputs, opts)) yield* docs;
}

/**
 * readRawDocuments a chunk of input at a time: the documents each chunk completes, in order
 * (never an empty batch). For callers that go through many small documents: one step of an async
 * generator per document was a twentieth of `mesh inject`'s time (docs/bench.md).
 */
export async function* readRawDocumentBatches(inputs: string[], opts: ReadOptions = {}): AsyncGenerator<RawDocument[]> {
  const files = await expandInputs(inputs, opts.recursive === true);
  for (const source of files) {
    let index = 0;
    for await (const docs of splitDocumentBatches(chunksOf(source, opts))) yield docs.map((d) => ({ source, index: index++, line: d.line, text: d.text }));
  }
}

/**
 * Parse one document read by readRawDocuments, as readDocuments does (a `kind: List` is not
 * expanded). Throws an input error (exit 2) naming the source, document and line of bad YAML or
 * of a document that is not a Kubernetes object.
 */
export function parseRawDocument(d: RawDocument): SourceDocument {
  const parsed = parseDocumentText(d.text, d.source, d.index, d.line);
  if (parsed === null || parsed === undefined) return { source: d.source, index: d.index, line: d.line, object: null, raw: d.text };
  return { source: d.source, index: d.index, line: d.line, object: checkObject(parsed, d.source, d.index, d.line), raw: d.text };
}

/**
 * Every document of every input, in order: files, directories (.yaml, .yml, .json; subdirectories
 * with `recursive`), `-` for stdin and http(s) URLs. Streams: one document is parsed and yielded
 * before the next is read. Throws an input error (exit 2) naming the source, document and line of
 * bad YAML, or the path that cannot be read.
 */
export async function* readDocuments(inputs: string[], opts: ReadOptions = {}): AsyncGenerator<SourceDocument> {
  for await (const d of readRawDocuments(inputs, opts)) {
    const doc = parseRawDocument(d);
    const object = doc.object;
    if (object && opts.expandLists !== false && isList(object)) {
      const items = object.items as unknown[];
      for (let i = 0; i < items.length; i++) {
        const item = checkObject(items[i], d.source, d.index, d.line, `, item ${i + 1} of the List`);
        yield { source: d.source, index: d.index, line: d.line, object: item, raw: toYaml(item) };
      }
      continue;
    }
    yield doc;
  }
}

/** Every object of the inputs (lists expanded, comment-only documents dropped), with its origin. */
export async function loadObjects(inputs: string[], opts: { recursive?: boolean } = {}): Promise<{ object: KubeObject; source: string; line: number }[]> {
  const out: { object: KubeObject; source: string; line: number }[] = [];
  for await (const d of readDocuments(inputs, { recursive: opts.recursive })) {
    if (d.object) out.push({ object: d.object, source: d.source, line: d.line });
  }
  return out;
}
