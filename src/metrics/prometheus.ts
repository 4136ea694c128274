import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { inputError } from '../errors.js';

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
 * `_sum` and `_count` series, each with its own labels).
 *
 * parse-prometheus-text-format merges every series of a HISTOGRAM or SUMMARY family into one
 * object and drops their labels (so `envoy_cluster_upstream_rq_time` of 30 clusters would come back
 * as one cluster), and it loses the last sample when the text has no trailing newline. We demote
 * histogram and summary TYPE lines to untyped, so each `_bucket`/`_sum`/`_count` series is its own
 * family with its labels (including `le`), and always end the text with a newline.
 * Throws an input error (exit 2) naming `source` when a line is malformed.
 */
export function parsePrometheusText(text: string, source = 'metrics', keep?: (name: string) => boolean): Sample[] {
  // A real Envoy prints thousands of stats we never read: dropping their lines first is much
  // cheaper than parsing them.
  const kept = keep ? filterLines(text, keep) : text;
  const demoted = kept.replace(/^(#\s*TYPE\s+\S+\s+)(histogram|summary)\s*$/gim, '$1untyped');
  let families;
  try {
    families = parsePrometheusTextFormat(demoted.endsWith('\n') ? demoted : demoted + '\n');
  } catch (err) {
    throw inputError(`cannot parse Prometheus text from ${source}: ${(err as Error).message}`, 'the endpoint did not return Prometheus text format', err);
  }
  const out: Sample[] = [];
  for (const f of families) {
    for (const m of f.metrics) {
      if (m.value === undefined) continue;
      const value = parseNumber(m.value);
      // The library accepts any "word word" line; an HTML error page must not pass as metrics.
      if (!METRIC_NAME.test(f.name) || (Number.isNaN(value) && m.value.trim() !== 'NaN')) {
        throw inputError(`cannot parse Prometheus text from ${source}: bad sample "${f.name} ${m.value}"`, 'the endpoint did not return Prometheus text format');
      }
      out.push({ name: f.name, labels: m.labels ?? {}, value });
    }
  }
  return out;
}

/** Lines of `text` whose metric name (or, for # TYPE/HELP lines, described name) passes `keep`. */
function filterLines(text: string, keep: (name: string) => boolean): string {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const t = line.trimStart();
    if (t === '') continue;
    let name: string;
    if (t.startsWith('#')) {
      const m = /^#\s*(?:TYPE|HELP)\s+(\S+)/.exec(t);
      if (!m) continue;
      name = m[1]!;
    } else {
      const end = t.search(/[{\s]/);
      name = end < 0 ? t : t.slice(0, end);
    }
    if (keep(name)) out.push(line);
  }
  return out.join('\n') + '\n';
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
  for (const [g, m] of acc) out.set(g, [...m].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le));
  return out;
}
