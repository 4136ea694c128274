import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { backendQueries, PrometheusMetrics } from '../../src/route/metrics.ts';
import type { MeshError } from '../../src/errors.ts';

/** A fake Prometheus on loopback answering /api/v1/query from `answer(query)`. */
async function fakePrometheus(answer: (q: string) => unknown): Promise<{ url: string; queries: string[]; server: Server }> {
  const queries: string[] = [];
  const server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    if (u.pathname !== '/api/v1/query') {
      res.writeHead(404).end();
      return;
    }
    const q = u.searchParams.get('query') ?? '';
    queries.push(q);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(answer(q)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, queries, server };
}

const vector = (v: string | undefined) => ({ status: 'success', data: { resultType: 'vector', result: v === undefined ? [] : [{ metric: {}, value: [1700000000, v] }] } });

test('PromQL selects the backend\'s outbound Envoy clusters by name, escaped', () => {
  const q = backendQueries('shop', 'web-v2', 60);
  assert.equal(q.rps, 'sum(rate(envoy_cluster_upstream_rq_total{envoy_cluster_name=~"outbound\\\\|[0-9]+\\\\|\\\\|web-v2\\\\.shop\\\\.svc\\\\..*"}[60s]))');
  assert.match(q.errors, /envoy_response_code_class="5"/);
  assert.match(q.p99, /^histogram_quantile\(0\.99, sum by \(le\) \(rate\(envoy_cluster_upstream_rq_time_bucket\{.*\}\[60s\]\)\)\)$/);
});

test('Prometheus source: rps, success rate and p99 from three queries; empty results mean no data', async () => {
  let answers: Record<string, string | undefined> = { total: '10', xx: '0.25', bucket: '180' };
  const prom = await fakePrometheus((q) => vector(q.includes('rq_total') ? answers.total : q.includes('rq_xx') ? answers.xx : answers.bucket));
  try {
    const src = new PrometheusMetrics(prom.url + '/');
    assert.deepEqual(await src.backendStats('shop', 'web-v2', 30), { rps: 10, successRate: 0.975, p99Ms: 180 });
    assert.equal(prom.queries.length, 3);
    assert.ok(prom.queries.every((q) => q.includes('[30s]') && q.includes('web-v2\\\\.shop')));
    answers = { total: '10', xx: undefined, bucket: 'NaN' };
    assert.deepEqual(await src.backendStats('shop', 'web-v2', 30), { rps: 10, successRate: 1 }, 'no 5xx series: all succeeded; NaN p99: none');
    answers = { total: undefined, xx: undefined, bucket: undefined };
    assert.equal(await src.backendStats('shop', 'web-v2', 30), undefined);
  } finally {
    prom.server.close();
  }
});

test('Prometheus source: an error answer exits 1; an unreachable server exits 3 (as in mesh stat) with a hint naming --prometheus-url', async () => {
  const prom = await fakePrometheus(() => ({ status: 'error', errorType: 'bad_data', error: 'parse error at char 5' }));
  try {
    await assert.rejects(new PrometheusMetrics(prom.url).backendStats('shop', 'web', 60), (e: MeshError) => e.exitCode === 1 && /rejected the query: parse error at char 5/.test(e.message));
  } finally {
    prom.server.close();
  }
  await assert.rejects(new PrometheusMetrics(prom.url, 2000).backendStats('shop', 'web', 60), (e: MeshError) => e.exitCode === 3 && e.message.startsWith(`cannot reach Prometheus at ${prom.url}`) && /--prometheus-url/.test(e.hint ?? ''));
  assert.throws(() => new PrometheusMetrics('localhost:9090'), (e: MeshError) => e.exitCode === 2 && /--prometheus-url must be http or https/.test(e.message));
});
