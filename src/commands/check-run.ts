/**
 * The process side of `mesh check`: connect, show progress, repeat --wait rounds, print the report
 * and the error. It lives beside the command because it writes to the UI; the checks it runs and
 * the report it prints are built in src/checks/.
 */
import type { Cluster } from '../cluster/types.js';
import type { Ui } from '../ui/context.js';
import { ExitCode, MeshError, toMeshError } from '../errors.js';
import { VERSION } from '../version.js';
import { analyze } from '../analyzers/index.js';
import type { SourcedObject } from '../analyzers/types.js';
import { CheckTableStream, renderReport } from '../ui/render/index.js';
import { postInstallCatalog, preInstallCatalog, summarizeFindings } from '../checks/catalog/index.js';
import { makeLiveContext, type LiveContext, type LiveContextOptions } from '../checks/context.js';
import { CheckSession } from '../checks/dns-pod.js';
import type { CheckOptions } from '../checks/options.js';
import { buildReport, errorReport, type CheckReport } from '../checks/report.js';
import { runChecks, type RanCheck } from '../checks/runner.js';
import type { Check } from '../checks/types.js';

/** What `runCheck` needs from outside; tests replace these. */
export interface CheckDeps {
  connect?: () => Promise<Cluster>;
  /** Extra live-context settings (now, DNS image and timeouts). */
  live?: Partial<Omit<LiveContextOptions, 'version' | 'suppress' | 'namespace'>>;
  /** Wait between --wait rounds (default: a timer). */
  sleep?: (ms: number) => Promise<void>;
  /** Set by runCheck for table output: where a single run streams its check lines. */
  stream?: CheckTableStream;
}

/** The files analysis as a check, so `-f` output has the same shape as a live run. */
function filesCheck(objects: SourcedObject[], opts: CheckOptions): Check<null> {
  return {
    id: 'policy.analysis',
    category: 'policy',
    description: 'mesh configuration has no policy errors',
    severity: 'error',
    hintAnchor: 'policy-analysis',
    async run() {
      const r = analyze(objects, { suppress: opts.suppress });
      return { ...summarizeFindings(r.findings, r.objects), suppressed: r.suppressed };
    },
  };
}

/**
 * The document `-o json|junit|sarif` prints when the flags themselves are bad, so machine output is
 * still exactly one document; the caller rethrows the error for stderr and the exit code.
 */
export function renderUsageErrorReport(format: CheckOptions['output'], err: MeshError, ui: Ui): void {
  if (format === 'table') return;
  ui.out.write(renderReport(errorReport('post', err, { failOn: 'error', outputThreshold: 'info' }), format, ui.color));
}

/**
 * Whether the next --wait round runs a check again: its verdict may change (see
 * {@link RanCheck.retryable}) and keeps the run from being healthy: a failure (including
 * unreachable and timed out), or a warning under --fail-on warning.
 */
export function needsRerun(r: RanCheck, failOn: CheckOptions['failOn']): boolean {
  return r.retryable && (r.result.status === 'fail' || (failOn === 'warning' && r.result.status === 'warn'));
}

/** The category that decides whether anything else can run: with the API server unreachable, nothing can. */
const GATE_CATEGORY = 'kubernetes-api';

/**
 * One round: run `catalog` on a fresh context (reads are memoised per round, never across). The
 * leading kubernetes-api checks run first; when they find the API server unreachable the round
 * stops there (the result is shorter than `catalog`) instead of every other check failing with
 * the same connection error. `stream` gets each result in catalog order as soon as it and all
 * before it are done; on a terminal the spinner names the earliest check still running.
 */
async function runRound(catalog: readonly Check<LiveContext>[], opts: CheckOptions, ui: Ui, deps: CheckDeps, cluster: Cluster, session: CheckSession | undefined, stream?: CheckTableStream): Promise<RanCheck[]> {
  // The DNS lookup pod must finish inside the check's own budget, leaving time to read and clean up.
  const dnsPodTimeoutMs = Math.max(500, opts.timeoutMs - 2000);
  // Kinds a check of the round lists whole are listed once; every narrower list of them is filtered from it.
  const shared = catalog.flatMap((c) => c.lists ?? []);
  const ctx = makeLiveContext(cluster, { dnsPodTimeoutMs, ...deps.live, version: VERSION, suppress: opts.suppress, namespace: opts.meshNamespace, dnsProbe: opts.dnsProbe, shared, ...(session ? { session } : {}) });
  const total = catalog.length;
  const progress = opts.output === 'table' && ui.interactive ? (await import('../ui/progress.js')).startProgress(ui.err, `running ${total} checks`, { interactive: true }) : undefined;
  const results: RanCheck[] = [];
  const running = new Set<number>();
  let done = 0;
  let printed = 0;
  const label = () => {
    const first = running.size ? Math.min(...running) : undefined;
    return `running checks (${done}/${total})${first !== undefined ? `: ${catalog[first]!.description}` : ''}`;
  };
  const flush = () => {
    while (stream && results[printed]) stream.check(results[printed++]!.result);
  };
  const phase = async (from: number, to: number) => {
    await runChecks(
      catalog.slice(from, to),
      ctx,
      (r, i) => {
        running.delete(from + i);
        results[from + i] = r;
        done++;
        if (progress) progress.above(flush);
        else flush();
        progress?.update(label());
      },
      {
        timeoutMs: opts.timeoutMs,
        onStart: (i) => {
          running.add(from + i);
          progress?.update(label());
        },
      },
    );
  };
  try {
    let gate = 0;
    while (gate < total && catalog[gate]!.category === GATE_CATEGORY) gate++;
    await phase(0, gate);
    if (results.some((r) => r.result.reason === 'unreachable')) return results;
    ctx.prefetch();
    await phase(gate, total);
    return results;
  } finally {
    progress?.stop();
  }
}

/** The report of a round the unreachable API server stopped: what ran, and one error for all of it. */
function unreachableReport(opts: CheckOptions, ran: readonly RanCheck[], skipped: number, context: string): CheckReport {
  const report = buildReport(opts.mode, ran, opts, context);
  const first = ran.find((r) => r.result.reason === 'unreachable')!.result;
  report.exitCode = ExitCode.Cluster;
  report.ok = false;
  report.error = { message: `${first.message} (the other ${skipped} checks were not run)` };
  if (first.hint) report.error.hint = first.hint;
  return report;
}

/**
 * The live run: every check once, then (with --wait) only the checks that are not healthy yet,
 * every 2 s, until all are or the time is up. State a check keeps between rounds (the DNS lookup
 * pod) lives in one session, cleaned up at the end.
 */
async function runLive(opts: CheckOptions, ui: Ui, deps: CheckDeps, cluster: Cluster): Promise<CheckReport> {
  const catalog = opts.mode === 'pre' ? preInstallCatalog() : postInstallCatalog();
  const deadline = Date.now() + opts.waitMs;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  // Only a --wait run has later rounds to keep state for; a single run cleans up after each check.
  const session = opts.waitMs > 0 ? new CheckSession(cluster, opts.waitMs + opts.timeoutMs) : undefined;
  try {
    // A single run streams its table as checks finish; --wait rounds print the final table at the end.
    const stream = opts.waitMs === 0 ? deps.stream : undefined;
    let ran = await runRound(catalog, opts, ui, deps, cluster, session, stream);
    for (let round = 1; ; round++) {
      const stopped = ran.length < catalog.length;
      const report = stopped ? unreachableReport(opts, ran, catalog.length - ran.length, cluster.contextName) : buildReport(opts.mode, ran, opts, cluster.contextName);
      const left = deadline - Date.now();
      const again = stopped ? [] : catalog.map((_, i) => i).filter((i) => needsRerun(ran[i]!, opts.failOn));
      if (report.ok || left <= 0 || (!stopped && again.length === 0)) return report;
      ui.err.write(ui.color.dim(`waiting: ${stopped ? 'the API server is unreachable' : `${again.length} check(s) not healthy yet`} (round ${round}); retrying, ${Math.ceil(left / 1000)}s left\n`));
      await sleep(Math.min(2000, left));
      if (stopped) {
        ran = await runRound(catalog, opts, ui, deps, cluster, session);
        continue;
      }
      const rerun = await runRound(again.map((i) => catalog[i]!), opts, ui, deps, cluster, session);
      // A rerun stopped by an unreachable API server keeps the earlier verdicts of the checks it did not reach.
      const next = [...ran];
      again.forEach((i, k) => (next[i] = rerun[k] ?? next[i]!));
      ran = next;
    }
  } finally {
    await session?.close();
  }
}

/**
 * Run `mesh check`: live (post-install or --pre) or on files (-f). Writes exactly one document
 * in the chosen format to stdout whatever happens (errors also go to stderr) and returns the exit
 * code, which is the same for every output format.
 */
export async function runCheck(opts: CheckOptions, ui: Ui, deps: CheckDeps = {}): Promise<number> {
  let report: CheckReport;
  // The table is written as checks finish, also into a pipe or CI log (other formats are one document at the end).
  const stream = opts.output === 'table' && opts.mode !== 'files' ? new CheckTableStream((s) => ui.out.write(s), ui.color) : undefined;
  try {
    if (opts.mode === 'files') {
      const { FilesSource } = await import('../cluster/files-source.js');
      const objects: SourcedObject[] = await new FilesSource(opts.filenames, { recursive: opts.recursive, watchFiles: false }).list();
      const ran = await runChecks([filesCheck(objects, opts)], null, undefined, { timeoutMs: Math.max(opts.timeoutMs, 60_000) });
      report = buildReport('files', ran, opts);
    } else {
      const cluster = deps.connect ? await deps.connect() : await (await import('../cluster/index.js')).connect({ kubeconfig: opts.kubeconfig, context: opts.context, timeoutMs: opts.timeoutMs });
      report = await runLive(opts, ui, { ...deps, stream }, cluster);
    }
  } catch (err) {
    const me = toMeshError(err);
    report = errorReport(opts.mode, me, opts);
  }
  if (stream?.started) stream.end(report);
  else ui.out.write(renderReport(report, opts.output, ui.color));
  if (report.error) {
    const { formatError } = await import('../ui/errors.js');
    ui.err.write(formatError(new MeshError(report.error.message, { hint: report.error.hint, exitCode: report.exitCode as ExitCode }), ui.verbose));
  } else if (report.exitCode === ExitCode.Cluster) {
    const first = report.checks.find((c) => c.reason === 'unreachable' || c.reason === 'forbidden') ?? report.checks[0]!;
    ui.err.write(`error: no check could run: ${first.message}\n${first.hint ? `  hint: ${first.hint}\n` : ''}`);
  }
  return report.exitCode;
}
