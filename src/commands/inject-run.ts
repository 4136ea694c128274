import { once } from 'node:events';
import { open, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { MESH_CONFIG_KEY, MESH_CONFIG_NAME } from '../constants.js';
import { parseRawDocument, readDocuments, readRawDocumentBatches, type RawDocument, type SourceDocument } from '../cluster/files.js';
import type { Cluster, ConnectOptions, KubeObject } from '../cluster/types.js';
import { readStdin, readValuesFiles } from '../cluster/values-files.js';
import { ExitCode, inputError, MeshError, usageError } from '../errors.js';
import type { Ui } from '../ui/context.js';
import { currentStdin } from '../util/cli-streams.js';
import { parseKubeVersion, resolveNativeSidecar, uninjectObject, type InjectReport, type ObjectResult } from '../manifests/inject.js';
import { streamInjector, InjectSummary, transformDoc } from '../manifests/inject-stream.js';
import { resolveValues, type NativeSidecar, type Values } from '../manifests/values.js';
import { Spool } from './spool.js';
import { documentYaml } from './inject-batch.js';
import { InjectPipeline, namespacesIn } from './inject-pool.js';
import type { InjectWorkerInit } from './inject-worker.js';
import { SKIP_REASONS } from '../manifests/inject/types.js';

/**
 * The shell around the pure transforms of src/manifests/inject-stream.ts for `mesh inject` and
 * `mesh uninject`: reads documents one at a time, transforms each, writes it out in input order
 * (stdout or --in-place) and reports per resource on stderr.
 */

/** The options of `mesh inject` / `mesh uninject`, as parsed from flags. */
export interface InjectRunOptions {
  mode: 'inject' | 'uninject';
  /** -f values: files, directories, http(s) URLs, '-' for stdin. */
  files: string[];
  recursive: boolean;
  /** --values files, applied in order over the profile (and the cluster's values). */
  valuesFiles: string[];
  sets: string[];
  profile?: string;
  fromCluster: boolean;
  /** --native-sidecar; undefined = the values' proxy.nativeSidecar. */
  nativeSidecar?: string;
  kubeVersion?: string;
  /** --force: inject beside another mesh's sidecar. */
  force?: boolean;
  output: 'yaml' | 'json';
  /**
   * --report: 'text' lists every resource, 'json' prints one machine-readable report;
   * undefined prints one summary line (or the per-resource lines with -v).
   */
  report?: string;
  /** -v: the per-resource lines, as --report text. */
  verbose?: boolean;
  /** -q: no report at all (errors still go to stderr). */
  quiet?: boolean;
  inPlace: boolean;
  kubeconfig?: string;
  context?: string;
}

/** What the handler needs from outside, replaceable in tests. */
export interface InjectDeps {
  /** Read for '-' (default process.stdin). */
  stdin?: NodeJS.ReadableStream;
  /** How --from-cluster connects (default src/cluster connect()). */
  connect?: (opts: ConnectOptions) => Promise<Cluster>;
  /** Output bytes held in memory before spilling to a temporary file (default SPOOL_LIMIT, 64 MiB). */
  spoolLimit?: number;
  /** Where the spill file goes (default the system temp dir). */
  spoolDir?: string;
}

const NATIVE_MODES = ['auto', 'on', 'off'];
const REPORT_FORMATS = ['text', 'json'];
const isRemote = (f: string) => /^https?:\/\//i.test(f);

/** All flag checks of inject/uninject in one pure function (throws a usage error, exit 2). */
export function validateInjectOptions(o: InjectRunOptions): void {
  if (o.files.length === 0) throw usageError('no input: pass -f FILE, -f DIR or -f - (stdin)', `for example: mesh ${o.mode} -f deploy.yaml | kubectl apply -f -`);
  if (o.nativeSidecar !== undefined && !NATIVE_MODES.includes(o.nativeSidecar)) throw usageError(`--native-sidecar "${o.nativeSidecar}": must be auto, on or off`);
  if (o.report !== undefined && !REPORT_FORMATS.includes(o.report)) throw usageError(`--report "${o.report}": must be text or json`);
  if (o.quiet && o.report !== undefined) throw usageError(`-q and --report ${o.report} contradict each other`, 'drop one: -q prints no report, --report prints one');
  if (o.kubeVersion !== undefined) parseKubeVersion(o.kubeVersion);
  if (o.inPlace) {
    const bad = o.files.find((f) => f === '-' || isRemote(f));
    if (bad) throw usageError(`--in-place cannot write back to ${bad === '-' ? 'stdin' : bad}`, 'use --in-place with files and directories only');
    if (o.output === 'json') throw usageError('--in-place writes each file back as YAML: drop -o json');
  }
  if ([...o.files, ...o.valuesFiles].filter((f) => f === '-').length > 1) throw usageError('stdin (-) given more than once');
}

/** Resolve values and native-sidecar mode, reading the installed mesh's values with --from-cluster. */
async function settle(o: InjectRunOptions, deps: InjectDeps): Promise<{ values: Values; native: { enabled: boolean; reason: string } }> {
  const files = await readValuesFiles(o.valuesFiles, () => readStdin(deps.stdin ?? currentStdin()));
  let values = resolveValues({ profile: o.profile, files, sets: o.sets });
  let kubeVersion = o.kubeVersion;
  if (o.fromCluster) {
    const connect = deps.connect ?? (await import('../cluster/index.js')).connect;
    const cluster = await connect({ kubeconfig: o.kubeconfig, context: o.context });
    const cm = await cluster.get('v1', 'ConfigMap', MESH_CONFIG_NAME, values.namespace);
    const data = (cm?.data as Record<string, string> | undefined)?.[MESH_CONFIG_KEY];
    if (data === undefined) {
      throw new MeshError(`the mesh is not installed in namespace "${values.namespace}" (no ConfigMap ${MESH_CONFIG_NAME} with ${MESH_CONFIG_KEY})`, {
        hint: 'install it with "mesh install", pass --mesh-namespace NS if it lives elsewhere, or drop --from-cluster',
        exitCode: ExitCode.Failed,
      });
    }
    const { parse } = await import('yaml');
    const source = `ConfigMap ${values.namespace}/${MESH_CONFIG_NAME}`;
    let installed: unknown;
    try {
      installed = parse(data);
    } catch (err) {
      throw new MeshError(`${source}: invalid YAML in ${MESH_CONFIG_KEY}`, { hint: 'run "mesh upgrade" to rewrite it', cause: err });
    }
    values = resolveValues({ profile: o.profile, files: [{ source, values: installed }, ...files], sets: o.sets });
    if (kubeVersion === undefined) {
      const v = await cluster.serverVersion();
      kubeVersion = `${v.major.replace(/\D/g, '')}.${v.minor.replace(/\D/g, '')}`;
    }
  }
  const mode = (o.nativeSidecar ?? values.proxy.nativeSidecar) as NativeSidecar;
  return { values, native: resolveNativeSidecar(mode, kubeVersion) };
}

/** Where DocWriter writes: a Sink (a stream, or memory for --in-place) or a Spool (stdout, all or nothing). */
interface TextSink {
  /** A promise when the caller must wait (backpressure, a spill to disk) before writing more. */
  write(s: string): Promise<void> | undefined;
  flush(): Promise<void>;
}

/** Buffered writes that respect backpressure, so a large stream never piles up in memory. */
class Sink implements TextSink {
  private buf = '';
  /** The reader went away (EPIPE, e.g. `mesh inject ... | head`): stop quietly. */
  closed = false;
  constructor(private readonly out: NodeJS.WritableStream | null) {
    out?.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') this.closed = true;
    });
  }
  text = '';
  write(s: string): Promise<void> | undefined {
    if (!this.out) {
      this.text += s;
      return undefined;
    }
    this.buf += s;
    return this.buf.length >= 65536 ? this.flush() : undefined;
  }
  async flush(): Promise<void> {
    if (!this.out || this.buf === '' || this.closed) return;
    const b = this.buf;
    this.buf = '';
    try {
      if (!this.out.write(b)) await once(this.out, 'drain');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EPIPE') throw err;
      this.closed = true;
    }
  }
}

/**
 * Large YAML outputs are parsed, injected and written on worker threads (InjectPipeline) after the
 * first PIPELINE_AFTER documents, which small inputs keep on the main thread for their fast start.
 */
export const PIPELINE_AFTER = 256;
export { PIPELINE_BATCH } from './inject-pool.js';

/**
 * How many worker threads to use: MESH_INJECT_WORKERS (at most 8), else none. Workers cost about a
 * third more CPU in all (each warms up its own parser and caches), so they pay only with an idle
 * core: under load one worker was slower than none in every interleaved run (docs/bench.md), and
 * the load average cannot tell (a run's own threads raise it).
 */
export function yamlWorkerCount(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.MESH_INJECT_WORKERS;
  return v !== undefined && /^\d+$/.test(v) ? Math.min(Number(v), 8) : 0;
}

/** Writes documents of one output (stdout or one file) as YAML or a JSON List. */
class DocWriter {
  private count = 0;
  constructor(
    private readonly sink: TextSink,
    /**
     * json: one List (-o json); json-file: a JSON file rewritten in place, objects as they are;
     * yaml-edit: a YAML file rewritten in place, each changed document edited so its comments and
     * indentation stay.
     */
    private readonly format: 'yaml' | 'json' | 'json-file' | 'yaml-edit',
    /** yaml-edit's editor (src/cluster/yaml-edit.ts, loaded with the `yaml` package only for --in-place). */
    private readonly edit?: (raw: string, o: KubeObject) => string,
  ) {}
  /** Whether a document was written (the next one is separated from it). */
  get started(): boolean {
    return this.count > 0;
  }
  // raw, object and text return the sink's promise, when it has one: most documents need no wait.
  raw(doc: SourceDocument): Promise<void> | undefined {
    if (this.format === 'json') return doc.object ? this.json(doc.object) : undefined;
    if (this.format === 'yaml') return this.sink.write((this.count++ > 0 ? '---\n' : '') + documentYaml(doc, undefined));
    const sep = this.count++ > 0 ? (this.format === 'json-file' ? '\n' : '---\n') : '';
    return this.sink.write(sep + (doc.raw.endsWith('\n') ? doc.raw : doc.raw + '\n'));
  }
  object(doc: SourceDocument, o: KubeObject): Promise<void> | undefined {
    if (this.format === 'json') return this.json(o);
    if (this.format === 'json-file') return this.sink.write((this.count++ > 0 ? '\n' : '') + JSON.stringify(o, null, 2) + '\n');
    if (this.format === 'yaml-edit') {
      if (!this.edit) throw new Error('DocWriter: yaml-edit needs an editor');
      return this.sink.write((this.count++ > 0 ? '---\n' : '') + this.edit(doc.raw, o));
    }
    return this.sink.write((this.count++ > 0 ? '---\n' : '') + documentYaml(doc, o));
  }
  /** YAML documents written elsewhere (the worker threads), already separated, in order after this writer's. */
  async text(s: string): Promise<void> {
    if (s !== '') this.count++;
    await this.sink.write(s);
  }
  private json(o: KubeObject): Promise<void> | undefined {
    const body = JSON.stringify(o, null, 2).replace(/^/gm, '    ');
    return this.sink.write((this.count++ === 0 ? '{\n  "apiVersion": "v1",\n  "kind": "List",\n  "items": [\n' : ',\n') + body);
  }
  async end(): Promise<void> {
    if (this.format === 'json') await this.sink.write(this.count === 0 ? '{\n  "apiVersion": "v1",\n  "kind": "List",\n  "items": []\n}\n' : '\n  ]\n}\n');
    await this.sink.flush();
  }
}

/**
 * Write `text` to a temporary file beside the file `file` stands for (through symlinks: the link's
 * target, so the rename replaces the target and the link stays a link) and return both paths.
 * The temporary file is created with the target's permission bits (never wider: umask can only
 * remove bits, and they are restored with fchmod before any data is written), so its content is
 * never readable by anyone the target's is not. `onCreated` learns the path as soon as it exists,
 * so a caller can remove it if a later step fails.
 */
export async function stageFile(file: string, text: string, onCreated: (tmp: string, target: string) => void = () => {}): Promise<{ file: string; tmp: string }> {
  const target = await realpath(file);
  const mode = (await stat(target)).mode & 0o7777;
  const tmp = join(dirname(target), `.${basename(target)}.mesh-${process.pid}.tmp`);
  const fh = await open(tmp, 'wx', mode);
  onCreated(tmp, target);
  try {
    await fh.chmod(mode);
    await fh.writeFile(text);
  } finally {
    await fh.close();
  }
  return { file: target, tmp };
}

const PAST: Record<string, string> = { injected: 'injected', upgraded: 'upgraded', unchanged: 'unchanged', uninjected: 'uninjected', skipped: 'skipped' };

const resourceName = (r: InjectReport) => `${r.kind.toLowerCase()} "${r.name}"`;

/** One resource's line (per-resource report); its notes are listed once at the end, see {@link NoteTally}. */
function reportLine(r: InjectReport, ui: Ui): string {
  const what = resourceName(r);
  const c = ui.color;
  if (r.action === 'skipped') return `${what} ${c.yellow('skipped')}: ${r.message ?? r.reason}
`;
  if (r.action === 'unchanged') return `${what} unchanged (already injected)
`;
  return `${what} ${c.green(PAST[r.action])}
`;
}

/** Resources named per note before the rest are only counted. */
const NOTE_NAMES = 3;

/**
 * Identical notes collapsed: each distinct note once, with the first few resources it applies to
 * and a count of the rest (10,000 Jobs give one line, not 10,000). Memory grows with the number of
 * distinct notes, not with the input.
 */
class NoteTally {
  private readonly notes = new Map<string, { names: string[]; count: number }>();
  add(r: InjectReport): void {
    for (const n of r.notes) {
      const e = this.notes.get(n) ?? { names: [], count: 0 };
      if (e.names.length < NOTE_NAMES) e.names.push(resourceName(r));
      e.count++;
      this.notes.set(n, e);
    }
  }
  lines(ui: Ui): string {
    let out = '';
    for (const [note, e] of this.notes) {
      const more = e.count - e.names.length;
      out += `${ui.color.yellow('note')}: ${note} (${e.names.join(', ')}${more > 0 ? ` and ${more} more` : ''})
`;
    }
    return out;
  }
}

/** The one summary line: counts by action, skips by reason in words (not the --report json codes). */
export function summaryLine(sum: InjectSummary): string {
  const parts = Object.entries(sum.actions).map(([a, n]) => `${n} ${a}`);
  const skips = Object.entries(sum.skipped).map(([r, n]) => `${n} ${SKIP_REASONS[r as keyof typeof SKIP_REASONS] ?? r}`);
  return `${sum.total} resource${sum.total === 1 ? '' : 's'}: ${parts.join(', ') || 'none'}${skips.length ? ` (skipped: ${skips.join('; ')})` : ''}\n`;
}

/**
 * Run `mesh inject` / `mesh uninject`: documents to ui.out (or back to their files with
 * --in-place, all or nothing), a report to ui.err. Returns the exit code (0; errors throw).
 */
export async function runInject(o: InjectRunOptions, ui: Ui, deps: InjectDeps = {}): Promise<number> {
  validateInjectOptions(o);
  let fn: (obj: KubeObject) => ObjectResult;
  let native: { enabled: boolean; reason: string } | undefined;
  let settled: { values: Values; native: { enabled: boolean; reason: string } } | undefined;
  /** The Namespaces the main thread's injector has seen (worker threads feed it theirs, see InjectPipeline). */
  const namespaceLabels = new Map<string, Record<string, string>>();
  if (o.mode === 'inject') {
    settled = await settle(o, deps);
    native = settled.native;
    fn = streamInjector(settled.values, settled.native.enabled, o.force === true, namespaceLabels);
  } else fn = uninjectObject;

  // Text reports are printed as they happen and only counted, so memory does not grow with the input.
  let reports: InjectReport[] = [];
  const kept: InjectReport[] = [];
  const sum = new InjectSummary();
  const notes = new NoteTally();
  const json = o.report === 'json';
  const perResource = !o.quiet && (o.report === 'text' || (o.report === undefined && o.verbose === true));
  const errSink = new Sink(ui.err);
  /** Count reports (kept for --report json); with per-resource lines, each goes to stderr: a promise only then. */
  const reportAll = (rs: InjectReport[]): Promise<void> | undefined => {
    for (const r of rs) {
      sum.add(r);
      notes.add(r);
      if (json && !perResource) kept.push(r);
    }
    if (perResource) return (async () => { for (const r of rs) await errSink.write(reportLine(r, ui)); })();
    return undefined;
  };
  /** The reports of the last document. */
  const report = (): Promise<void> | undefined => {
    const rs = reports;
    reports = [];
    return reportAll(rs);
  };

  if (!o.inPlace) {
    // All or nothing: stdout gets the documents only once every one of them was read and
    // transformed, so a broken last document leaves no half output for `kubectl apply`.
    const spool = new Spool(deps.spoolLimit, deps.spoolDir);
    const w = new DocWriter(spool, o.output);
    const workers = o.output === 'yaml' ? yamlWorkerCount() : 0;
    const init: InjectWorkerInit = settled ? { mode: 'inject', values: settled.values, nativeSidecar: settled.native.enabled, force: o.force === true } : { mode: 'uninject' };
    /** Namespaces of the documents done on this thread, for the workers (inject only). */
    const namespaces: [string, Record<string, string>][] = [];
    let pipeline: InjectPipeline | undefined;
    let seen = 0;
    const raws = readRawDocumentBatches(o.files, { recursive: o.recursive, stdin: deps.stdin })[Symbol.asyncIterator]();
    try {
      for (;;) {
        let next: IteratorResult<RawDocument[]>;
        try {
          next = await raws.next();
        } catch (err) {
          // A read error comes after the documents already sent: theirs (an earlier error, their reports) first.
          await pipeline?.end();
          throw err;
        }
        if (next.done) break;
        for (const raw of next.value) {
          const found = o.mode === 'inject' && workers > 0 ? namespacesIn(raw) : [];
          if (!pipeline && workers > 0 && ++seen > PIPELINE_AFTER) {
            pipeline = new InjectPipeline(workers, init, { text: (t) => w.text(t), reports: async (rs) => reportAll(rs) }, !w.started, namespaces, { fn, namespaces: namespaceLabels });
          }
          if (pipeline) {
            await pipeline.add(raw, found);
            continue;
          }
          namespaces.push(...found);
          const doc = parseRawDocument(raw);
          const changed = doc.object ? transformDoc(doc, fn, reports) : undefined;
          // Awaited only when there is something to wait for: each await costs a turn of the event loop.
          const written = changed ? w.object(doc, changed) : w.raw(doc);
          if (written) await written;
          const reported = report();
          if (reported) await reported;
        }
      }
      await pipeline?.end();
      await w.end();
    } catch (err) {
      await spool.discard();
      await errSink.flush();
      throw err;
    } finally {
      await raws.return?.(undefined);
      await pipeline?.close();
    }
    await spool.commit(ui.out);
  } else {
    const { editYamlDocument } = await import('../cluster/yaml-edit.js');
    const docs = readDocuments(o.files, { recursive: o.recursive, stdin: deps.stdin, expandLists: false });
    // Every file is transformed into a temporary file first; only when all succeeded are they renamed.
    const pending: { file: string; tmp: string }[] = [];
    let current: { file: string; sink: Sink; writer: DocWriter; changed: boolean } | undefined;
    const finish = async () => {
      if (!current) return;
      await current.writer.end();
      if (current.changed) {
        const file = current.file;
        try {
          // Recorded as soon as the temporary file exists, so a failure after it still removes it.
          await stageFile(file, current.sink.text, (tmp, target) => pending.push({ file: target, tmp }));
        } catch (err) {
          throw inputError(`cannot write ${file}: ${(err as Error).message}`, 'check the directory is writable', err);
        }
      }
      current = undefined;
    };
    try {
      for await (const doc of docs) {
        if (!current || current.file !== doc.source) {
          await finish();
          const sink = new Sink(null);
          current = { file: doc.source, sink, writer: new DocWriter(sink, /\.json$/i.test(doc.source) ? 'json-file' : 'yaml-edit', editYamlDocument), changed: false };
        }
        const changed = doc.object ? transformDoc(doc, fn, reports) : undefined;
        if (changed) {
          current.changed = true;
          await current.writer.object(doc, changed);
        } else await current.writer.raw(doc);
        await report();
      }
      await finish();
      for (const p of pending) await rename(p.tmp, p.file);
    } catch (err) {
      await Promise.all(pending.map((p) => rm(p.tmp, { force: true })));
      await errSink.flush();
      throw err;
    }
  }

  if (json) {
    await errSink.write(JSON.stringify({ ...(native ? { nativeSidecar: native } : {}), resources: kept, summary: { total: sum.total, actions: sum.actions, skipped: sum.skipped } }, null, 2) + '\n');
  } else if (!o.quiet) {
    await errSink.write(notes.lines(ui));
    // The native-sidecar mode matters only when a proxy was added, and only if it was not asked for by flag.
    const added = (sum.actions.injected ?? 0) + (sum.actions.upgraded ?? 0) > 0;
    if (native && added && o.nativeSidecar === undefined) await errSink.write(native.reason + '\n');
    await errSink.write(summaryLine(sum));
  }
  await errSink.flush();
  return ExitCode.Ok;
}
