import { ExitCode, type MeshError } from '../errors.js';
import { VERSION } from '../version.js';
import { atLeast } from '../analyzers/index.js';
import type { Finding, FindingSeverity } from '../analyzers/types.js';
import type { CheckOptions } from './options.js';
import type { RanCheck } from './runner.js';
import { DOCS_BASE, type CheckResult } from './types.js';

/**
 * Everything a `mesh check` run produced, and all renderers see: they never touch the cluster.
 * This is also the `-o json` document; field names are stable.
 */
export interface CheckReport {
  /** `pre` (--pre), `post` (installed mesh) or `files` (-f, no cluster). */
  mode: 'pre' | 'post' | 'files';
  /** CLI version that ran the checks. */
  version: string;
  /** Kubeconfig context (live modes). */
  context?: string;
  checks: CheckResult[];
  /** Findings shown: after suppression and --output-threshold. */
  findings: Finding[];
  summary: {
    checks: { passed: number; warnings: number; failed: number; skipped: number };
    findings: { error: number; warning: number; info: number };
    /** Findings removed by --suppress or the mesh.dev/check-suppress annotation. */
    suppressed: number;
    /** Findings below --output-threshold (not shown, still counted for --fail-on). */
    hidden: number;
  };
  failOn: 'warning' | 'error';
  outputThreshold: FindingSeverity;
  /** true when nothing reaches --fail-on: the exit code is 0. */
  ok: boolean;
  /** The exit code this run ends with (0 ok, 1 failed, 2 bad input, 3 cluster unreachable). */
  exitCode: number;
  /** Set when the run could not happen at all (bad input, no cluster); also printed to stderr. */
  error?: { message: string; hint?: string };
}

/** Which results mean "nothing could run": every check was unreachable, forbidden or timed out. */
function nothingRan(results: CheckResult[]): boolean {
  return results.length > 0 && results.every((r) => r.reason === 'unreachable' || r.reason === 'forbidden' || r.reason === 'timeout');
}

/** Assemble the report (the -o json document) from finished checks. Pure. */
export function buildReport(mode: CheckReport['mode'], ran: readonly Pick<RanCheck, 'result' | 'outcome'>[], opts: Pick<CheckOptions, 'failOn' | 'outputThreshold'>, context?: string): CheckReport {
  const checks = ran.map((r) => r.result);
  const all: Finding[] = ran.flatMap((r) => r.outcome.findings ?? []);
  const findings = all.filter((f) => atLeast(f.severity, opts.outputThreshold));
  const count = (s: CheckResult['status']): number => checks.filter((c) => c.status === s).length;
  const failing = checks.some((c) => c.status === 'fail') || (opts.failOn === 'warning' && checks.some((c) => c.status === 'warn')) || all.some((f) => atLeast(f.severity, opts.failOn));
  const exitCode = nothingRan(checks) ? ExitCode.Cluster : failing ? ExitCode.Failed : ExitCode.Ok;
  const report: CheckReport = {
    mode,
    version: VERSION,
    checks,
    findings,
    summary: {
      checks: { passed: count('pass'), warnings: count('warn'), failed: count('fail'), skipped: count('skip') },
      findings: { error: findings.filter((f) => f.severity === 'error').length, warning: findings.filter((f) => f.severity === 'warning').length, info: findings.filter((f) => f.severity === 'info').length },
      suppressed: ran.reduce((a, r) => a + (r.outcome.suppressed ?? 0), 0),
      hidden: all.length - findings.length,
    },
    failOn: opts.failOn,
    outputThreshold: opts.outputThreshold,
    ok: exitCode === ExitCode.Ok,
    exitCode,
  };
  if (context) report.context = context;
  return report;
}

/** The report of a run that could not happen (bad input, no cluster), carrying the error. Pure. */
export function errorReport(mode: CheckReport['mode'], err: MeshError, opts: Pick<CheckOptions, 'failOn' | 'outputThreshold'>): CheckReport {
  const checks: CheckResult[] =
    err.exitCode === ExitCode.Cluster
      ? [{ id: 'kubernetes-api.reachable', category: 'kubernetes-api', description: 'can reach the Kubernetes API server', severity: 'error', status: 'fail', message: err.message, hint: err.hint, docs: `${DOCS_BASE}#kubernetes-api-reachable`, reason: 'unreachable', durationMs: 0 }]
      : [];
  const r = buildReport(mode, checks.map((result) => ({ result, outcome: { status: result.status, message: result.message } })), opts);
  r.exitCode = err.exitCode;
  r.ok = false;
  r.error = { message: err.message };
  if (err.hint) r.error.hint = err.hint;
  return r;
}
