import { fileURLToPath } from 'node:url';
import { medianSpawn, type Benchmark, type BenchResult } from './harness.ts';

const MESH = fileURLToPath(new URL('../bin/mesh', import.meta.url));
const RUNS = 15;

/** `mesh manifest generate` end to end: process start, values, templates, rendering, YAML out. */
export const benchmark: Benchmark = {
  name: 'manifest',
  async run(): Promise<BenchResult[]> {
    const env = { ...process.env, HOME: '/nonexistent-home', KUBECONFIG: '' };
    const out: BenchResult[] = [];
    const node = medianSpawn(process.execPath, ['-e', '0'], RUNS, env);
    for (const args of [['manifest', 'generate'], ['manifest', 'generate', '--profile', 'ha', '--set', 'controller.replicas=5']]) {
      const ms = medianSpawn(process.execPath, [MESH, ...args], RUNS, env);
      out.push({ name: `mesh ${args.join(' ')}`, value: ms, unit: 'ms', detail: `median of ${RUNS}, process start included (node -e 0: ${node.toFixed(1)} ms)` });
    }
    return out;
  },
};
