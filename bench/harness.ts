import { spawnSync } from 'node:child_process';

/** One benchmark's outcome: a measured value, and optionally the target it must meet. */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  /** Human detail (e.g. the baseline it was compared against). */
  detail?: string;
  /** The target, if this benchmark has one; `pass` says whether `value` met it. */
  target?: { max: number };
  pass?: boolean;
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
