import { spawnSync } from 'node:child_process';

/** One benchmark's outcome: a measured value, and optionally the target it must meet. */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  /** Human detail (e.g. the baseline it was compared against). */
  detail?: string;
  /**
   * The goal, if this measure has one: `value` must be at most `max`. Goals that depend on the
   * machine are ratios against a floor measured in the same run (see {@link ratioResult}).
   */
  target?: { max: number };
  /** Filled in by {@link judge} (run.ts): whether `value` met the target. */
  pass?: boolean;
}

/**
 * How far past its goal a measure may be before the bench fails (exit 1). A goal missed by less is
 * printed as "missed" but does not fail: on a shared 2-core machine a same-run ratio still moves by
 * a few percent, and the guard is there to make regressions visible, not to flake.
 */
export const TOLERANCE = 0.2;

/** A measure's standing against its goal. */
export type Verdict = 'ok' | 'missed' | 'regressed';

/** Judge `r` against its target: ok, missed by at most {@link TOLERANCE}, or regressed (fails the bench). */
export function judge(r: BenchResult): Verdict | undefined {
  if (!r.target) return undefined;
  if (r.value <= r.target.max) return 'ok';
  return r.value <= r.target.max * (1 + TOLERANCE) ? 'missed' : 'regressed';
}

/** The Result column: the verdict, with how far over the goal a missed measure is. */
export function verdictText(r: BenchResult): string {
  const v = judge(r);
  if (v === undefined) return '';
  if (v === 'ok') return 'ok';
  const over = `+${((r.value / r.target!.max - 1) * 100).toFixed(0)}%`;
  return v === 'missed' ? `missed (${over})` : `REGRESSED (${over})`;
}

/**
 * A measure expressed as a ratio against a floor measured in the same run (e.g. `node -e 0`, or
 * js-yaml parsing and printing the same file), so the goal holds on any machine and under load.
 */
export function ratioResult(name: string, ms: number, floorMs: number, goal: number, detail: string): BenchResult {
  const value = ms / floorMs;
  return { name, value, unit: 'x floor', target: { max: goal }, detail: `${ms.toFixed(1)} ms vs floor ${floorMs.toFixed(1)} ms; ${detail}` };
}

export interface Benchmark {
  name: string;
  run(): Promise<BenchResult[]>;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Wall time of one run of `cmd args` in milliseconds (spawned fresh, output discarded). */
export function timeSpawn(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: 'ignore', env });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}`);
  return ms;
}

/** Median of `runs` timings, after one warm-up run so the file cache is equal for all. */
export function medianSpawn(cmd: string, args: string[], runs: number, env?: NodeJS.ProcessEnv): number {
  timeSpawn(cmd, args, env);
  const xs: number[] = [];
  for (let i = 0; i < runs; i++) xs.push(timeSpawn(cmd, args, env));
  return median(xs);
}
