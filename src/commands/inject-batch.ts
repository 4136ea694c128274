import { parseRawDocument, type RawDocument, type SourceDocument } from '../cluster/files.js';
import type { KubeObject } from '../cluster/types.js';
import { toYaml } from '../cluster/yaml.js';
import { MeshError, type ExitCode } from '../errors.js';
import type { InjectReport, ObjectResult } from '../manifests/inject.js';
import { transformDoc } from '../manifests/inject-stream.js';

/**
 * One run of documents through inject or uninject to YAML text, the same on the main thread and on
 * inject's worker threads (src/commands/inject-worker.ts), so both write the same bytes.
 */

/** The document's leading comment lines, kept above a re-serialised document. */
export function leadingComments(raw: string): string {
  let out = '';
  let i = 0;
  while (i < raw.length) {
    const nl = raw.indexOf('\n', i);
    const line = raw.slice(i, nl < 0 ? raw.length : nl + 1);
    const t = line.trim();
    if (t !== '' && !t.startsWith('#')) break;
    if (t !== '') out += line.endsWith('\n') ? line : line + '\n';
    i += line.length;
  }
  return out;
}

/** One document of YAML output, without the `---` before it: its text when unchanged, else its leading comments and the new object. */
export function documentYaml(doc: SourceDocument, changed: KubeObject | undefined): string {
  if (changed) return leadingComments(doc.raw) + toYaml(changed);
  return doc.raw.endsWith('\n') ? doc.raw : doc.raw + '\n';
}

/** An error crossing a thread boundary: a MeshError keeps its message, hint, exit code and cause's stack. */
export type SentError =
  | { mesh: true; message: string; hint?: string; exitCode: ExitCode; stack?: string; cause?: { name: string; message: string; stack?: string } }
  | { mesh: false; name: string; message: string; stack?: string };

/** `err` as data for postMessage. */
export function sendError(err: unknown): SentError {
  if (err instanceof MeshError) {
    const c = err.cause instanceof Error ? { name: err.cause.name, message: err.cause.message, stack: err.cause.stack } : undefined;
    return { mesh: true, message: err.message, ...(err.hint === undefined ? {} : { hint: err.hint }), exitCode: err.exitCode, stack: err.stack, ...(c ? { cause: c } : {}) };
  }
  const e = err instanceof Error ? err : new Error(String(err));
  return { mesh: false, name: e.name, message: e.message, stack: e.stack };
}

/** The error sendError described, rebuilt (the same message, hint and exit code the user sees). */
export function receiveError(s: SentError): Error {
  if (s.mesh) {
    let cause: Error | undefined;
    if (s.cause) {
      cause = new Error(s.cause.message);
      cause.name = s.cause.name;
      cause.stack = s.cause.stack;
    }
    const e = new MeshError(s.message, { hint: s.hint, exitCode: s.exitCode, cause });
    // -v prints the stack: where it was thrown, on the worker thread.
    if (s.stack) e.stack = s.stack;
    return e;
  }
  const e = new Error(s.message);
  e.name = s.name;
  e.stack = s.stack;
  return e;
}

/** A run of consecutive documents of one output. */
export interface BatchRequest {
  docs: RawDocument[];
  /** The first document is the output's first (no `---` before it). */
  first: boolean;
  /** Namespaces (name, labels) seen in the input since this thread's previous batch, in input order. */
  namespaces: [string, Record<string, string>][];
}

/** What a batch gives: the YAML of its documents and their reports, up to the first error. */
export interface BatchResult {
  text: string;
  reports: InjectReport[];
  /** The first document that failed; text and reports hold the documents before it. */
  error?: SentError;
}

/** Parse, transform and write each document of a batch in order, stopping at the first error. */
export function runBatch(req: BatchRequest, fn: (o: KubeObject) => ObjectResult): BatchResult {
  let text = '';
  const reports: InjectReport[] = [];
  let first = req.first;
  try {
    for (const d of req.docs) {
      const doc = parseRawDocument(d);
      // Reports of a document that fails are dropped, as the single-threaded run drops them.
      const mine: InjectReport[] = [];
      const changed = doc.object ? transformDoc(doc, fn, mine) : undefined;
      text += (first ? '' : '---\n') + documentYaml(doc, changed);
      first = false;
      for (const r of mine) reports.push(r);
    }
  } catch (err) {
    return { text, reports, error: sendError(err) };
  }
  return { text, reports };
}
