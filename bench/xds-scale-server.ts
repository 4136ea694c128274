// The controller side of the scale bench (bench/xds-scale.bench.ts), run as a child process so its
// CPU time and resident memory are the control plane's alone (the thousands of client streams run
// in the parent). It serves a scoped synthetic mesh and takes endpoint changes over IPC, delivered
// as the Kubernetes source delivers them: a shallow copy of every cached object, the changed
// EndpointSlices new.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { ControlPlane } from '../src/controller/controlplane.ts';
import type { KubeObject } from '../src/cluster/types.ts';
import { PushSource, scopedMesh } from './xds-fixture.ts';

/** What the parent sends. */
export type ServerRequest =
  | { change: number[] }
  | { stats: true }
  | { profile: string }
  | { stop: true };

/** What the child answers. */
export type ServerReply =
  | { port: number }
  | { stats: ServerStats };

/** The control plane's own figures since the last stats request (CPU and pushes) or peak (memory). */
export interface ServerStats {
  cpuMs: number;
  rssMiB: number;
  maxRssMiB: number;
  heapMiB: number;
  pushes: number;
  /** Push latencies (source change to write) since the last stats request, ms. */
  pushLatencies: number[];
  /** Event-loop delay p99 since the last stats request, ms. */
  loopDelayP99: number;
}

const cfg = JSON.parse(process.argv[2] ?? '{}') as { services: number; endpoints: number; namespaces: number; maxOpening?: number };
const cached = scopedMesh(cfg.services, cfg.endpoints, cfg.namespaces);
const sliceAt = new Map<number, number>();
cached.forEach((o, i) => {
  if (o.kind === 'EndpointSlice') sliceAt.set(Number(o.metadata.name.slice(3, -2)), i);
});
const moves = new Map<number, number>();

/** Service i's slice with its next endpoint moved to a new address (one pod replaced, as in a rollout). */
function moved(i: number): KubeObject {
  const o = cached[sliceAt.get(i)!]!;
  const g = (moves.get(i) ?? 0) + 1;
  moves.set(i, g);
  const eps = (o as unknown as { endpoints: { addresses: string[] }[] }).endpoints;
  const e = g % eps.length;
  const next = eps.map((ep, k) => (k === e ? { ...ep, addresses: [ep.addresses[0]!.replace(/\.\d+$/, `.${100 + (g % 150)}`)] } : ep));
  return { ...o, endpoints: next } as KubeObject;
}

const source = new PushSource(cached.map((o) => ({ ...o })));
const cp = new ControlPlane({ source, ...(cfg.maxOpening ? { adsLimits: { maxOpening: cfg.maxOpening } } : {}) });
let pushes = 0;
let latencies: number[] = [];
cp.ads.on('push', (p) => {
  pushes++;
  if (p.latencyMs !== undefined) latencies.push(p.latencyMs);
});
const loop = monitorEventLoopDelay({ resolution: 5 });
loop.enable();
let cpu = process.cpuUsage();
// BENCH_XDS_PROF=DIR: a CPU profile per phase (the parent names them), written as DIR/PHASE.cpuprofile.
const profDir = process.env.BENCH_XDS_PROF;
const session = profDir ? new Session() : undefined;
let phase = 'storm';
if (session && profDir) {
  mkdirSync(profDir, { recursive: true });
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
}
async function profile(next: string): Promise<void> {
  if (!session || !profDir) return;
  const { profile: p } = await session.post('Profiler.stop');
  writeFileSync(join(profDir, `${phase}.cpuprofile`), JSON.stringify(p));
  phase = next;
  if (next) await session.post('Profiler.start');
}
const port = await cp.start({ host: '127.0.0.1', port: 0 });
process.send!({ port } satisfies ServerReply);

process.on('message', (m: ServerRequest) => {
  if ('change' in m) {
    for (const i of m.change) cached[sliceAt.get(i)!] = moved(i);
    source.set(cached.map((o) => ({ ...o })));
  } else if ('stats' in m) {
    const c = process.cpuUsage(cpu);
    cpu = process.cpuUsage();
    const mem = process.memoryUsage();
    const stats: ServerStats = {
      cpuMs: (c.user + c.system) / 1000,
      rssMiB: mem.rss / 2 ** 20,
      maxRssMiB: process.resourceUsage().maxRSS / 1024,
      heapMiB: mem.heapUsed / 2 ** 20,
      pushes,
      pushLatencies: latencies,
      loopDelayP99: loop.percentile(99) / 1e6,
    };
    latencies = [];
    pushes = 0;
    loop.reset();
    process.send!({ stats } satisfies ServerReply);
  } else if ('profile' in m) {
    void profile(m.profile);
  } else {
    void cp.stop().then(() => process.exit(0));
  }
});
