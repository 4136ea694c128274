// Pure rollout logic: gates, step decisions and the state recorded on the HTTPRoute.

/**
 * Where a rollout is. Recorded in the `mesh.dev/rollout` annotation.
 * - Progressing: a `mesh route canary --steps` run is advancing it.
 * - Paused: the split is held where it is and nothing advances it (a manual `canary --weight`
 *   or `set`, or a progressive run that was interrupted; run the same command again to resume).
 * - Promoted: all traffic goes to the canary. RolledBack: all traffic goes back to stable.
 * - Degraded: a run stopped without finishing (lost API connection, or a Progressing state
 *   that has not been updated for more than two intervals).
 */
export type Phase = 'Progressing' | 'Paused' | 'Promoted' | 'RolledBack' | 'Degraded';
/** Every phase, for validating a recorded state. */
export const PHASES: readonly Phase[] = ['Progressing', 'Paused', 'Promoted', 'RolledBack', 'Degraded'];

/** Health limits for the canary; an undefined limit is not checked. */
export interface Gates {
  /** Maximum error rate in percent (1 = 1% of requests may fail). */
  maxErrorRatePercent?: number;
  /** Maximum 99th-percentile latency in milliseconds. */
  maxP99Ms?: number;
}

/** Live statistics of one backend Service over a window, from a MetricsSource. */
export interface BackendStats {
  /** Requests per second. */
  rps: number;
  /** Fraction of requests that succeeded (0..1); 1 when there were none. */
  successRate: number;
  /** 99th-percentile latency; undefined when the source has no latency histogram. */
  p99Ms?: number;
}

/** One evaluation of the gates, as recorded on the route and printed by `mesh route status`. */
export interface GateReading {
  /** ISO time of the reading. */
  at: string;
  /** Canary weight (percent) while the reading was taken. */
  weight: number;
  rps?: number;
  successRate?: number;
  p99Ms?: number;
  ok: boolean;
  /** Why the gates failed, one sentence each; empty when ok. */
  failures: string[];
}

/** The rollout state stored on the HTTPRoute. Field names are stable (they are `-o json` output too). */
export interface RolloutState {
  phase: Phase;
  stable: string;
  canary: string;
  /** Percent of the split rule's traffic the canary receives. */
  canaryWeight: number;
  /** Progressive rollouts: the step weights and the index of the current step. */
  steps?: number[];
  step?: number;
  intervalMs?: number;
  gates?: Gates;
  /** The most recent gate reading. */
  reading?: GateReading;
  /** One line saying what happened last, e.g. "rolled back at step 2 (25%): error rate 3% > 1%". */
  message: string;
  updatedAt: string;
  startedAt?: string;
}

/** Parse the `mesh.dev/rollout` annotation; undefined when absent or not a readable state. */
export function readRollout(raw: string | undefined): RolloutState | undefined {
  if (raw === undefined) return undefined;
  try {
    const v = JSON.parse(raw) as Partial<RolloutState> | null;
    if (v && typeof v === 'object' && PHASES.includes(v.phase as Phase) && typeof v.canaryWeight === 'number' && typeof v.canary === 'string' && typeof v.stable === 'string') {
      return { message: '', updatedAt: '', ...v } as RolloutState;
    }
  } catch {
    // an unreadable state is treated as none; status says so
  }
  return undefined;
}

function pct(n: number): string {
  return `${Math.round(n * 100) / 100}%`;
}

/**
 * Judge the canary's stats against the gates. Missing data fails any gate that needs it: a canary
 * nobody measured is not known to be healthy (Flagger does the same). No gates: always passes.
 */
export function evaluateGates(stats: BackendStats | undefined, gates: Gates): { ok: boolean; failures: string[] } {
  const failures: string[] = [];
  const needsData = gates.maxErrorRatePercent !== undefined || gates.maxP99Ms !== undefined;
  if (!needsData) return { ok: true, failures };
  if (!stats || !(stats.rps > 0)) {
    failures.push('no requests reached the canary in the interval, so its health is unknown');
    return { ok: false, failures };
  }
  if (gates.maxErrorRatePercent !== undefined) {
    const errorRate = (1 - stats.successRate) * 100;
    if (!(errorRate <= gates.maxErrorRatePercent + 1e-9)) failures.push(`error rate ${pct(errorRate)} > ${pct(gates.maxErrorRatePercent)}`);
  }
  if (gates.maxP99Ms !== undefined) {
    if (stats.p99Ms === undefined || !Number.isFinite(stats.p99Ms)) failures.push('no p99 latency reading for the canary');
    else if (stats.p99Ms > gates.maxP99Ms) failures.push(`p99 ${Math.round(stats.p99Ms)}ms > ${gates.maxP99Ms}ms`);
  }
  return { ok: failures.length === 0, failures };
}

/** What a progressive rollout does after an interval's gate evaluation. */
export type Decision = { action: 'advance'; step: number; weight: number } | { action: 'promote' } | { action: 'rollback'; reason: string };

/**
 * The state machine's one transition: failing gates roll back; passing gates move to the next
 * step, or promote after the last one.
 */
export function decide(steps: readonly number[], step: number, verdict: { ok: boolean; failures: string[] }): Decision {
  if (!verdict.ok) return { action: 'rollback', reason: verdict.failures.join('; ') };
  if (step + 1 < steps.length) return { action: 'advance', step: step + 1, weight: steps[step + 1]! };
  return { action: 'promote' };
}

/** The (stable, canary) split for a canary weight. */
export function splitFor(canaryWeight: number): { stable: number; canary: number } {
  return { stable: 100 - canaryWeight, canary: canaryWeight };
}

/**
 * The phase to report now: a Progressing state that nobody has updated for two intervals plus a
 * minute is Degraded (its run died without recording it).
 */
export function effectivePhase(state: RolloutState, nowMs: number): { phase: Phase; stalled: boolean } {
  if (state.phase !== 'Progressing' || !state.intervalMs || !state.updatedAt) return { phase: state.phase, stalled: false };
  const age = nowMs - Date.parse(state.updatedAt);
  if (age > 2 * state.intervalMs + 60_000) return { phase: 'Degraded', stalled: true };
  return { phase: state.phase, stalled: false };
}

/**
 * Exit code of `mesh route status --watch` for a phase: 0 Promoted, 1 RolledBack / Paused /
 * Degraded (nothing will promote it), undefined while Progressing (keep watching).
 */
export function watchExitCode(phase: Phase): number | undefined {
  if (phase === 'Promoted') return 0;
  if (phase === 'Progressing') return undefined;
  return 1;
}

/**
 * Where a progressive run starts: step 0, or, when the route records a Paused or Progressing run
 * of the same canary with the same steps, the step it reached (a resumed run).
 */
export function resumeStep(existing: RolloutState | undefined, canary: string, steps: readonly number[]): number {
  if (!existing || existing.canary !== canary) return 0;
  if (existing.phase !== 'Paused' && existing.phase !== 'Progressing' && existing.phase !== 'Degraded') return 0;
  if (!existing.steps || existing.steps.length !== steps.length || existing.steps.some((s, i) => s !== steps[i])) return 0;
  const s = existing.step ?? 0;
  return s >= 0 && s < steps.length ? s : 0;
}
