// Issue 7's benchmark: time from `mesh route canary` returning to 99% of calls following the new
// weights. The route handler (the code `mesh route canary` runs) writes the HTTPRoute; the control
// plane (src/controller, default 100 ms debounce) builds and pushes xDS over ADS on loopback; real
// @grpc/grpc-js-xds clients call two real gRPC backends. What is NOT included: the API server and
// the controller's watch of it (the write reaches the control plane's source directly), so add
// one watch event's latency for a cluster.
import type * as grpc from '@grpc/grpc-js';
import { ControlPlane, MemorySource } from '../src/controller/controlplane.ts';
import type { KubeObject } from '../src/cluster/types.ts';
import { validateCanaryOptions } from '../src/route/options.ts';
import { runCanary } from '../src/route/run.ts';
import { slices, startBackend, svc, who, xdsClient } from '../test/xds/support.ts';
import { captureUi, MemoryCluster } from '../test/route/support.ts';
import { median, type Benchmark, type BenchResult } from './harness.ts';

const NS = 'shop';
const CLIENTS = 4;
const WORKERS = 8;
const FLIPS = 6;

interface Sample {
  start: number;
  name?: string;
}

/** Call continuously until `stable` consecutive calls answer `want`; returns every call's start time and answer. */
async function stream(client: grpc.Client, want: string, deadline: number, stable = 300): Promise<Sample[]> {
  const out: Sample[] = [];
  let streak = 0;
  const worker = async (): Promise<void> => {
    while (streak < stable && performance.now() < deadline) {
      const start = performance.now();
      const r = await who(client);
      out.push({ start, name: r.name });
      streak = r.name === want ? streak + 1 : 0;
    }
  };
  await Promise.all(Array.from({ length: WORKERS }, worker));
  return out.sort((a, b) => a.start - b.start);
}

/** The earliest time from which at least 99% of the calls started answer `want`. */
function followedAt(samples: Sample[], want: string): number {
  let good = 0;
  let at = samples.length ? samples[samples.length - 1]!.start : Infinity;
  for (let i = samples.length - 1; i >= 0; i--) {
    if (samples[i]!.name === want) good++;
    if (good / (samples.length - i) >= 0.99) at = samples[i]!.start;
  }
  return at;
}

export const benchmark: Benchmark = {
  name: 'route canary propagation',
  async run(): Promise<BenchResult[]> {
    const [stable, canary] = await Promise.all([startBackend('stable'), startBackend('canary')]);
    const endpoints: KubeObject[] = [...slices(NS, 'web', [stable]), ...slices(NS, 'web-v2', [canary])];
    const cluster = new MemoryCluster();
    for (const o of [svc(NS, 'web'), svc(NS, 'web-v2')]) cluster.put(o);
    const source = new MemorySource([...cluster.objects.values(), ...endpoints]);
    cluster.afterWrite = (objs) => source.set([...objs, ...endpoints]);
    const cp = new ControlPlane({ source });
    const port = await cp.start({ host: '127.0.0.1', port: 0 });
    const clients = Array.from({ length: CLIENTS }, (_, i) => xdsClient(`web.${NS}.svc.cluster.local:8080`, port, `bench-${i}`, NS));
    const setWeight = async (weight: number) => {
      const t0 = performance.now();
      const code = await runCanary({ ...validateCanaryOptions('web', { canary: 'web-v2', weight: String(weight) }), namespace: NS, output: 'table' }, captureUi().ui, { cluster });
      if (code !== 0) throw new Error(`route canary exited ${code}`);
      return { t0, t1: performance.now() };
    };
    try {
      await setWeight(0);
      await Promise.all(clients.map((c) => stream(c, 'stable', performance.now() + 30_000)));
      await Promise.all(clients.map((c) => who(c)));
      const times: number[] = [];
      const applies: number[] = [];
      for (let i = 0; i < FLIPS; i++) {
        const weight = i % 2 === 0 ? 100 : 0;
        const want = weight === 100 ? 'canary' : 'stable';
        // Clients keep calling while the route changes, as a live service would.
        const deadline = performance.now() + 30_000;
        let returned = 0;
        const streams = clients.map((c) => stream(c, want, deadline));
        const applied = await setWeight(weight);
        returned = applied.t1;
        applies.push(applied.t1 - applied.t0);
        const per = (await Promise.all(streams)).map((s) => followedAt(s, want) - returned);
        if (per.some((x) => !Number.isFinite(x))) throw new Error('a client never followed the new weights within 30 s');
        times.push(Math.max(0, ...per));
      }
      return [
        { name: `route canary returned -> 99% of calls follow (${CLIENTS} grpc-js-xds clients, slowest)`, value: median(times), unit: 'ms', detail: `median of ${FLIPS} flips 0%<->100%; max ${Math.max(...times).toFixed(0)} ms; control plane debounce 100 ms; API server watch not included` },
        { name: 'route canary handler (in-memory cluster)', value: median(applies), unit: 'ms', detail: `median of ${FLIPS}` },
      ];
    } finally {
      for (const c of clients) c.close();
      await cp.stop();
      await Promise.all([stable.stop(), canary.stop()]);
    }
  },
};
