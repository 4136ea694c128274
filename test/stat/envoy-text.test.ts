// readEnvoyText (the fast reader mesh's scrapes use) must give exactly what the general reader
// gives, readProxy(parsePrometheusText(...)): the same reading (Map order included, it decides
// the order sums are added in) or the same error. Pages: Envoy-shaped ones from the fake
// sidecars, whole and filtered, and the same pages with lines bent the ways the text format
// allows or forbids, so the fast path's "give up" decisions are exercised too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isEnvoyMetricWanted, readProxy, type ProxyReading } from '../../src/metrics/envoy.ts';
import { fastEnvoyReading, readEnvoyText } from '../../src/metrics/envoy-text.ts';
import { parsePrometheusText } from '../../src/metrics/prometheus.ts';
import { PROXY_SCRAPE_PATH } from '../../src/metrics/scrape.ts';
import { prometheusPage } from '../support/envoy-stats.ts';
import { envoyStats } from './support/envoy.ts';
import { proxies } from './support/generated.ts';
import { seededRandom } from '../support/random.ts';

/** A reading as plain data with every Map's order kept. */
const plain = (r: ProxyReading) => JSON.stringify({ in: [...r.inboundPorts], listener: r.inboundListener, out: [...r.outbound] });

function general(text: string): string {
  try {
    return plain(readProxy(parsePrometheusText(text, 'pod p', isEnvoyMetricWanted)));
  } catch (err) {
    return `error: ${(err as Error).message}`;
  }
}

function fast(text: string): string {
  try {
    return plain(readEnvoyText(text, 'pod p'));
  } catch (err) {
    return `error: ${(err as Error).message}`;
  }
}

const pages = proxies().flatMap((p) => [prometheusPage(envoyStats(p)).body, prometheusPage(envoyStats(p), PROXY_SCRAPE_PATH.split('?')[1]).body]);

test('Envoy-shaped pages, whole and filtered: the fast path reads every one, the same as the general reader', () => {
  for (const [i, text] of pages.entries()) {
    assert.ok(fastEnvoyReading(text), `page ${i} fell back to the general reader`);
    assert.equal(fast(text), general(text), `page ${i}`);
  }
});


/** Ways to bend one line (or the page around it). */
const BENDS: ((line: string, r: () => number) => string)[] = [
  (l) => `${l}\n`,
  (l) => `${l}\n   `,
  (l) => ` ${l}`,
  (l) => `\t${l}`,
  (l) => `${l} `,
  (l) => `${l}\r`,
  (l) => `${l} 1700000000000`,
  (l) => `${l}\n${l}`,
  (l) => `${l}\n${l.replace(/\{([^,}]*),([^}]*)\}/, '{$2,$1}')}`,
  (l) => l.replace(/ \S+$/, ' NaN'),
  (l) => l.replace(/ \S+$/, ' +Inf'),
  (l) => l.replace(/ \S+$/, ' -Inf'),
  (l) => l.replace(/ \S+$/, ' abc'),
  (l) => l.replace(/ \S+$/, ' '),
  (l) => l.replace(/ \S+$/, ''),
  (l) => l.replace(/ \S+$/, ' 1e3'),
  (l) => l.replace(/ \S+$/, ' 0x10'),
  (l) => l.replace(/="([^"]*)"/, '="$1\\"x"'),
  (l) => l.replace(/="([^"]*)"/, '="$1\\nx"'),
  (l) => l.replace(/="([^"]*)"/, '=$1'),
  (l) => l.replace(/\}/, ',}'),
  (l) => l.replace(/\{/, ' {'),
  (l) => l.replace(/\{/, '{le="7",'),
  (l) => l.replace(/\{([^=]*)=("[^"]*")/, '{$1=$2,$1="dup"'),
  (l) => `# HELP ${l.split(/[{ ]/)[0]} some help\n${l}`,
  (l) => `#TYPE ${l.split(/[{ ]/)[0]} counter\n${l}`,
  (l) => `# TYPE ${l.split(/[{ ]/)[0]}\n${l}`,
  (l) => `# TYPE ${l.split(/[{ ]/)[0]} counter extra\n${l}`,
  (l) => `# TYPE ${l.split(/[{ ]/)[0]} gauge\n${l}`,
  (l) => `<html>\n${l}`,
  (l) => `# a comment\n${l}`,
  (l, r) => l.slice(0, Math.floor(r() * l.length)),
  (l) => l.replace(/^envoy_/, 'envoy-'),
  (l) => l.replace(/^envoy_/, '9envoy_'),
];

test('bent pages: the same reading, or the same error, as the general reader', () => {
  const r = seededRandom(22);
  let fellBack = 0;
  for (let k = 0; k < 400; k++) {
    const lines = pages[Math.floor(r() * pages.length)]!.split('\n');
    for (let b = 0; b < 1 + Math.floor(r() * 3); b++) {
      const at = Math.floor(r() * lines.length);
      lines[at] = BENDS[Math.floor(r() * BENDS.length)]!(lines[at]!, r);
    }
    const text = r() < 0.1 ? lines.join('\n').trimEnd() : lines.join('\n');
    if (!fastEnvoyReading(text)) fellBack++;
    assert.equal(fast(text), general(text), text);
  }
  assert.ok(fellBack > 50 && fellBack < 400, `${fellBack} of 400 bent pages needed the general reader`);
});
