// Proxies of the scale bench (bench/xds.scale.bench.ts): ADS streams (state of the world for even
// proxy numbers, delta for odd ones; CDS and EDS as wildcards) in a process of their own, on the
// built dist/. The bench runs two: one with the 100 proxies of ns0 (the ones every measured
// endpoint change reaches) and one with all the others.
//
// Why not in the bench process: simulated proxies in one V8 heap share one garbage collector,
// which real proxies do not (each is its own process; Envoy has no GC). There, the 30 KB EDS
// messages of each push (and node's HTTP/2 read buffers) stayed referenced past the scavenges,
// their external memory started a mark-compact of the whole bench heap (fixture, harness, Envoy
// protos, 1,000 streams: 36-46 MB) every ~12 changes, and each held every simulated proxy's
// receipt back by 40-90 ms: the 1,000-proxy p99 measured the bench's GC, not the control plane.
// Why the 100 measured proxies apart from the rest: that collection is still there (it follows
// the bytes received, whatever the young generation's size), but its pause follows the heap it
// marks, and 100 streams make a small one.
//
// Responses are read only as far as an ACK needs (version, type, nonce; the resources are
// skipped, not decoded). Each EDS push is stamped at receipt on the wall clock
// (performance.timeOrigin + performance.now(), which the bench process shares) so the bench
// compares it with when it sent the change. GCs of this process are counted (BENCH_XDS_GC_LOG
// logs each one).
//
// Messages from the bench: { open: { port, proxies: [[number, namespace]...], connections, t0 } }
// (namespace 0 is the one whose services change; t0: when the storm started, wall clock),
// { counts: true } (answered, then reset), { close: true }. Answers: { ready: true };
// { served: { times, at, cpuMs } } once every stream has its first CDS and EDS (times: per stream,
// ms after t0; at: the last); { round: k, at } when every ns0 proxy here holds its k-th EDS push
// (at: receipt of the last); { counts: { unaffected, affected, gc, cpuMs } } (cpuMs: this process's
// CPU since the last counts).
import { Buffer } from 'node:buffer';
import { performance } from 'node:perf_hooks';
import { countGc } from './gc-count.mjs';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { TYPE } from '../dist/xds/protos.js';

/** Milliseconds on the wall clock, with sub-millisecond resolution: comparable across processes. */
const now = () => performance.timeOrigin + performance.now();

const gc = countGc('proxies');

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

/** An envoy.config.core.v3.Node (id = 1, metadata = 3: a Struct of string Values, user_agent_name = 6) as field `field`. */
function writeNode(w, field, id, namespace) {
  w.uint32((field << 3) | 2).fork();
  w.uint32(10).string(id);
  w.uint32(26).fork();
  for (const [k, v] of [['NAMESPACE', namespace], ['PROXY_KIND', 'grpc']]) {
    // Struct.fields = 1, a map entry (key = 1, value = 2), Value.string_value = 3.
    w.uint32(10).fork().uint32(10).string(k).uint32(18).fork().uint32(26).string(v).ldelim().ldelim();
  }
  w.ldelim();
  w.uint32(50).string('bench');
  w.ldelim();
}

/**
 * Requests written by hand, so this process never loads the Envoy protos (a smaller heap to mark):
 * DiscoveryRequest (version_info = 1, node = 2, type_url = 4, response_nonce = 5) and
 * DeltaDiscoveryRequest (node = 1, type_url = 2, response_nonce = 6); the wildcard subscriptions
 * have no names. `node`: [id, namespace] on a stream's first request.
 */
function sotwRequest({ version, node, type_url, nonce }) {
  const w = protobuf.Writer.create();
  if (version) w.uint32(10).string(version);
  if (node) writeNode(w, 2, node[0], node[1]);
  w.uint32(34).string(type_url);
  if (nonce) w.uint32(42).string(nonce);
  return Buffer.from(w.finish());
}

function deltaRequest({ node, type_url, nonce }) {
  const w = protobuf.Writer.create();
  if (node) writeNode(w, 1, node[0], node[1]);
  w.uint32(18).string(type_url);
  if (nonce) w.uint32(50).string(nonce);
  return Buffer.from(w.finish());
}

function definition() {
  const method = (name, requestSerialize) => ({
    path: `/envoy.service.discovery.v3.AggregatedDiscoveryService/${name}`,
    requestStream: true,
    responseStream: true,
    requestSerialize,
    requestDeserialize: () => {
      throw new Error('client only');
    },
    responseSerialize: () => {
      throw new Error('client only');
    },
    responseDeserialize: header,
  });
  return { StreamAggregatedResources: method('StreamAggregatedResources', sotwRequest), DeltaAggregatedResources: method('DeltaAggregatedResources', deltaRequest) };
}

let clients = [];
const proxies = [];
/** Per round k (1-based): ns0 proxies that hold their k-th EDS push, and the latest receipt. */
const got = [];
const last = [];
let affected = 0;

function open({ port, proxies: list, connections, t0 }) {
  const Client = grpc.makeGenericClientConstructor(definition(), 'ADS');
  const n = list.length;
  clients = Array.from({ length: connections }, () => new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()));
  affected = list.filter(([, ns]) => ns === 0).length;
  const times = [];
  let served = 0;
  const cpu0 = process.cpuUsage();
  for (let j = 0; j < n; j++) {
    const [i, ns] = list[j];
    const delta = i % 2 === 1;
    const c = clients[j % clients.length];
    const call = delta ? c.DeltaAggregatedResources() : c.StreamAggregatedResources();
    const p = { ns, call, served: 0, responses: 0, eds: 0 };
    proxies.push(p);
    call.on('data', (r) => {
      const at = now();
      call.write({ type_url: r.type_url, version: r.version, nonce: r.nonce });
      if (p.served < 2) {
        if (++p.served === 2) {
          times.push(at - t0);
          if (++served === n) {
            const c1 = process.cpuUsage(cpu0);
            process.send({ served: { times, at, cpuMs: (c1.user + c1.system) / 1000 } });
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
    call.write({ node: [`proxy-${i}`, `ns${ns}`], type_url: TYPE.cluster });
    call.write({ type_url: TYPE.endpoint });
  }
}

/** CPU since the last counts request (counts also report it). */
let countsCpu = process.cpuUsage();

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
    const c = process.cpuUsage(countsCpu);
    countsCpu = process.cpuUsage();
    process.send({ counts: { unaffected, affected: affectedGot, gc: { ...gc }, cpuMs: (c.user + c.system) / 1000 } });
    gc.minor = gc.minorMs = gc.major = gc.majorMs = 0;
  } else if (m.close) {
    for (const c of clients) c.close();
    for (const p of proxies) p.call.cancel();
    process.exit(0);
  }
});
process.send({ ready: true });
