// Cold start of every command's --help, `mesh --help` and `mesh version --client`, each as a ratio
// against `node -e 0` measured in the same run (issue 22's goal: at most 1.25x). Runs are
// interleaved (node, then each command, round after round) so load changes hit all alike.
import { fileURLToPath } from 'node:url';
import { COMMANDS } from '../src/commands/index.ts';
import { median, ratioResult, timeSpawn, type Benchmark, type BenchResult } from './harness.ts';

const MESH = fileURLToPath(new URL('../bin/mesh', import.meta.url));
const RUNS = Number(process.env.MESH_BENCH_COLD_RUNS ?? 15);
/** Issue 22's goal: cold start at most 1.25x bare node. */
const GOAL = 1.25;

export const benchmark: Benchmark = {
  name: 'cold start',
  async run(): Promise<BenchResult[]> {
    const env = { ...process.env, HOME: '/nonexistent-home', KUBECONFIG: '' };
    const cases: string[][] = [['--help'], ['version', '--client'], ...COMMANDS.filter((c) => !c.hidden).map((c) => [c.name, '--help'])];
    const floor = [process.execPath, '-e', '0'];
    const runs = new Map<string, number[]>();
    const all = [floor, ...cases.map((args) => [process.execPath, MESH, ...args])];
    for (const [cmd, ...args] of all) timeSpawn(cmd!, args, env); // warm the file cache
    for (let i = 0; i < RUNS; i++) {
      for (const [cmd, ...args] of all) {
        const key = args.join(' ');
        runs.set(key, [...(runs.get(key) ?? []), timeSpawn(cmd!, args, env)]);
      }
    }
    const node = median(runs.get('-e 0')!);
    const out: BenchResult[] = [{ name: 'node -e 0', value: node, unit: 'ms', detail: `median of ${RUNS}` }];
    for (const args of cases) out.push(ratioResult(`mesh ${args.join(' ')}`, median(runs.get([MESH, ...args].join(' '))!), node, GOAL, `median of ${RUNS}, interleaved with node -e 0`));
    return out;
  },
};
