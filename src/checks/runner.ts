import { classifyClusterError } from '../cluster/errors.js';
import { MeshError } from '../errors.js';
import { CheckSkipped, DOCS_BASE, type Check, type CheckOutcome, type CheckResult, type SkipReason } from './types.js';

/** Options of {@link runChecks}. */
export interface RunChecksOptions {
  /** Per-check time budget in milliseconds (default 10 s). A check over budget fails with "timed out". */
  timeoutMs?: number;
  /** How many checks run at once (default 16). */
  concurrency?: number;
  /** Called as a check starts (the progress display names the checks still running). */
  onStart?: (index: number) => void;
}

/** A finished check: its result plus any findings it produced (policy analysis). */
export interface RanCheck {
  result: CheckResult;
  outcome: CheckOutcome;
  /**
   * Whether running the check again may change its verdict (`mesh check --wait` re-runs these
   * while they are not healthy): a failure, warning or timeout may; a skip (not applicable,
   * forbidden) and a pass stand.
   */
  retryable: boolean;
}

/** What a check's thrown error means for its result. */
export interface ErrorVerdict {
  status: 'skip' | 'fail';
  reason: SkipReason;
  /** A failure may heal (the cluster comes back, a bug's input changes); a skip will not by waiting. */
  retryable: boolean;
  message: string;
  hint?: string;
}

/**
 * Classify an error thrown by a check by its type and code, never its message: who is to blame
 * decides skip vs fail. A {@link CheckSkipped} is the check saying it does not apply; 401/403 mean
 * "could not look", not "broken", so the check is skipped and the others still tell the truth; a
 * network or TLS failure (src/cluster/errors.ts) marks the cluster unreachable; anything else fails.
 */
export function classifyError(err: unknown): ErrorVerdict {
  const msg = err instanceof Error ? err.message : String(err);
  const hint = err instanceof MeshError || err instanceof CheckSkipped ? err.hint : undefined;
  if (err instanceof CheckSkipped) return { status: 'skip', reason: 'not-applicable', retryable: false, message: msg, hint };
  switch (classifyClusterError(err)) {
    case 'unauthorized':
    case 'forbidden':
      return { status: 'skip', reason: 'forbidden', retryable: false, message: `not allowed: ${msg}`, hint: 'ask for the RBAC permission named above, or run with a context that has it' };
    case 'unreachable':
      return { status: 'fail', reason: 'unreachable', retryable: true, message: msg, hint };
    default:
      return { status: 'fail', reason: 'error', retryable: true, message: msg, hint };
  }
}

function toResult(check: Check<unknown>, outcome: CheckOutcome, durationMs: number, reason?: SkipReason): CheckResult {
  // A warning-severity check never fails a run on its own: its failures are warnings.
  if (check.severity === 'warning' && outcome.status === 'fail') outcome = { ...outcome, status: 'warn' };
  const r: CheckResult = {
    id: check.id,
    category: check.category,
    description: check.description,
    severity: check.severity,
    status: outcome.status,
    message: outcome.message,
    docs: `${DOCS_BASE}#${check.hintAnchor}`,
    durationMs: Math.round(durationMs),
  };
  if (outcome.hint) r.hint = outcome.hint;
  if (outcome.details?.length) r.details = outcome.details;
  if (reason) r.reason = reason;
  return r;
}

/** Run one check under its time budget; never throws. */
export async function runOne<C>(check: Check<C>, ctx: C, timeoutMs: number): Promise<RanCheck> {
  const started = performance.now();
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    const outcome = await Promise.race([check.run(ctx, ac.signal), timeout]);
    if (outcome === 'timeout') {
      ac.abort();
      const o: CheckOutcome = {
        status: 'fail',
        message: `timed out after ${formatMs(timeoutMs)}; the check could not finish`,
        hint: 'the API server or the component is slow or unreachable; raise --timeout to wait longer',
      };
      return { result: toResult(check as Check<unknown>, o, performance.now() - started, 'timeout'), outcome: o, retryable: true };
    }
    const retryable = outcome.status === 'fail' || outcome.status === 'warn';
    return { result: toResult(check as Check<unknown>, outcome, performance.now() - started, outcome.status === 'skip' ? 'not-applicable' : undefined), outcome, retryable };
  } catch (err) {
    const c = classifyError(err);
    const o: CheckOutcome = { status: c.status, message: c.message, hint: c.hint };
    return { result: toResult(check as Check<unknown>, o, performance.now() - started, c.reason), outcome: o, retryable: c.retryable };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Run every check of `catalog` in parallel (bounded by `concurrency`), each with its own timeout.
 * `onResult` is called as each finishes (for progress display); the returned array is in catalog
 * order, so output is deterministic. A check that throws, is forbidden or times out becomes a
 * result saying so; it never stops or hides the others.
 */
export async function runChecks<C>(catalog: readonly Check<C>[], ctx: C, onResult?: (r: RanCheck, index: number) => void, opts: RunChecksOptions = {}): Promise<RanCheck[]> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const limit = Math.max(1, opts.concurrency ?? 16);
  const out: RanCheck[] = new Array<RanCheck>(catalog.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < catalog.length) {
      const i = next++;
      opts.onStart?.(i);
      const r = await runOne(catalog[i]!, ctx, timeoutMs);
      out[i] = r;
      onResult?.(r, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, catalog.length) }, worker));
  return out;
}

/** 1500 -> "1.5s", 200 -> "200ms". */
export function formatMs(ms: number): string {
  return ms >= 1000 ? `${Number((ms / 1000).toFixed(1))}s` : `${ms}ms`;
}
