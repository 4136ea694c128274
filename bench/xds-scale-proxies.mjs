// The proxies of the scale bench (bench/xds.scale.bench.ts): N ADS streams (half state of the
// world, half delta; CDS and EDS as wildcards), run in a process of their own on the built dist/.
// Why not in the bench process: 1,000 simulated proxies in one V8 heap share one garbage
// collector, which real proxies do not (each is its own process; Envoy has no GC). In the bench
// process, with the default young generation, each push's 30 KB messages were still in flight
// at a scavenge, got promoted, and every ~12 changes their external memory started a mark-compact
// of the whole bench heap (fixture, harness, Envoy protos: 36-46 MB), which held every simulated
// proxy's receipt back by 40-90 ms: the 1,000-proxy p99 measured the bench's GC, not the control
// plane. Here the heap holds the streams only, the young generation (--max-semi-space-size, set by
// the bench) outlives a change's messages, responses are read only as far as an ACK needs (version,
// type, nonce; the resources are skipped, not decoded), and each EDS push is stamped at receipt
// on the shared wall clock (performance.timeOrigin + performance.now()), so the bench compares it
// with when it sent the change. GC of this process is counted (BENCH_XDS_GC_LOG logs each one).
//
// Messages from the bench: { open: { port, namespaces } } (namespaces[i]: proxy i's namespace
// number; 0 is the one whose services change), { counts: true } (and reset them), { close: true }. Answers:
// { served: { times, ms, cpuMs } } once every stream has its first CDS and EDS; { round: k, at }
// when every ns0 proxy holds its k-th EDS push (at: receipt of the last); { counts: {...} }.
import { Buffer } from 'node:buffer';
import { performance, PerformanceObserver } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { envoyRoot, TYPE } from '../dist/xds/protos.js';

/** Milliseconds on the wall clock, with sub-millisecond resolution: comparable across processes. */
const now = () => performance.timeOrigin + performance.now();

const gc = { minor: 0, minorMs: 0, major: 0, majorMs: 0 };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    // Kinds (perf_hooks constants): 1 scavenge, 4 mark-compact, 8 incremental marking, 16 weak callbacks.
    const kind = e.detail?.kind;
    if (kind === 1) {
      gc.minor++;
      gc.minorMs += e.duration;
    } else {
      if (kind === 4) gc.major++;
      gc.majorMs += e.duration;
    }
    if (process.env.BENCH_XDS_GC_LOG) process.stderr.write(`gc proxies kind ${kind} at ${(performance.timeOrigin + e.startTime).toFixed(1)} ${e.duration.toFixed(1)} ms\n`);
  }
}).observe({ entryTypes: ['gc'] });

/**
 * The fields an ACK needs of a (Delta)DiscoveryResponse, which both number alike: version_info or
 * system_version_info = 1, type_url = 4, nonce = 5. The resources (2) and the rest are skipped.
 */
function header(b) {
  const r = protobuf.Reader.create(b);
  const out = { version: '', type_url: '', nonce: '' };
  while (r.pos < r.len) {
    const tag = r.uint32();
    const field = tag >>> 3;
    if (field === 1) out.version = r.string();
    else if (field === 4) out.type_url = r.string();
    else if (field === 5) out.nonce = r.string();
    else r.skipType(tag & 7);
  }
  return out;
}

function definition() {
  const t = (name) => envoyRoot().lookupType(`envoy.service.discovery.v3.${name}`);
  const method = (name, req) => ({
    path: `/envoy.service.discovery.v3.AggregatedDiscoveryService/${name}`,
    requestStream: true,
    responseStream: true,
    requestSerialize: (m) => Buffer.from(req.encode(req.fromObject(m)).finish()),
    requestDeserialize: (b) => req.decode(b),
    responseSerialize: () => {
      throw new Error('client only');
    },
    responseDeserialize: header,
  });
  return {
    StreamAggregatedResources: method('StreamAggregatedResources', t('DiscoveryRequest')),
    DeltaAggregatedResources: method('DeltaAggregatedResources', t('DeltaDiscoveryRequest')),
  };
}

let clients = [];
const proxies = [];
/** Per round k (1-based): ns0 proxies that hold their k-th EDS push, and the latest receipt. */
const got = [];
const last = [];
let affected = 0;

function open({ port, namespaces }) {
  const Client = grpc.makeGenericClientConstructor(definition(), 'ADS');
  const n = namespaces.length;
  // One HTTP/2 connection per 50 streams, as many proxies would have.
  clients = Array.from({ length: Math.ceil(n / 50) }, () => new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()));
  affected = namespaces.filter((ns) => ns === 0).length;
  const times = [];
  let served = 0;
  const t0 = now();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const delta = i % 2 === 1;
    const ns = namespaces[i];
    const c = clients[i % clients.length];
    const call = delta ? c.DeltaAggregatedResources() : c.StreamAggregatedResources();
    const p = { ns, call, served: 0, responses: 0, eds: 0 };
    proxies.push(p);
    call.on('data', (r) => {
      const at = now();
      call.write(delta ? { type_url: r.type_url, response_nonce: r.nonce } : { type_url: r.type_url, version_info: r.version, response_nonce: r.nonce });
      if (p.served < 2) {
        if (++p.served === 2) {
          times.push(at - t0);
          if (++served === n) {
            const c1 = process.cpuUsage(cpu0);
            process.send({ served: { times, ms: at - t0, cpuMs: (c1.user + c1.system) / 1000 } });
          }
        }
        return;
      }
      p.responses++;
      if (ns !== 0 || r.type_url !== TYPE.endpoint) return;
      const k = ++p.eds;
      got[k] = (got[k] ?? 0) + 1;
      last[k] = Math.max(last[k] ?? 0, at);
      if (got[k] === affected) process.send({ round: k, at: last[k] });
    });
    call.on('error', () => undefined);
    const node = { id: `proxy-${i}`, user_agent_name: 'bench', metadata: { fields: { NAMESPACE: { stringValue: `ns${ns}` }, PROXY_KIND: { stringValue: 'grpc' } } } };
    for (const [k, type_url] of [TYPE.cluster, TYPE.endpoint].entries()) {
      call.write(delta ? { ...(k === 0 ? { node } : {}), type_url, resource_names_subscribe: [] } : { ...(k === 0 ? { node } : {}), type_url, resource_names: [] });
    }
  }
}

process.on('message', (m) => {
  if (m.open) open(m.open);
  else if (m.counts) {
    let unaffected = 0;
    let affectedGot = 0;
    for (const p of proxies) {
      if (p.ns === 0) affectedGot += p.responses;
      else unaffected += p.responses;
      p.responses = 0;
    }
    process.send({ counts: { unaffected, affected: affectedGot, gc: { ...gc } } });
    gc.minor = gc.minorMs = gc.major = gc.majorMs = 0;
  } else if (m.close) {
    for (const c of clients) c.close();
    for (const p of proxies) p.call.cancel();
    process.exit(0);
  }
});
process.send({ ready: true });
