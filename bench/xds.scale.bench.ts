// Control plane at scale (issue 22): a controller process (bench/xds-scale-server.mjs, on dist/:
// `npm run bench` builds it first; after `npm run build`, `node --import tsx bench/run.ts xds.scale`) serving a
// scoped mesh of 2,000 services and 50,000 endpoints over 50 namespaces to N ADS streams (half
// state of the world, half delta; each subscribed to CDS and EDS as a wildcard) opened by this
// process. Per N (BENCH_XDS_SCALE, default "1000,5000"):
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
// BENCH_XDS_PROF=DIR writes the controller's CPU profile of each phase into DIR/<time>/<phase>.cpuprofile.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { envoyRoot, TYPE } from '../src/xds/protos.ts';
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
  churn: { lag: number[][]; pushLatencies: number[][] };
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
    this.child = fork(file, [JSON.stringify({ maxOpening })], { execArgv: [], env: { ...process.env, BENCH_XDS_PROF: prof ? `${prof}/${Date.now()}` : '' }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
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

interface Response {
  version_info?: string;
  system_version_info?: string;
  nonce: string;
  type_url: string;
}

/** A client definition that decodes responses without converting them to plain objects (the Any bodies stay bytes). */
function clientDefinition(): grpc.ServiceDefinition {
  const t = (name: string): protobuf.Type => envoyRoot().lookupType(`envoy.service.discovery.v3.${name}`);
  const method = (name: string, req: protobuf.Type, res: protobuf.Type): grpc.MethodDefinition<unknown, unknown> => ({
    path: `/envoy.service.discovery.v3.AggregatedDiscoveryService/${name}`,
    requestStream: true,
    responseStream: true,
    requestSerialize: (m: unknown) => Buffer.from(req.encode(req.fromObject(m as Record<string, unknown>)).finish()),
    requestDeserialize: (b: Buffer) => req.decode(b),
    responseSerialize: (m: unknown) => Buffer.from(res.encode(m as protobuf.Message).finish()),
    responseDeserialize: (b: Buffer) => res.decode(b),
  });
  return {
    StreamAggregatedResources: method('StreamAggregatedResources', t('DiscoveryRequest'), t('DiscoveryResponse')),
    DeltaAggregatedResources: method('DeltaAggregatedResources', t('DeltaDiscoveryRequest'), t('DeltaDiscoveryResponse')),
  };
}

/** One proxy's stream: CDS and EDS as wildcards, every response ACKed, responses counted. */
interface Proxy {
  ns: number;
  call: grpc.ClientDuplexStream<unknown, Response>;
  /** First CDS and EDS responses received. */
  served: number;
  servedAt: number;
  /** Responses since the counter was last reset. */
  responses: number;
  onEds?: () => void;
}

/** Proxy i's namespace: the first AFFECTED in ns0, the rest spread over the other namespaces. */
function namespaceOf(i: number): number {
  return i < AFFECTED ? 0 : 1 + ((i - AFFECTED) % (NAMESPACES - 1));
}

async function scale(n: number): Promise<BenchResult[]> {
  const server = new Server(process.env.BENCH_XDS_MAX_OPENING ? Number(process.env.BENCH_XDS_MAX_OPENING) : undefined);
  const port = await server.port;
  const def = clientDefinition();
  const Client = grpc.makeGenericClientConstructor(def, 'ADS');
  // One HTTP/2 connection per 50 streams, as many proxies would have.
  const clients = Array.from({ length: Math.ceil(n / 50) }, () => new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()));
  const proxies: Proxy[] = [];
  let servedCount = 0;
  let allServed: (() => void) | undefined;
  const served = new Promise<void>((r) => (allServed = r));
  // Storm: every stream opens at once.
  const t0 = performance.now();
  const clientCpu0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const delta = i % 2 === 1;
    const ns = namespaceOf(i);
    const c = clients[i % clients.length] as unknown as Record<string, () => grpc.ClientDuplexStream<unknown, Response>>;
    const call = delta ? c.DeltaAggregatedResources!() : c.StreamAggregatedResources!();
    const p: Proxy = { ns, call, served: 0, servedAt: 0, responses: 0 };
    proxies.push(p);
    call.on('data', (r: Response) => {
      call.write(delta ? { type_url: r.type_url, response_nonce: r.nonce } : { type_url: r.type_url, version_info: r.version_info, response_nonce: r.nonce });
      if (p.served < 2) {
        if (++p.served === 2) {
          p.servedAt = performance.now() - t0;
          if (++servedCount === n) allServed?.();
        }
        return;
      }
      p.responses++;
      if (r.type_url === TYPE.endpoint) p.onEds?.();
    });
    call.on('error', () => undefined);
    const node = { id: `proxy-${i}`, user_agent_name: 'bench', metadata: { fields: { NAMESPACE: { stringValue: `ns${ns}` }, PROXY_KIND: { stringValue: 'grpc' } } } };
    for (const [k, type_url] of [TYPE.cluster, TYPE.endpoint].entries()) {
      call.write(delta ? { ...(k === 0 ? { node } : {}), type_url, resource_names_subscribe: [] } : { ...(k === 0 ? { node } : {}), type_url, resource_names: [] });
    }
  }
  await served;
  const stormMs = performance.now() - t0;
  server.send({ profile: 'changes' });
  const times = proxies.map((p) => p.servedAt);
  const clientCpu = process.cpuUsage(clientCpu0);
  // The controller's CPU from its start: the model, each class's snapshot, every stream's first responses.
  const stormCpu = (await server.stats()).cpuMs;
  // Idle: what N open streams cost with nothing changing (keepalives, timers), to tell it apart from the per-change work.
  await new Promise((r) => setTimeout(r, 2000));
  const idleCpuPerS = (await server.stats()).cpuMs / 2;

  // Endpoint changes of ns0's services, one at a time.
  const rounds = Number(process.env.BENCH_XDS_ROUNDS ?? 50);
  const ns0Services = Array.from({ length: SERVICES / NAMESPACES }, (_, k) => k * NAMESPACES);
  const affected = proxies.filter((p) => p.ns === 0);
  const lat: number[] = [];
  for (const p of proxies) p.responses = 0;
  let cpuMs = 0;
  for (let round = -5; round < rounds; round++) {
    let pending = affected.length;
    const finished = new Promise<void>((r) => {
      for (const p of affected) {
        p.onEds = () => {
          p.onEds = undefined;
          if (--pending === 0) r();
        };
      }
    });
    if (round === 0) await server.stats();
    const t = performance.now();
    server.send({ change: [moved(ns0Services[(round + 5) % ns0Services.length]!)] });
    await finished;
    if (round >= 0) lat.push(performance.now() - t);
  }
  // Whatever the last change still sends has had time to arrive: the ACKs of the affected came back.
  await new Promise((r) => setTimeout(r, 200));
  cpuMs = (await server.stats()).cpuMs;
  const unaffectedGot = proxies.filter((p) => p.ns !== 0).reduce((s, p) => s + p.responses, 0);
  const affectedGot = affected.reduce((s, p) => s + p.responses, 0);

  // Churn: 10% of the endpoints per minute, one endpoint per EndpointSlice event, spread evenly.
  const churnS = Number(process.env.BENCH_XDS_CHURN_S ?? 20);
  const perSecond = (SERVICES * ENDPOINTS * 0.1) / 60;
  server.send({ profile: 'churn' });
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
  server.send({ profile: '' });
  const final = await server.stats();
  for (const c of clients) c.close();
  for (const p of proxies) p.call.cancel();
  await server.stop();

  const out: BenchResult[] = [];
  const at = `${n} proxies`;
  const stormGoal = n >= 5000 ? 10_000 : undefined;
  out.push({
    name: `${at}: storm, all streams open at once -> every one has CDS and EDS`, value: stormMs / 1000, unit: 's',
    ...(stormGoal ? { target: { max: stormGoal / 1000 } } : {}),
    detail: `per stream p10 ${(pct(times, 10) / 1000).toFixed(2)} s, p50 ${(median(times) / 1000).toFixed(2)} s, p99 ${(pct(times, 99) / 1000).toFixed(2)} s; the ${n} clients used ${((clientCpu.user + clientCpu.system) / 1e6).toFixed(1)} CPU-s`,
  });
  out.push({ name: `${at}: storm, controller CPU (model, snapshots, every stream's first responses)`, value: stormCpu / 1000, unit: 'CPU-s', detail: 'controller process only: does not grow with machine load, unlike the wall time' });
  const latGoal = n >= 5000 ? 250 : 50;
  out.push({ name: `${at}: endpoint change -> all ${affected.length} affected proxies hold it, p50`, value: median(lat), unit: 'ms', detail: `${rounds} changes of ns0 services` });
  out.push({ name: `${at}: endpoint change -> all affected hold it, p99`, value: pct(lat, 99), unit: 'ms', target: { max: latGoal }, detail: `max ${Math.max(...lat).toFixed(1)} ms` });
  out.push({ name: `${at}: controller CPU per endpoint change`, value: cpuMs / rounds, unit: 'ms', detail: `controller process only (process.cpuUsage); compare across N; idle with ${n} streams: ${idleCpuPerS.toFixed(1)} ms CPU per second` });
  const expected = (rounds + 5) * affected.length;
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
    detail: `by third ${ends.map((x) => x.toFixed(0)).join(' / ')} ms (queue lag p99 ${churnStats.churn.lag.map((l) => pct(l, 99).toFixed(0)).join(' / ')}); controller CPU ${((churnCpu / churnWall) * 100).toFixed(0)}% of a core`,
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
