import { execa } from 'execa';
import { fileURLToPath } from 'node:url';
import { startApiServer, startKubelet } from '../test/support/kube.ts';
import { median, type Benchmark, type BenchResult } from './harness.ts';

const MESH = fileURLToPath(new URL('../bin/mesh', import.meta.url));
const RUNS = 3;
const LATENCY_MS = 20;

/**
 * `mesh install` end to end against the test API server with 20 ms added to every request: a
 * fresh server per run, pods made ready by the stand-in kubelet. The detail compares the time
 * with the requests made times the latency, i.e. what applying one request after another costs.
 */
export const benchmark: Benchmark = {
  name: 'install',
  async run(): Promise<BenchResult[]> {
    const out: BenchResult[] = [];
    for (const [args, latency] of [[['install'], 0], [['install'], LATENCY_MS], [['install', '--skip-checks'], LATENCY_MS]] as const) {
      const times: number[] = [];
      let requests = 0;
      for (let i = 0; i < RUNS; i++) {
        const c = await startApiServer();
        const kubelet = startKubelet(c.server);
        c.server.latencyMs = latency;
        const before = c.server.requests.length;
        const t0 = process.hrtime.bigint();
        const r = await execa(process.execPath, [MESH, '--kubeconfig', c.kubeconfigPath, ...args], { reject: false, env: { HOME: '/nonexistent-home' } });
        times.push(Number(process.hrtime.bigint() - t0) / 1e6);
        requests = c.server.requests.length - before;
        kubelet.stop();
        await c.stop();
        if (r.exitCode !== 0) throw new Error(`mesh ${args.join(' ')} exited ${r.exitCode}: ${r.stderr}`);
      }
      const ms = median(times);
      out.push({ name: `mesh ${args.join(' ')} (+${latency} ms/request)`, value: ms, unit: 'ms', detail: `median of ${RUNS}; ${requests} requests${latency ? `, ${requests * latency} ms of latency if made one after another` : ''}` });
    }
    return out;
  },
};
