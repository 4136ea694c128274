// src/metrics/prom-text.ts replaced parse-prometheus-text-format for speed; `mesh stat` must read
// (and reject) exactly what it read before. The reference below is the previous implementation: the
// library behind a keep filter and with histogram/summary TYPE lines demoted to untyped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { parsePrometheusText, type Sample } from '../../src/metrics/prometheus.ts';
import { isEnvoyMetricWanted } from '../../src/metrics/envoy.ts';
import { envoyText } from './support/envoy.ts';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

function reference(text: string, keep?: (name: string) => boolean): Sample[] | string {
  if (keep) {
    const kept: string[] = [];
    for (const line of text.split('\n')) {
      const t = line.trimStart();
      if (t === '') continue;
      const name = t.startsWith('#') ? /^#\s*(?:TYPE|HELP)\s+(\S+)/.exec(t)?.[1] : t.slice(0, t.search(/[{\s]/) < 0 ? undefined : t.search(/[{\s]/));
      if (name !== undefined && keep(name)) kept.push(line);
    }
    text = kept.join('\n') + '\n';
  }
  const demoted = text.replace(/^(#\s*TYPE\s+\S+\s+)(histogram|summary)\s*$/gim, '$1untyped');
  try {
    const out: Sample[] = [];
    for (const f of parsePrometheusTextFormat(demoted.endsWith('\n') ? demoted : demoted + '\n')) {
      for (const m of f.metrics) {
        if (m.value === undefined) continue;
        const t = m.value.trim();
        const value = t === '+Inf' || t === 'Inf' ? Infinity : t === '-Inf' ? -Infinity : t === 'NaN' ? NaN : Number(t);
        if (!METRIC_NAME.test(f.name) || (Number.isNaN(value) && t !== 'NaN')) return `bad sample "${f.name} ${m.value}"`;
        out.push({ name: f.name, labels: m.labels ?? {}, value });
      }
    }
    return out;
  } catch (err) {
    return (err as Error).message;
  }
}

function ours(text: string, keep?: (name: string) => boolean): Sample[] | string {
  try {
    return parsePrometheusText(text, 'src', keep);
  } catch (err) {
    return (err as Error).message.replace(/^cannot parse Prometheus text from src: /, '');
  }
}

const CASES: string[] = [
  readFileSync(new URL('./fixtures/catalog-proxy.prom', import.meta.url), 'utf8'),
  envoyText({ inbound: { 8080: { requests: 5, failures: 1, latencies: [1, 3, 40], cxActive: 1, cxTotal: 2, tls: 2 } }, outbound: { 'outbound|80||a.b.svc.cluster.local': { requests: 3, latencies: [2] } }, listener: { cxActive: 1, cxTotal: 1, tls: 1 } }),
  'a 1\nb 2',
  'a 1\na 2\na{x="1"} 3\na{x="1"} 4\n',
  'x 1\n{a="b"} 2\nx 3\n',
  '{a="b"} 2\nx 3\n',
  'x{a="1"} 1\n# plain comment\nx{a="1"} 2\n',
  'x{a="1"} 1\n# TYPE y counter\nx{a="1"} 2\n',
  '# TYPE x histogram\nx_bucket{le="1"} 1\nx_bucket{le="+Inf"} 2\nx_sum 3\nx_count 2\n',
  '# TYPE x summary\nx{quantile="0.5"} 1\nx_sum 3\nx_count 2\n',
  '# TYPE x  counter\nx 1\n',
  '# TYPE x\nx 1\n',
  '# HELP x\n',
  '# HELP x some help\\n text\nx 1\n',
  '#TYPE x counter\nx 1\n',
  '#  TYPE x counter\nx 1\n',
  'x{a="q\\"uo\\\\te\\n\\t"} 1\n',
  'x{a="1",b="2"} 1\n',
  'x{a="1", b="2"} 1\n',
  'x{a="1",} 1\n',
  'x{a = "1"} 1\n',
  'x{a="1"}1\n',
  'x{} 1\n',
  'x { a="1" } 1 1700000000\n',
  'x{a="1" 1\n',
  'x{a="1\n',
  'x{a=1} 1\n',
  'x{a="1"}} 1\n',
  'x{a="1"} 1 2 3\n',
  'x{="v"} 1\n',
  'x{a} 1\n',
  'x\t\t7\n',
  'x\n',
  'x +Inf\ny -Inf\nz NaN\nw Inf\nv 1e-3\n',
  'this is { not prometheus\n',
  '<html><body>502 Bad Gateway</body></html>\n',
  '  x 1\n\t# TYPE y gauge\ny 2\r\n\n\n',
  'x{a="1"} 1\r\nx{a="2"} 2\r\n',
];

test('the reader agrees with the library it replaced on every case (samples, order, labels, and which input is an error)', () => {
  for (const text of CASES) {
    assert.deepEqual(ours(text), reference(text), JSON.stringify(text));
    const keep = (n: string) => n !== 'b' && n !== 'y' && !n.endsWith('_count');
    assert.deepEqual(ours(text, keep), reference(text, keep), `with a keep filter: ${JSON.stringify(text)}`);
    assert.deepEqual(ours(text, isEnvoyMetricWanted), reference(text, isEnvoyMetricWanted), `with the Envoy filter: ${JSON.stringify(text)}`);
  }
});

test('a malformed line is refused with the line in the message', () => {
  assert.equal(ours('x{a="1", b="2"} 1\n'), 'Encountered invalid line: x{a="1", b="2"} 1');
});
