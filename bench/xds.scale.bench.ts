// Control plane at scale (issue 22): a controller process (bench/xds-scale-server.mjs, on dist/:
// `npm run bench` builds it first; after `npm run build`, `node --import tsx bench/run.ts xds.scale`) serving a
// scoped mesh of 2,000 services and 50,000 endpoints over 50 namespaces to N ADS streams (half
// state of the world, half delta; each subscribed to CDS and EDS as a wildcard) opened by two
// proxies processes, the 100 of ns0 in one and the rest in the other (bench/xds-scale-proxies.mjs
// says why). This process holds the mesh and sends the changes. Per N (BENCH_XDS_SCALE, default "1000,5000"):
// - storm: all N streams open at once against a freshly started controller (as after a controller
//   restart); time until every stream has its first CDS and EDS response, and per stream;
// - endpoint change: an EndpointSlice of a service in ns0 changes (one endpoint moved), delivered
//   as the Kubernetes source does; the time until every proxy of ns0 (the only namespace whose
//   scope holds it: 100 proxies at every N) has the EDS push, the controller's CPU per change,
//   and a check that no other proxy got anything (the bench fails otherwise);
// - churn: 10% of the endpoints per minute (one endpoint per EndpointSlice event, random services)
//   for BENCH_XDS_CHURN_S seconds (default 20): push latency and event-loop delay per third of the
//   run (a growing queue shows as a growing latency), the controller's CPU share;
// - the controller's resident memory (peak).
// BENCH_XDS_MAX_OPENING sets the ADS server's maxOpening (streams opening at once).
// BENCH_XDS_STREAMS_PER_CONNECTION: streams per HTTP/2 connection of the proxies outside ns0 (default 50).
// BENCH_XDS_CHANGE_GAP_MS: a quiet gap before each measured endpoint change (default 0).
// BENCH_XDS_PROF=DIR writes the controller's CPU profile of each phase into DIR/<time>/<phase>.cpuprofile.
// BENCH_XDS_CONTROLLER_ARGS and BENCH_XDS_PROXIES_ARGS pass node flags to the controller process
// and to the proxies processes (e.g. "--trace-gc").
// BENCH_XDS_GC_LOG=1 logs every GC of both processes and every endpoint change on stderr, with
// wall-clock times (ms), to tell which change a collection fell into.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { median, type Benchmark, type BenchResult } from './harness.ts';
import type { KubeObject } from '../src/cluster/types.ts';
import { scopedMesh } from './xds-fixture.ts';

/** What the bench sends the controller process. */
type ServerRequest =
  | { objects: KubeObject[] }
  | { change: { index: number; object: KubeObject }[]; third?: number; sentAt?: number }
  | { stats: true }
  | { profile: string }
  | { stop: true };

/** What the controller process answers. */
type ServerReply = { port: number } | { stats: ServerStats };

/** Garbage collections of a process since it was last asked: scavenges, mark-compacts, and their pauses (ms). */
interface GcCounts {
  minor: number;
  minorMs: number;
  major: number;
  majorMs: number;
}

/** The control plane's own figures since the last stats request (CPU, pushes) or peak (memory). */
interface ServerStats {
  cpuMs: number;
  rssMiB: number;
  maxRssMiB: number;
  heapMiB: number;
  pushes: number;
  /** Push latencies (source change to write) since the last stats request, ms. */
  pushLatencies: number[];
  /** Event-loop delay p99 since the last stats request, ms. */
  loopDelayP99: number;
  /** Per third of the churn: how late each change left the IPC queue (ms after it was sent), and push latencies (ms after the change was taken). */
  churn: { lag: number[][]; pushLatencies: number[][]; ns0: number[] };
  gc: GcCounts;
}

const SERVICES = 2000;
const ENDPOINTS = 25;
const NAMESPACES = 50;
/** Proxies in ns0, the namespace whose services change in the endpoint-change measure, at every N. */
const AFFECTED = 100;

/** The mesh the controller serves; the bench keeps it to make each change from the last state. */
const mesh = scopedMesh(SERVICES, ENDPOINTS, NAMESPACES);
const sliceAt = new Map<number, number>();
mesh.forEach((o, i) => {
  if (o.kind === 'EndpointSlice') sliceAt.set(Number(o.metadata.name.slice(3, -2)), i);
});
const moves = new Map<number, number>();

/** Service i's slice with its next endpoint moved to a new address (one pod replaced, as in a rollout). */
function moved(i: number): { index: number; object: KubeObject } {
  const index = sliceAt.get(i)!;
  const o = mesh[index]!;
  const g = (moves.get(i) ?? 0) + 1;
  moves.set(i, g);
  const eps = (o as unknown as { endpoints: { addresses: string[] }[] }).endpoints;
  const e = g % eps.length;
  const object = { ...o, endpoints: eps.map((ep, k) => (k === e ? { ...ep, addresses: [ep.addresses[0]!.replace(/\.\d+$/, `.${100 + (g % 150)}`)] } : ep)) } as KubeObject;
  mesh[index] = object;
  return { index, object };
}

/** Milliseconds on the wall clock with sub-millisecond resolution: the proxies process stamps receipts on the same clock. */
function now(): number {
  return performance.timeOrigin + performance.now();
}

function pct(xs: number[], p: number): number {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

/** The controller child process and its IPC. */
class Server {
  private readonly child: ChildProcess;
  private waiting: ((r: ServerReply) => void)[] = [];
  readonly port: Promise<number>;
  constructor(maxOpening?: number) {
    const prof = process.env.BENCH_XDS_PROF;
    const file = fileURLToPath(new URL('./xds-scale-server.mjs', import.meta.url));
    this.child = fork(file, [JSON.stringify({ maxOpening })], { execArgv: (process.env.BENCH_XDS_CONTROLLER_ARGS ?? '').split(' ').filter(Boolean), env: { ...process.env, BENCH_XDS_PROF: prof ? `${prof}/${Date.now()}` : '' }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (m: ServerReply) => this.waiting.shift()?.(m));
    this.port = this.next().then((m) => ('port' in m ? m.port : Promise.reject(new Error('expected the port'))));
    this.send({ objects: mesh });
  }
  private next(): Promise<ServerReply> {
    return new Promise((r) => this.waiting.push(r));
  }
  send(m: ServerRequest): void {
    this.child.send(m);
  }
  async stats(): Promise<ServerStats> {
    const r = this.next();
    this.send({ stats: true });
    const m = await r;
    if (!('stats' in m)) throw new Error('expected stats');
    return m.stats;
  }
  async stop(): Promise<void> {
    const exited = new Promise((r) => this.child.once('exit', r));
    this.send({ stop: true });
    await exited;
  }
}

/** A proxies process's storm: per stream, ms after the storm began; when its last stream was served (wall clock); its CPU. */
interface Served {
  times: number[];
  at: number;
  cpuMs: number;
}

/** What the proxies process answers (see bench/xds-scale-proxies.mjs). */
type ProxiesReply =
  | { ready: true }
  | { served: Served }
  | { round: number; at: number }
  | { counts: { unaffected: number; affected: number; gc: GcCounts; cpuMs: number } };

/** The proxies child process (its own heap and event loop: see bench/xds-scale-proxies.mjs) and its IPC. */
class Proxies {
  private readonly child: ChildProcess;
  private readonly waiting = new Map<string, ((r: ProxiesReply) => void)[]>();
  /** EDS rounds completed by every ns0 proxy: round number -> receipt of the last push (wall clock, ms). */
  private readonly rounds = new Map<number, number>();
  private roundWaiter: { k: number; resolve: (at: number) => void } | undefined;
  private readonly ready = this.next('ready');
  constructor() {
    const file = fileURLToPath(new URL('./xds-scale-proxies.mjs', import.meta.url));
    this.child = fork(file, [], { execArgv: (process.env.BENCH_XDS_PROXIES_ARGS ?? '').split(' ').filter(Boolean), stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (m: ProxiesReply) => {
      if ('round' in m) {
        this.rounds.set(m.round, m.at);
        if (this.roundWaiter?.k === m.round) this.roundWaiter.resolve(m.at);
        return;
      }
      this.waiting.get(Object.keys(m)[0]!)?.shift()?.(m);
    });
  }
  private next<K extends string>(key: K): Promise<Extract<ProxiesReply, Record<K, unknown>>> {
    return new Promise((r) => {
      const list = this.waiting.get(key) ?? [];
      list.push(r as (m: ProxiesReply) => void);
      this.waiting.set(key, list);
    });
  }
  /** Open the streams of `proxies` ([proxy number, namespace]) over `connections` HTTP/2 connections; resolves once all are served. */
  async open(port: number, proxies: [number, number][], connections: number, t0: number): Promise<Served> {
    const served = this.next('served');
    this.child.send({ open: { port, proxies, connections, t0 } });
    return (await served).served;
  }
  /** Resolves once the process is up (its modules loaded). */
  started(): Promise<unknown> {
    return this.ready;
  }
  /** When every ns0 proxy held its k-th EDS push (receipt of the last one, wall clock). */
  round(k: number): Promise<number> {
    const at = this.rounds.get(k);
    if (at !== undefined) return Promise.resolve(at);
    return new Promise((resolve) => (this.roundWaiter = { k, resolve }));
  }
  /** Responses after the first CDS and EDS, GCs and the process's CPU, since the last call (then reset). */
  async counts(): Promise<{ unaffected: number; affected: number; gc: GcCounts; cpuMs: number }> {
    const r = this.next('counts');
    this.child.send({ counts: true });
    return (await r).counts;
  }
  async close(): Promise<void> {
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.send({ close: true });
    await exited;
  }
}

/** Proxy i's namespace: the first AFFECTED in ns0, the rest spread over the other namespaces. */
function namespaceOf(i: number): number {
  return i < AFFECTED ? 0 : 1 + ((i - AFFECTED) % (NAMESPACES - 1));
}

async function scale(n: number): Promise<BenchResult[]> {
  const server = new Server(process.env.BENCH_XDS_MAX_OPENING ? Number(process.env.BENCH_XDS_MAX_OPENING) : undefined);
  const port = await server.port;
  // The 100 proxies every measured change reaches, over 20 connections (as at 1,000 before they
  // had a process of their own), apart from the rest (one connection per 50 streams).
  const namespaces = Array.from({ length: n }, (_, i) => namespaceOf(i));
  const groups = [Array.from({ length: AFFECTED }, (_, i): [number, number] => [i, 0]), namespaces.slice(AFFECTED).map((ns, k): [number, number] => [AFFECTED + k, ns])];
  // BENCH_XDS_STREAMS_PER_CONNECTION: streams per HTTP/2 connection of the other proxies (default 50; a real proxy has one of its own).
  const perConnection = Number(process.env.BENCH_XDS_STREAMS_PER_CONNECTION ?? 50);
  const procs = groups.map(() => new Proxies());
  await Promise.all(procs.map((p) => p.started()));
  const [measured] = procs as [Proxies, Proxies];
  // Storm: every stream opens at once.
  const t0 = now();
  const served = await Promise.all(procs.map((p, k) => p.open(port, groups[k]!, k === 0 ? 20 : Math.max(1, Math.ceil(groups[k]!.length / perConnection)), t0)));
  const stormMs = Math.max(...served.map((x) => x.at)) - t0;
  const times = served.flatMap((x) => x.times);
  const clientCpuMs = served.reduce((a, x) => a + x.cpuMs, 0);
  server.send({ profile: 'changes' });
  // The controller's CPU from its start: the model, each class's snapshot, every stream's first responses.
  const stormCpu = (await server.stats()).cpuMs;
  // Idle: what N open streams cost with nothing changing (keepalives, timers), to tell it apart from the per-change work.
  await new Promise((r) => setTimeout(r, 2000));
  const idleCpuPerS = (await server.stats()).cpuMs / 2;

  // Endpoint changes of ns0's services, one at a time: from when this process sends the change to
  // when the proxies process received the EDS push on the last of the affected streams.
  const rounds = Number(process.env.BENCH_XDS_ROUNDS ?? 50);
  const ns0Services = Array.from({ length: SERVICES / NAMESPACES }, (_, k) => k * NAMESPACES);
  const affected = namespaces.filter((ns) => ns === 0).length;
  const lat: number[] = [];
  let changesStart = 0;
  await Promise.all(procs.map((p) => p.counts()));
  const log = process.env.BENCH_XDS_GC_LOG ? (line: string) => process.stderr.write(`${line}\n`) : undefined;
  // BENCH_XDS_CHANGE_GAP_MS: a quiet gap before each change (default 0: the next change follows the
  // last receipt at once, while the affected proxies' ACKs of the previous one may still be on the way).
  const gapMs = Number(process.env.BENCH_XDS_CHANGE_GAP_MS ?? 0);
  for (let round = -5; round < rounds; round++) {
    if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
    if (round === 0) {
      await server.stats();
      changesStart = performance.now();
    }
    const k = round + 6;
    const t = now();
    server.send({ change: [moved(ns0Services[(round + 5) % ns0Services.length]!)] });
    const ms = (await measured.round(k)) - t;
    if (round >= 0) lat.push(ms);
    log?.(`change ${round} at ${t.toFixed(1)} ${ms.toFixed(1)} ms`);
  }
  // Whatever the last change still sends has had time to arrive: the ACKs of the affected came back.
  await new Promise((r) => setTimeout(r, 200));
  const changes = await server.stats();
  const changesS = (performance.now() - changesStart) / 1000;
  const cpuMs = changes.cpuMs;
  const got = await Promise.all(procs.map((p) => p.counts()));
  const unaffectedGot = got[0]!.unaffected + got[1]!.unaffected;
  const affectedGot = got[0]!.affected + got[1]!.affected;

  // Churn: 10% of the endpoints per minute, one endpoint per EndpointSlice event, spread evenly.
  const churnS = Number(process.env.BENCH_XDS_CHURN_S ?? 20);
  const perSecond = (SERVICES * ENDPOINTS * 0.1) / 60;
  server.send({ profile: 'churn' });
  await Promise.all(procs.map((p) => p.counts()));
  const churnStart = performance.now();
  let sent = 0;
  let seed = 1;
  const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  // Each change carries its third of the run and when it was sent: the controller records how late
  // it took it (a queue that grows shows as a growing lag) and its pushes' latencies, by third.
  const total = Math.round(churnS * perSecond);
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const elapsed = (performance.now() - churnStart) / 1000;
      const due = Math.min(total, Math.floor(elapsed * perSecond));
      while (sent < due) {
        // One delivery per endpoint event, as an informer delivers them.
        server.send({ change: [moved(Math.floor(random() * SERVICES))], third: 1 + Math.min(2, Math.floor((3 * sent) / total)), sentAt: Date.now() });
        sent++;
      }
      if (sent === total) {
        clearInterval(tick);
        resolve();
      }
    }, 20);
  });
  // The stats answer comes after every change before it was taken; then the last pushes' ACKs.
  const churnStats = await server.stats();
  const churnCpu = churnStats.cpuMs / 1000;
  const churnWall = (performance.now() - churnStart) / 1000;
  // The proxies' share: with one response in flight per stream, a proxy that answers late holds its next push back.
  const churnProxies = await Promise.all(procs.map((p) => p.counts()));
  server.send({ profile: '' });
  const final = await server.stats();
  await Promise.all(procs.map((p) => p.close()));
  await server.stop();

  const out: BenchResult[] = [];
  const at = `${n} proxies`;
  const stormGoal = n >= 5000 ? 10_000 : undefined;
  out.push({
    name: `${at}: storm, all streams open at once -> every one has CDS and EDS`, value: stormMs / 1000, unit: 's',
    ...(stormGoal ? { target: { max: stormGoal / 1000 } } : {}),
    detail: `per stream p10 ${(pct(times, 10) / 1000).toFixed(2)} s, p50 ${(median(times) / 1000).toFixed(2)} s, p99 ${(pct(times, 99) / 1000).toFixed(2)} s; the ${n} clients used ${(clientCpuMs / 1000).toFixed(1)} CPU-s`,
  });
  out.push({ name: `${at}: storm, controller CPU (model, snapshots, every stream's first responses)`, value: stormCpu / 1000, unit: 'CPU-s', detail: 'controller process only: does not grow with machine load, unlike the wall time' });
  const latGoal = n >= 5000 ? 250 : 50;
  const gcText = (g: GcCounts): string => `${g.minor} scavenges (${g.minorMs.toFixed(0)} ms), ${g.major} mark-compacts (${g.majorMs.toFixed(0)} ms)`;
  out.push({ name: `${at}: endpoint change -> all ${affected} affected proxies hold it, p50`, value: median(lat), unit: 'ms', detail: `${rounds} changes of ns0 services; sent -> received by the proxies process` });
  out.push({
    name: `${at}: endpoint change -> all affected hold it, p99`, value: pct(lat, 99), unit: 'ms', target: { max: latGoal },
    detail: `max ${Math.max(...lat).toFixed(1)} ms; GC during the changes: controller ${gcText(changes.gc)}; the 100 proxies' process ${gcText(got[0]!.gc)}, the others' ${gcText(got[1]!.gc)}`,
  });
  out.push({ name: `${at}: controller CPU per endpoint change`, value: cpuMs / rounds, unit: 'ms', detail: `controller process only (process.cpuUsage); compare across N; idle with ${n} streams: ${idleCpuPerS.toFixed(1)} ms CPU per second, so net of idle ${((cpuMs - idleCpuPerS * changesS) / rounds).toFixed(1)} ms per change` });
  const expected = (rounds + 5) * affected;
  out.push({
    name: `${at}: responses to unaffected proxies during the changes (plus any missing or extra to the affected)`, value: unaffectedGot + Math.abs(affectedGot - expected), unit: '', target: { max: 0 },
    detail: `unaffected got ${unaffectedGot}; affected got ${affectedGot} (expected ${expected}: one EDS push per change each)`,
  });
  // Change sent -> taken -> pushed, per third: sustained means the last third is no later than the first (or under 250 ms).
  const ends = [0, 1, 2].map((k) => pct(churnStats.churn.lag[k]!, 99) + pct(churnStats.churn.pushLatencies[k]!, 99));
  const bound = Math.max(250, 2 * ends[0]!);
  out.push({
    name: `${at}: churn 10%/min (${perSecond.toFixed(0)} endpoint events/s, ${churnS} s), change sent -> pushed, p99 in the last third`, value: ends[2]!, unit: 'ms',
    target: { max: bound },
    detail: `by third ${ends.map((x) => x.toFixed(0)).join(' / ')} ms (queue lag p99 ${churnStats.churn.lag.map((l) => pct(l, 99).toFixed(0)).join(' / ')}); controller CPU ${((churnCpu / churnWall) * 100).toFixed(0)}% of a core, ${((churnCpu * 1000) / total).toFixed(1)} ms per event; ${churnStats.pushes} pushes (${(churnStats.pushes / total).toFixed(0)} per event); proxies processes ${churnProxies.map((c) => ((c.cpuMs / 1000 / churnWall) * 100).toFixed(0)).join(' and ')}% of a core; push latency p99 to the ns0 proxies (their own process) ${pct(churnStats.churn.ns0, 99).toFixed(0)} ms, to all ${pct(churnStats.churn.pushLatencies.flat(), 99).toFixed(0)} ms`,
  });
  const rssGoal = n >= 5000 ? 1024 : 300;
  out.push({ name: `${at}: controller resident memory, peak`, value: final.maxRssMiB, unit: 'MiB', target: { max: rssGoal }, detail: `now ${final.rssMiB.toFixed(0)} MiB, heap ${final.heapMiB.toFixed(0)} MiB` });
  return out;
}

export const benchmark: Benchmark = {
  name: 'xds-scale',
  async run(): Promise<BenchResult[]> {
    const out: BenchResult[] = [];
    for (const n of (process.env.BENCH_XDS_SCALE ?? '1000,5000').split(',').map(Number)) out.push(...(await scale(n)));
    return out;
  },
};
