import { Worker } from 'node:worker_threads';
import { isList, parseRawDocument, type RawDocument } from '../cluster/files.js';
import type { KubeObject } from '../cluster/types.js';
import type { InjectReport, ObjectResult } from '../manifests/inject.js';
import { namespaceEntry } from '../manifests/inject-stream.js';
import { isObject } from '../util/object.js';
import { receiveError, runBatch, type BatchRequest, type BatchResult } from './inject-batch.js';
import type { InjectWorkerInit } from './inject-worker.js';

/**
 * `mesh inject` on worker threads: documents are sent in batches, in input order, to workers
 * that parse, inject and write them (src/commands/inject-worker.ts), and their text and reports
 * are taken back strictly in input order, so the output and the report are those of the
 * single-threaded run. At most IN_FLIGHT batches per worker are outstanding, so memory stays
 * bounded. Namespaces are the one thing a document passes to later ones (their labels can opt
 * pods out): the main thread parses each document that may hold one and sends every worker the
 * Namespaces of earlier batches before its next batch.
 */

/** Documents per batch (fewer when BATCH_CHARS is reached first). */
export const PIPELINE_BATCH = 64;
/** Characters of input per batch at most (a batch always holds at least one document). */
const BATCH_CHARS = 256 * 1024;
/**
 * Batches outstanding per worker: enough that a worker never idles while the main thread runs a
 * batch itself or waits on the output file.
 */
const IN_FLIGHT = 4;

/** A document whose text may hold a Namespace: the word itself, or an escape that could spell it. */
const mayHoldNamespace = (text: string) => text.includes('Namespace') || text.includes('\\');

/** The Namespaces (name, labels) a document holds, itself or as List items, as the injector will record them. */
export function namespacesIn(d: RawDocument): [string, Record<string, string>][] {
  if (!mayHoldNamespace(d.text)) return [];
  let o: KubeObject | null;
  try {
    o = parseRawDocument(d).object;
  } catch {
    // The worker meets the same error in order, and the run stops there.
    return [];
  }
  if (!o) return [];
  const items = isList(o) ? (o.items as unknown[]).filter(isObject) : [o];
  return items.map((x) => namespaceEntry(x as unknown as KubeObject)).filter((e) => e !== undefined);
}

/** What the pipeline hands back, in input order. */
export interface PipelineOutput {
  /** YAML text for the output (already separated by `---`). */
  text(s: string): Promise<void>;
  /** The reports of the documents just written. */
  reports(rs: InjectReport[]): Promise<void>;
}

/** Where the main thread runs a batch itself: its own inject function and the Namespaces it feeds. */
export interface LocalRunner {
  fn: (o: KubeObject) => ObjectResult;
  namespaces: Map<string, Record<string, string>>;
}

/** A batch in flight, in input order. */
interface Pending {
  done: Promise<BatchResult>;
  ready: boolean;
}

/** Batches in flight at most, worker and main-thread ones together, so memory stays bounded. */
const MAX_QUEUED_EXTRA = 2;

/** Worker threads fed batches of one output's documents in order; see the file comment. */
export class InjectPipeline {
  private readonly workers: Worker[] = [];
  /** Per worker, the callbacks of its batches not answered yet, oldest first. */
  private readonly waiting: { resolve: (r: BatchResult) => void; reject: (e: Error) => void }[][] = [];
  /** Results in input order, oldest first (each already has a rejection handler). */
  private readonly queued: Pending[] = [];
  private failed: Error | undefined;
  private docs: RawDocument[] = [];
  private chars = 0;
  /** Namespaces of the documents in the batch being collected: sent with later batches only. */
  private pendingNamespaces: [string, Record<string, string>][] = [];
  /** Namespaces in input order, and how far each worker (and, last, the main thread) has been given them. */
  private readonly namespaces: [string, Record<string, string>][] = [];
  private readonly sent: number[] = [];

  constructor(
    size: number,
    init: InjectWorkerInit,
    private readonly out: PipelineOutput,
    /** The first document sent is the output's first. */
    private first: boolean,
    /** Namespaces of the documents before the first one sent (the main thread's injector has seen them). */
    earlier: [string, Record<string, string>][],
    /** The main thread runs a batch itself whenever every worker has IN_FLIGHT batches. */
    private readonly local: LocalRunner,
  ) {
    this.namespaces.push(...earlier);
    // Built: dist/commands/inject-worker.js next to this file; from source (tests run through tsx,
    // whose loader workers inherit via execArgv): the .ts file.
    const file = new URL(import.meta.url.endsWith('.ts') ? './inject-worker.ts' : './inject-worker.js', import.meta.url);
    for (let i = 0; i < size; i++) {
      const w = new Worker(file, { workerData: init });
      const queue: (typeof this.waiting)[number] = [];
      w.on('message', (res: BatchResult) => queue.shift()?.resolve(res));
      w.on('error', (err) => this.fail(err));
      w.on('exit', (code) => {
        if (queue.length) this.fail(new Error(`inject worker thread exited (code ${code}) with work pending`));
      });
      this.workers.push(w);
      this.waiting.push(queue);
      this.sent.push(0);
    }
    this.sent.push(earlier.length);
  }

  private fail(err: Error): void {
    this.failed ??= err;
    for (const q of this.waiting) for (const cb of q.splice(0)) cb.reject(err);
  }

  /** Add the next document; may wait for (and write out) the oldest batch. */
  async add(d: RawDocument, namespaces: [string, Record<string, string>][]): Promise<void> {
    this.docs.push(d);
    this.chars += d.text.length;
    this.pendingNamespaces.push(...namespaces);
    if (this.docs.length >= PIPELINE_BATCH || this.chars >= BATCH_CHARS) await this.dispatch();
  }

  /** The request for the batch collected so far, for runner `i`, with the Namespaces it has not been given. */
  private request(i: number): BatchRequest {
    const req: BatchRequest = { docs: this.docs, first: this.first, namespaces: this.namespaces.slice(this.sent[i]) };
    this.sent[i] = this.namespaces.length;
    this.namespaces.push(...this.pendingNamespaces);
    this.pendingNamespaces = [];
    this.docs = [];
    this.chars = 0;
    this.first = false;
    return req;
  }

  private async dispatch(): Promise<void> {
    if (this.docs.length === 0) return;
    // Write out what is done, then give the batch to the least busy worker with room, or run it here.
    while (this.queued[0]?.ready) await this.take();
    while (this.queued.length >= IN_FLIGHT * this.workers.length + MAX_QUEUED_EXTRA) await this.take();
    let best = -1;
    for (let i = 0; i < this.workers.length; i++) if (this.waiting[i]!.length < IN_FLIGHT && (best < 0 || this.waiting[i]!.length < this.waiting[best]!.length)) best = i;
    let done: Promise<BatchResult>;
    if (best < 0) {
      const req = this.request(this.workers.length);
      for (const [name, labels] of req.namespaces) this.local.namespaces.set(name, labels);
      done = Promise.resolve(runBatch(req, this.local.fn));
    } else if (this.failed) {
      done = Promise.reject(this.failed);
    } else {
      const req = this.request(best);
      const w = best;
      done = new Promise<BatchResult>((resolve, reject) => {
        this.waiting[w]!.push({ resolve, reject });
        this.workers[w]!.postMessage(req);
      });
    }
    const p: Pending = { done, ready: false };
    // Awaited later, in order; until then a failure must not count as unhandled.
    done.then(
      () => (p.ready = true),
      () => (p.ready = true),
    );
    this.queued.push(p);
  }

  /** Write the oldest batch's text and reports; its error, if any, is thrown after them. */
  private async take(): Promise<void> {
    const r = await this.queued.shift()!.done;
    await this.out.text(r.text);
    await this.out.reports(r.reports);
    if (r.error) throw receiveError(r.error);
  }

  /** Send the last batch and write everything still outstanding, in order (throws the first error met). */
  async end(): Promise<void> {
    await this.dispatch();
    while (this.queued.length) await this.take();
  }

  /** Stop the workers (also after an error). Callers must close: workers keep the process alive. */
  async close(): Promise<void> {
    this.failed ??= new Error('inject pipeline closed');
    this.queued.length = 0;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
