// The controller side of the scale bench (bench/xds.scale.bench.ts), run as a child process on the
// built dist/ (as `mesh controller` runs: no TypeScript loader in the process), so its CPU time
// and resident memory are the control plane's alone; the client streams run in the parent. The
// parent sends the mesh, then EndpointSlice changes, delivered as the Kubernetes source delivers
// an informer event: the set of its kept copies with the changed slice's new copy in place, and
// that change (SourceChanges; MemorySource.change). Messages: see
// ServerRequest and ServerReply in xds.scale.bench.ts.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { countGc } from './gc-count.mjs';
import { ControlPlane } from '../dist/controller/controlplane.js';
import { MemorySource } from '../dist/cluster/source.js';

const cfg = JSON.parse(process.argv[2] ?? '{}');
let cached;
let source;
let cp;
let pushes = 0;
let latencies = [];
// Churn, by the third of the run the last delivered change belongs to: how late each change was
// taken from the IPC queue (ms after the bench sent it) and each push's latency (ms after its change was taken).
let third = 0;
const lag = [[], [], []];
const pushLat = [[], [], []];
const ns0Lat = [];
const loop = monitorEventLoopDelay({ resolution: 5 });
loop.enable();
let cpu = process.cpuUsage();
// Garbage collections since the last stats request (BENCH_XDS_GC_LOG: each one on stderr, on the wall clock).
const gc = countGc('controller');

// BENCH_XDS_PROF=DIR: a CPU profile per phase (the parent names them), written as DIR/PHASE.cpuprofile.
const profDir = process.env.BENCH_XDS_PROF;
const session = profDir ? new Session() : undefined;
let phase = 'storm';
async function profile(next) {
  if (!session) return;
  const { profile: p } = await session.post('Profiler.stop');
  writeFileSync(join(profDir, `${phase}.cpuprofile`), JSON.stringify(p));
  phase = next;
  if (next) await session.post('Profiler.start');
}

async function start(objects) {
  if (session) {
    mkdirSync(profDir, { recursive: true });
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  cached = objects;
  source = new MemorySource(cached.map((o) => ({ ...o })));
  cp = new ControlPlane({ source, ...(cfg.maxOpening ? { adsLimits: { maxOpening: cfg.maxOpening } } : {}) });
  cp.ads.on('push', (p) => {
    pushes++;
    if (p.latencyMs !== undefined) latencies.push(p.latencyMs);
    if (third && p.latencyMs !== undefined) pushLat[third - 1].push(p.latencyMs);
    // The 100 ns0 proxies have a lightly loaded process of their own: their pushes wait less for the previous one's ACK.
    if (third && p.latencyMs !== undefined && p.stream.node.namespace === 'ns0') ns0Lat.push(p.latencyMs);
  });
  const port = await cp.start({ host: '127.0.0.1', port: 0 });
  process.send({ port });
}

function stats() {
  const c = process.cpuUsage(cpu);
  cpu = process.cpuUsage();
  const mem = process.memoryUsage();
  const s = {
    cpuMs: (c.user + c.system) / 1000,
    rssMiB: mem.rss / 2 ** 20,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    heapMiB: mem.heapUsed / 2 ** 20,
    pushes,
    pushLatencies: latencies,
    loopDelayP99: loop.percentile(99) / 1e6,
    churn: { lag, pushLatencies: pushLat, ns0: ns0Lat },
    gc: { ...gc },
  };
  gc.minor = gc.minorMs = gc.major = gc.majorMs = 0;
  latencies = [];
  pushes = 0;
  loop.reset();
  process.send({ stats: s });
}

process.on('message', (m) => {
  if (m.objects) void start(m.objects);
  else if (m.change) {
    if (m.third) {
      third = m.third;
      lag[third - 1].push(Date.now() - m.sentAt);
    }
    // As the Kubernetes source delivers an informer event: the set of kept copies, the changed one new, and that change.
    for (const { index, object } of m.change) cached[index] = object;
    source.change(m.change.map(({ object }) => ({ ...object })));
  } else if (m.stats) stats();
  else if (m.profile !== undefined) void profile(m.profile);
  else void cp.stop().then(() => process.exit(0));
});
