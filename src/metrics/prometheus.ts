import { inputError } from '../errors.js';
import { readPrometheusText, type RawSample } from './prom-text.js';

/** One sample of the text format: a metric name, its labels and its value. */
export interface Sample {
  name: string;
  labels: Readonly<Record<string, string>>;
  value: number;
}

/** A cumulative histogram bucket: `count` observations were <= `le` (le may be +Infinity). */
export interface Bucket {
  le: number;
  count: number;
}

/**
 * Parse Prometheus text exposition format into flat samples (histograms stay as their `_bucket`,
 * `_sum` and `_count` series, each with its own labels, including `le`). With `keep`, lines whose
 * metric name fails it are dropped before parsing: a real Envoy prints thousands of stats we never
 * read. prom-text.ts does the reading (it accepts what parse-prometheus-text-format did, at a
 * fraction of the cost). Throws an input error (exit 2) naming `source` when a line is malformed.
 */
export function parsePrometheusText(text: string, source = 'metrics', keep?: (name: string) => boolean): Sample[] {
  let raw: RawSample[];
  try {
    raw = readPrometheusText(text, keep);
  } catch (err) {
    throw inputError(`cannot parse Prometheus text from ${source}: ${(err as Error).message}`, 'the endpoint did not return Prometheus text format', err);
  }
  const out: Sample[] = [];
  for (const m of raw) {
    if (m.value === undefined) continue;
    const value = parseNumber(m.value);
    // The format's grammar is loose ("word word" is a line); an HTML error page must not pass as metrics.
    if (!METRIC_NAME.test(m.family) || (Number.isNaN(value) && m.value.trim() !== 'NaN')) {
      throw inputError(`cannot parse Prometheus text from ${source}: bad sample "${m.family} ${m.value}"`, 'the endpoint did not return Prometheus text format');
    }
    out.push({ name: m.family, labels: m.labels ?? {}, value });
  }
  return out;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** A Prometheus number: decimal, exponent, +Inf, -Inf or NaN. */
export function parseNumber(s: string): number {
  const t = s.trim();
  if (t === '+Inf' || t === 'Inf') return Infinity;
  if (t === '-Inf') return -Infinity;
  if (t === 'NaN') return NaN;
  return Number(t);
}

/** Key of a label set, for grouping (labels sorted by name). */
export function labelKey(labels: Readonly<Record<string, string>>, without: readonly string[] = []): string {
  return Object.keys(labels)
    .filter((k) => !without.includes(k))
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(',');
}

/**
 * Collect the buckets of histogram `base` (from its `base_bucket` series), grouped by `groupOf`
 * (return undefined to skip a series). Buckets of the same group and `le` are summed, like
 * `sum by (group, le)`; each group's buckets come back sorted by `le`.
 */
export function histogramBuckets(samples: readonly Sample[], base: string, groupOf: (labels: Readonly<Record<string, string>>) => string | undefined): Map<string, Bucket[]> {
  const name = `${base}_bucket`;
  const acc = new Map<string, Map<number, number>>();
  for (const s of samples) {
    if (s.name !== name || s.labels.le === undefined) continue;
    const g = groupOf(s.labels);
    if (g === undefined) continue;
    const le = parseNumber(s.labels.le);
    let m = acc.get(g);
    if (!m) acc.set(g, (m = new Map()));
    m.set(le, (m.get(le) ?? 0) + s.value);
  }
  const out = new Map<string, Bucket[]>();
  for (const [g, m] of acc) out.set(g, sortedBuckets(m));
  return out;
}

/** Buckets from counts by `le`, sorted by `le` (what histogramBuckets returns per group). */
export function sortedBuckets(m: ReadonlyMap<number, number>): Bucket[] {
  return [...m].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le);
}
