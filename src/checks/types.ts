import type { Finding } from '../analyzers/types.js';
import type { SourceKind } from '../cluster/source.js';

/** How bad a failing check is: `error` fails the run, `warning` only with --fail-on warning. */
export type Severity = 'error' | 'warning';

/**
 * What one run of a check found. `skip` means the check could not run or did not apply (the
 * message says why: forbidden, timed out, not installed); it never counts as healthy or failed.
 */
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

/** What a check's run function returns. */
export interface CheckOutcome {
  status: CheckStatus;
  /** One line: what was found (shown beside the symbol). */
  message: string;
  /** What to do about it; the renderer adds the docs link from the check's hintAnchor. */
  hint?: string;
  /** Extra lines (one per offending object), shown indented under the check. */
  details?: string[];
  /** Coded findings (policy analysis) the check produced. */
  findings?: Finding[];
  /** How many findings suppression removed (policy analysis). */
  suppressed?: number;
}

/**
 * A check is data (DESIGN.md "Checks are data"): adding a check is adding one of these to a
 * catalog. `run` may throw; the runner turns errors, forbidden requests and timeouts into results.
 */
export interface Check<C = unknown> {
  /** Stable id, e.g. `control-plane.pods-ready`; used by JUnit/SARIF and --skip style tooling. */
  id: string;
  /** Group heading in the table, e.g. `kubernetes-api`. */
  category: string;
  /** What healthy looks like, in the positive: "control plane pods are ready". */
  description: string;
  severity: Severity;
  /** Anchor in docs/checks.md (without '#'). */
  hintAnchor: string;
  /**
   * Kinds the check lists in every namespace. A live round lists each of them once and serves the
   * lists of it in one namespace, or in all by a label selector, from that list (see
   * LiveContext.list), so no kind is read twice.
   */
  lists?: readonly ListedKind[];
  /** Run the check. Honour `signal` (aborted on timeout) where a request can be cancelled. */
  run(ctx: C, signal: AbortSignal): Promise<CheckOutcome>;
}

/** An API version and kind a check lists (a Source's kind without selector or optional flag). */
export type ListedKind = Pick<SourceKind, 'apiVersion' | 'kind'>;

/**
 * Thrown by a check that cannot give a verdict here (what it inspects is absent or unreadable for a
 * reason the message names): the runner records it as skipped, never failed.
 */
export class CheckSkipped extends Error {
  constructor(
    message: string,
    /** What to do to make the check run. */
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'CheckSkipped';
  }
}

/** Why a check did not produce a verdict of its own. */
export type SkipReason = 'forbidden' | 'timeout' | 'unreachable' | 'not-applicable' | 'error';

/** One check's result, as renderers see it. Field names are stable (`-o json`). */
export interface CheckResult {
  id: string;
  category: string;
  description: string;
  severity: Severity;
  status: CheckStatus;
  message: string;
  hint?: string;
  /** docs/checks.md#ANCHOR */
  docs: string;
  details?: string[];
  /** Set when the check could not run normally. */
  reason?: SkipReason;
  durationMs: number;
}

/** Where a check's docs live: a repository-relative link renderers print after hints. */
export const DOCS_BASE = 'docs/checks.md';
