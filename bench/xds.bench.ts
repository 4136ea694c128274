// Control-plane benchmarks (issue 8): build + encode a full snapshot for 1,000 services / 10,000
// endpoints; bytes of config per proxy with and without scoping; N in-process ADS streams and the
// time from an EndpointSlice change to every stream holding it (p50/p99), through the controller's
// own timers (no flush() shortcut), delivered as the Kubernetes source delivers it (shallow copies
// of every cached object, the changed slice new: the target) and as a files reload does (every
// object a fresh copy); from a Service change (full rebuild); resident memory.
// The endpoint-change measure runs again over incremental (delta) ADS streams.
// BENCH_XDS_STREAMS sets N (default 1000), BENCH_XDS_ROUNDS the number of endpoint changes (default 100).
import * as grpc from '@grpc/grpc-js';
import { buildModel } from '../src/model/index.ts';
import { proxylessResources, sidecarResources } from '../src/xds/translate.ts';
import { EncodeMemo, makeSnapshot, type Snapshot } from '../src/xds/snapshot.ts';
import { TYPE } from '../src/xds/protos.ts';
import { ControlPlane } from '../src/controller/controlplane.ts';
import type { DeltaDiscoveryResponse, DiscoveryResponse } from '../src/xds/ads.ts';
import { median, type Benchmark, type BenchResult } from './harness.ts';
import { PushSource, slice, syntheticMesh } from './xds-fixture.ts';
import type { KubeObject } from '../src/cluster/types.ts';

function bytes(s: Snapshot): number {
  let n = 0;
  for (const t of Object.values(s.types)) for (const r of t.resources.values()) n += r.any.value.length;
  return n;
}

function time<T>(f: () => T): [T, number] {
  const t0 = process.hrtime.bigint();
  const r = f();
  return [r, Number(process.hrtime.bigint() - t0) / 1e6];
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

/**
 * N streams subscribed by name to svc0's EDS resource and the endpoint-change measures. `delta`:
 * the streams speak incremental xDS and only the Kubernetes-source endpoint measure runs.
 */
async function streams(n: number, mode: 'sotw' | 'delta' = 'sotw'): Promise<BenchResult[]> {
  let seed = 0;
  const source = new PushSource(syntheticMesh());
  let waitingFor = '';
  let modelAt = 0;
  let modelDone: (() => void) | undefined;
  // Default debounces: what `mesh controller` runs with.
  const cp = new ControlPlane({
    source,
    onModel: () => {
      modelAt = performance.now();
      modelDone?.();
      waitingFor = cp.cache.get('proxy-0')?.types[TYPE.endpoint].version ?? '';
    },
  });
  const port = await cp.start({ host: '127.0.0.1', port: 0 });
  const Client = grpc.makeGenericClientConstructor(cp.ads.serviceDefinition(), 'ADS');
  const target = 'outbound|8080||svc0.ns0.svc.cluster.local';
  let pending = 0;
  let done: (() => void) | undefined;
  const calls: grpc.ClientDuplexStream<unknown, unknown>[] = [];
  // Several channels: one HTTP/2 connection per 100 streams, as many proxies would have.
  const clients = Array.from({ length: Math.ceil(n / 100) }, () => new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()));
  let synced = 0;
  let syncedAll: (() => void) | undefined;
  const allSynced = new Promise<void>((r) => (syncedAll = r));
  for (let i = 0; i < n; i++) {
    const client = clients[i % clients.length] as any;
    const call = (mode === 'delta' ? client.DeltaAggregatedResources() : client.StreamAggregatedResources()) as grpc.ClientDuplexStream<unknown, DiscoveryResponse & DeltaDiscoveryResponse>;
    calls.push(call);
    let first = true;
    const node = { id: `proxy-${i}`, user_agent_name: 'bench', metadata: { fields: { NAMESPACE: { stringValue: `ns${i % 50}` }, PROXY_KIND: { stringValue: 'grpc' } } } };
    call.on('data', (r: DiscoveryResponse & DeltaDiscoveryResponse) => {
      const version = mode === 'delta' ? r.system_version_info : r.version_info;
      call.write(mode === 'delta' ? { type_url: r.type_url, response_nonce: r.nonce } : { type_url: r.type_url, version_info: r.version_info, response_nonce: r.nonce, resource_names: [target] });
      if (first) {
        first = false;
        if (++synced === n) syncedAll?.();
      } else if (version === waitingFor && --pending === 0) done?.();
    });
    call.on('error', () => undefined);
    // Subscribe to the EDS resource of the service whose endpoints change (as gRPC does, by name).
    call.write(mode === 'delta' ? { node, type_url: TYPE.endpoint, resource_names_subscribe: [target] } : { node, type_url: TYPE.endpoint, resource_names: [target] });
  }
  await allSynced;
  const rssSynced = process.memoryUsage().rss;
  const buildSum = async (): Promise<{ sum: number; count: number }> => {
    const v = (await cp.metrics.buildSeconds.get()).values;
    return { sum: v.find((x) => x.metricName?.endsWith('_sum'))?.value ?? 0, count: v.find((x) => x.metricName?.endsWith('_count'))?.value ?? 0 };
  };
  const rounds = Number(process.env.BENCH_XDS_ROUNDS ?? 100);
  /** `rounds` endpoint changes of svc0, each delivered as `make(seed)`; latencies to all n streams holding it. */
  const endpointRounds = async (make: (seed: number) => KubeObject[]): Promise<{ lat: number[]; diffMs: number[]; toModel: number[]; updateMs: number; cpuMs: number }> => {
    const lat: number[] = [];
    const diffMs: number[] = [];
    const toModel: number[] = [];
    let before = await buildSum();
    let cpu = 0;
    // Warm-up rounds, not counted: the first changes of a kind compile the incremental path (and
    // the first informer-style delivery replaces every held object once, like a re-list).
    for (let round = -5; round < rounds; round++) {
      if (round === 0) before = await buildSum();
      seed++;
      const finished = new Promise<void>((r) => (done = r));
      pending = n;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      source.set(make(seed));
      const diff = performance.now() - t0;
      await finished;
      if (round < 0) continue;
      diffMs.push(diff);
      lat.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu += (c.user + c.system) / 1000;
      toModel.push(modelAt - t0);
    }
    const after = await buildSum();
    return { lat, diffMs, toModel, updateMs: ((after.sum - before.sum) / Math.max(1, after.count - before.count)) * 1000, cpuMs: cpu / rounds };
  };
  // As the Kubernetes source delivers an EndpointSlice event (src/cluster/watch.ts): a shallow copy
  // of every cached object, only the changed slice new. This is the target measure.
  const cached = syntheticMesh(1000, 10, 50, seed);
  const informer = await endpointRounds((sd) => cached.map((o) => (o.kind === 'EndpointSlice' && o.metadata.name === 'svc0-1' ? slice('ns0', 'svc0', 0, 10, sd) : { ...o })));
  if (mode === 'delta') {
    for (const c of calls) c.cancel();
    for (const c of clients) c.close();
    await cp.stop();
    const { lat } = informer;
    return [
      { name: `delta xDS: EndpointSlice change -> all ${n} streams hold it, p50`, value: median(lat), unit: 'ms', detail: `${rounds} changes as the Kubernetes source delivers them, DeltaAggregatedResources streams` },
      { name: `delta xDS: EndpointSlice change -> all ${n} streams hold it, p99`, value: pct(lat, 99), unit: 'ms', target: { max: 100 }, pass: pct(lat, 99) <= 100, detail: `p90 ${pct(lat, 90).toFixed(1)} ms, max ${Math.max(...lat).toFixed(1)} ms` },
      { name: 'delta xDS: CPU per endpoint change (controller and the in-process clients)', value: informer.cpuMs, unit: 'ms' },
    ];
  }
  // As a files-source reload delivers: every object a fresh copy (the differ compares deeply, and
  // 11k fresh objects per change outlive the young generation: expect a longer GC tail).
  const fresh = await endpointRounds((sd) => syntheticMesh(1000, 10, 50, sd));
  // A structural change (a Service annotation) with the default 100 ms debounce: a full rebuild.
  // The streams subscribe to EDS only, which this does not change: measured to the rebuilt snapshots being set.
  const structural: number[] = [];
  for (let round = 0; round < 5; round++) {
    const objs = syntheticMesh(1000, 10, 50, seed).map((o) =>
      o.kind === 'Service' && o.metadata.name === 'svc0' ? { ...o, metadata: { ...o.metadata, annotations: { 'mesh.dev/circuit-breaker': JSON.stringify({ maxRequests: 100 + round }) } } } : o,
    );
    const rebuilt = new Promise<void>((r) => (modelDone = r));
    const t0 = performance.now();
    source.set(objs);
    await rebuilt;
    structural.push(modelAt - t0);
  }
  const rss = Math.max(rssSynced, process.memoryUsage().rss);
  for (const c of calls) c.cancel();
  for (const c of clients) c.close();
  await cp.stop();
  const { lat } = informer;
  return [
    { name: `EndpointSlice change -> all ${n} streams hold it, p50`, value: median(lat), unit: 'ms', detail: `${rounds} changes as the Kubernetes source delivers them; endpoint throttle (10 ms), incremental EDS, push` },
    { name: `EndpointSlice change -> all ${n} streams hold it, p99`, value: pct(lat, 99), unit: 'ms', target: { max: 100 }, pass: pct(lat, 99) <= 100, detail: `p90 ${pct(lat, 90).toFixed(1)} ms, max ${Math.max(...lat).toFixed(1)} ms, ${lat.filter((x) => x > 100).length} of ${rounds} over 100 ms` },
    { name: 'of which: diff of the delivery, median', value: median(informer.diffMs), unit: 'ms' },
    { name: 'of which: until snapshots set and written (throttle wait + update), median', value: median(informer.toModel), unit: 'ms', detail: 'the rest is gRPC delivery to the in-process clients' },
    { name: 'incremental EDS update (model, translate, encode, snapshots, push), mean', value: informer.updateMs, unit: 'ms', detail: 'mesh_xds_snapshot_build_seconds' },
    { name: 'CPU per endpoint change (controller and the in-process clients)', value: informer.cpuMs, unit: 'ms', detail: 'process.cpuUsage: does not grow with machine load, unlike the latencies' },
    { name: 'EndpointSlice change in a files reload (all 11k objects fresh), p50', value: median(fresh.lat), unit: 'ms', detail: `${rounds} changes; diff ${median(fresh.diffMs).toFixed(1)} ms, CPU ${fresh.cpuMs.toFixed(1)} ms per change` },
    { name: 'EndpointSlice change in a files reload (all 11k objects fresh), p99', value: pct(fresh.lat, 99), unit: 'ms', detail: `p90 ${pct(fresh.lat, 90).toFixed(1)} ms, max ${Math.max(...fresh.lat).toFixed(1)} ms, ${fresh.lat.filter((x) => x > 100).length} of ${rounds} over 100 ms` },
    { name: `Service change -> all ${n} streams hold it, median`, value: median(structural), unit: 'ms', detail: '5 changes; to snapshots rebuilt and set, after the 100 ms structural debounce' },
    { name: `resident memory with ${n} streams`, value: rss / 2 ** 20, unit: 'MiB', target: { max: 1024 }, pass: rss / 2 ** 20 <= 1024 },
  ];
}

/** Build time and bytes per proxy; a function of its own so its snapshots are garbage before the streams run. */
function builds(): BenchResult[] {
  const objects = syntheticMesh();
  const [model, modelMs] = time(() => buildModel(objects));
  // One memo for the series, as the controller's cache carries encodings from build to build.
  const memo = new EncodeMemo();
  makeSnapshot('warm', proxylessResources(model, { id: 'w', kind: 'grpc', namespace: 'ns0' }), undefined, undefined, memo);
  const builds: number[] = [];
  let full: Snapshot | undefined;
  for (let i = 0; i < 5; i++) {
    const [s, ms] = time(() => makeSnapshot(String(i), proxylessResources(buildModel(syntheticMesh(1000, 10, 50, i + 1)), { id: 'p', kind: 'grpc', namespace: 'ns0' }), undefined, undefined, memo));
    builds.push(ms);
    full = s;
  }
  const [side, sideMs] = time(() => makeSnapshot('s', sidecarResources(model, { id: 's', kind: 'sidecar', namespace: 'ns0' }), undefined, undefined, memo));
  const scopedObjects = objects.map((o) => (o.kind === 'Namespace' && o.metadata.name === 'ns0' ? { ...o, metadata: { ...o.metadata, annotations: { 'mesh.dev/reachable-namespaces': 'ns1' } } } : o));
  const scoped = makeSnapshot('x', proxylessResources(buildModel(scopedObjects), { id: 'p', kind: 'grpc', namespace: 'ns0' }), undefined, undefined, memo);
  const out: BenchResult[] = [
    { name: 'buildModel (1,000 services, 10,000 endpoints)', value: modelMs, unit: 'ms' },
    { name: 'model + translate + encode, proxyless, full mesh', value: median(builds), unit: 'ms', detail: 'median of 5, a fresh endpoint set each time' },
    { name: 'translate + encode, Envoy sidecar, full mesh', value: sideMs, unit: 'ms' },
    { name: 'config per proxyless proxy, whole mesh', value: bytes(full!) / 1024, unit: 'KiB' },
    { name: 'config per Envoy sidecar, whole mesh', value: bytes(side) / 1024, unit: 'KiB' },
    { name: 'config per proxy, scoped to 2 of 50 namespaces', value: bytes(scoped) / 1024, unit: 'KiB' },
  ];
  return out;
}

export const benchmark: Benchmark = {
  name: 'xds',
  async run(): Promise<BenchResult[]> {
    const out = builds();
    out.push(...(await streams(Number(process.env.BENCH_XDS_STREAMS ?? 1000))));
    out.push(...(await streams(Number(process.env.BENCH_XDS_STREAMS ?? 1000), 'delta')));
    return out;
  },
};
