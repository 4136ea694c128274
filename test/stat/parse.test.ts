import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parsePrometheusText, histogramBuckets } from '../../src/metrics/prometheus.ts';
import { parseClusterName, readProxy, sideWindow, summarize } from '../../src/metrics/envoy.ts';
import { envoyText } from './support/envoy.ts';
import type { MeshError } from '../../src/errors.ts';

const FIXTURE = readFileSync(new URL('./fixtures/catalog-proxy.prom', import.meta.url), 'utf8');
const PRICING = 'outbound|8080||pricing.shop.svc.cluster.local';

test('parsing keeps each labelled histogram series apart (the library alone would merge them)', () => {
  const samples = parsePrometheusText(FIXTURE);
  const hs = histogramBuckets(samples, 'envoy_cluster_upstream_rq_time', (l) => l.envoy_cluster_name);
  assert.deepEqual([...hs.keys()].sort(), [PRICING, 'prometheus_stats']);
  assert.deepEqual(hs.get(PRICING), [
    { le: 0.5, count: 0 }, { le: 1, count: 100 }, { le: 5, count: 900 }, { le: 10, count: 1150 }, { le: 25, count: 1200 }, { le: Infinity, count: 1200 },
  ]);
});

test('parsing: label values keep "|" and dots; the last line counts even without a trailing newline', () => {
  const samples = parsePrometheusText('# TYPE x counter\nx{envoy_cluster_name="outbound|80||a.b.svc.cluster.local"} 1\nlast_one 7');
  assert.equal(samples[0]!.labels.envoy_cluster_name, 'outbound|80||a.b.svc.cluster.local');
  assert.deepEqual(samples.find((s) => s.name === 'last_one')?.value, 7);
});

test('parsing: +Inf and exponents are numbers; a malformed line is an input error naming the source', () => {
  const s = parsePrometheusText('a 1.5e3\nb +Inf\n');
  assert.deepEqual(s.map((x) => x.value), [1500, Infinity]);
  assert.throws(() => parsePrometheusText('this is { not prometheus\n', 'pod shop/catalog-1'), (e: MeshError) => e.exitCode === 2 && /shop\/catalog-1/.test(e.message));
});

test('an Envoy reading: inbound per port, outbound per cluster, inbound listener; noise ignored', () => {
  const r = readProxy(parsePrometheusText(FIXTURE));
  assert.deepEqual([...r.inboundPorts.keys()], [8080]);
  const in8080 = r.inboundPorts.get(8080)!;
  assert.equal(in8080.requests, 1000);
  assert.equal(in8080.failures, 20, 'only 5xx are failures, not 4xx');
  assert.equal(in8080.cxActive, 5);
  assert.equal(in8080.tls, 15);
  assert.deepEqual([...r.outbound.keys()].sort(), ['outbound|5432||db.shop.svc.cluster.local', PRICING], 'prometheus_stats is not an outbound cluster');
  assert.equal(r.outbound.get(PRICING)!.requests, 1200);
  assert.equal(r.outbound.get(PRICING)!.failures, 12);
  assert.deepEqual(r.inboundListener, { requests: 0, failures: 0, latencyMs: [], cxActive: 6, cxTotal: 22, tls: 15, rateLimited: 0, flags: {} });
  assert.equal(in8080.rateLimited, 42, 'the local rate limit counter of port 8080 (Envoy tags it with the HCM prefix)');
});

test('summary of a reading against an empty one: hand-computed success, quantiles and mTLS share', () => {
  const r = readProxy(parsePrometheusText(FIXTURE));
  const s = summarize(sideWindow(undefined, r.inboundPorts.get(8080)!, 10));
  assert.equal(s.rps, 100);
  assert.equal(s.successRate, 0.98);
  // p50: rank 500 tops (1,5] -> 5. p95: rank 950, 50 of 100 into (10,25] -> 17.5. p99: 90 of 100 -> 23.5.
  assert.deepEqual(s.latencyMs, { p50: 5, p95: 17.5, p99: 23.5 });
  assert.equal(s.mtlsShare, 0.75);
  assert.equal(s.tcpConnections, 5);
  const out = summarize(sideWindow(undefined, r.outbound.get(PRICING)!, 10));
  assert.equal(out.latencyMs.p50, 3.5, 'rank 600: 500 of 800 into (1,5]');
  assert.equal(out.successRate, 0.99);
});

test('two readings: deltas give the window rate, success and latency of just that window', () => {
  const before = readProxy(parsePrometheusText(envoyText({ inbound: { 8080: { requests: 100, failures: 0, latencies: Array(100).fill(3), cxActive: 2, cxTotal: 10, tls: 10 } } })));
  const after = readProxy(parsePrometheusText(envoyText({ inbound: { 8080: { requests: 160, failures: 6, latencies: [...Array(100).fill(3), ...Array(60).fill(40)], cxActive: 4, cxTotal: 14, tls: 12 } } })));
  const s = summarize(sideWindow(before.inboundPorts.get(8080), after.inboundPorts.get(8080)!, 2));
  assert.equal(s.rps, 30);
  assert.equal(s.successRate, 0.9);
  // All 60 new requests took 40 ms: bucket (25,50]; p50 rank 30 of 60 -> 25 + 25*0.5.
  assert.equal(s.latencyMs.p50, 37.5);
  assert.equal(s.mtlsShare, 0.5, '2 of the 4 connections opened in the window used TLS');
  assert.equal(s.tcpConnections, 4);
});

test('a window with no requests has no success rate or latency (shown as "-")', () => {
  const r = readProxy(parsePrometheusText(envoyText({ inbound: { 80: { requests: 5 } } })));
  const s = summarize(sideWindow(r.inboundPorts.get(80), r.inboundPorts.get(80)!, 2));
  assert.equal(s.rps, 0);
  assert.equal(s.successRate, undefined);
  assert.deepEqual(s.latencyMs, { p50: undefined, p95: undefined, p99: undefined });
});

test('cluster names: outbound|PORT|SUBSET|FQDN', () => {
  assert.deepEqual(parseClusterName(PRICING), { port: 8080, service: 'pricing', namespace: 'shop', subset: '' });
  assert.equal(parseClusterName('inbound|8080||'), undefined);
  assert.equal(parseClusterName('prometheus_stats'), undefined);
});

test('parsing with a keep filter drops unrelated stats (and their TYPE lines) but reads the same Envoy numbers', async () => {
  const { isEnvoyMetricWanted } = await import('../../src/metrics/envoy.ts');
  const noise = Array.from({ length: 300 }, (_, i) => `# TYPE envoy_cluster_lb_zone_routing_${i} counter\nenvoy_cluster_lb_zone_routing_${i}{envoy_cluster_name="x"} ${i}`).join('\n');
  const text = noise + '\n' + FIXTURE;
  const all = parsePrometheusText(text);
  const kept = parsePrometheusText(text, 'pod shop/catalog-1', isEnvoyMetricWanted);
  assert.ok(kept.length < all.length - 300);
  assert.ok(kept.every((s) => !s.name.startsWith('envoy_cluster_lb_zone_routing_')));
  const a = readProxy(all);
  const b = readProxy(kept);
  assert.deepEqual([...b.outbound.entries()], [...a.outbound.entries()]);
  assert.deepEqual([...b.inboundPorts.entries()], [...a.inboundPorts.entries()]);
  assert.deepEqual(b.inboundListener, a.inboundListener);
});
