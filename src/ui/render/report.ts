import type { Finding, FindingSeverity } from '../../analyzers/types.js';
import type { CheckResult } from '../../checks/types.js';

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
