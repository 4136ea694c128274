import { fileURLToPath } from 'node:url';
import { medianSpawn, type Benchmark, type BenchResult } from './harness.ts';

const MESH = fileURLToPath(new URL('../bin/mesh', import.meta.url));
const RUNS = 20;
/** Issue 2's target: cold start at most 2.5x bare node. */
const MAX_RATIO = 2.5;

export const benchmark: Benchmark = {
  name: 'cold start',
  async run(): Promise<BenchResult[]> {
    const env = { ...process.env, HOME: '/nonexistent-home', KUBECONFIG: '' };
    const node = medianSpawn(process.execPath, ['-e', '0'], RUNS, env);
    const out: BenchResult[] = [{ name: 'node -e 0', value: node, unit: 'ms', detail: `median of ${RUNS}` }];
    for (const args of [['--help'], ['version', '--client']]) {
      const ms = medianSpawn(process.execPath, [MESH, ...args], RUNS, env);
      const ratio = ms / node;
      out.push({ name: `mesh ${args.join(' ')}`, value: ratio, unit: 'x node', detail: `${ms.toFixed(1)} ms median of ${RUNS}`, target: { max: MAX_RATIO }, pass: ratio <= MAX_RATIO });
    }
    return out;
  },
};
