// What an Envoy admin `/stats/prometheus` answers, modelled from Envoy's source so tests and the
// stat bench can serve pages that honour the query mesh sends (docs/bench.md, "mesh stat"):
//
// - Stats have internal names (`cluster.NAME.upstream_rq_5xx`, `http.inbound_8080.downstream_rq_total`,
//   `listener.0.0.0.0_15006.ssl.handshake`). The Prometheus name and labels come from tag extraction
//   (source/common/config/well_known_names.cc): each extractor's regex runs on the internal name,
//   its second group (or its only one) becomes the tag value and its first group is cut out of
//   the name (source/common/stats/tag_extractor_impl.cc); the rest,
//   with every character outside [a-zA-Z0-9_] turned into `_`, prefixed `envoy_`, is the metric
//   name (source/server/admin/prometheus_stats.cc, metricName/sanitizeName).
// - `filter=REGEX` is an RE2 partial match against the internal name, before tag extraction;
//   `usedonly` keeps stats that were ever written (source/server/admin/stats_params.cc parses
//   both, grouped_stats_request.cc applies them: `re2::RE2::PartialMatch(stat->name(), filter)`
//   and `!stat->used()`). An invalid RE2 regex answers 400 "Invalid re2 regex".
// - Stats are grouped by tag-extracted name, one `# TYPE` line per group; counters first, then
//   gauges, then histograms, each phase in name order (grouped_stats_request.cc, stats_request.cc).
//
// - Tag extraction follows the proxies' bootstrap `stats_config` (src/metrics/stats-tags.ts):
//   `use_all_default_tags: false`, Envoy's default regexes for the names it lists, and mesh's own
//   cluster-name regex, which keeps `outbound|8080||web.shop.svc.cluster.local` whole (Envoy's
//   default stops at the first dot: ENVOY_DEFAULT_CLUSTER_NAME_TAG, kept to show why).

import { envoyStatsConfig } from '../../src/metrics/stats-tags.ts';

/** One stat as Envoy's store holds it. */
export interface EnvoyStat {
  /** The internal (dotted) name, tags still inside. */
  name: string;
  type: 'counter' | 'gauge' | 'histogram';
  /** Counter or gauge value. */
  value?: number;
  /** Histogram observations (ms); Envoy keeps buckets, the model keeps the values. */
  values?: readonly number[];
  /** Written at least once (default: a non-zero value, or any observation). */
  used?: boolean;
}

/** Envoy's default histogram bucket bounds (ms). */
export const ENVOY_BUCKETS = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];

/** A tag extractor: its tag name and regex (group 1 is cut from the name, group 2 is the value). */
export interface TagExtractor {
  tag: string;
  re: RegExp;
}

/** Envoy's default cluster-name extractor (`cluster.$.**`: one dot-free token). */
export const ENVOY_DEFAULT_CLUSTER_NAME_TAG: TagExtractor = { tag: 'envoy.cluster_name', re: /^cluster\.(([^.]+)\.)/ };

/**
 * Envoy's default extractors for the stat families the fake prints, by tag name, in Envoy's order
 * (well_known_names.cc); a name Envoy has whose stats the fake never prints maps to no extractor.
 */
const ENVOY_DEFAULTS = new Map<string, TagExtractor[]>([
  ['envoy.response_code', [{ tag: 'envoy.response_code', re: /_rq(_(\d{3}))$/ }]],
  ['envoy.response_code_class', [{ tag: 'envoy.response_code_class', re: /_rq_(\d)xx$/ }]],
  ['envoy.cluster_name', [ENVOY_DEFAULT_CLUSTER_NAME_TAG]],
  ['envoy.http_conn_manager_prefix', [{ tag: 'envoy.http_conn_manager_prefix', re: /^(?:|listener(?=\.).*?\.)http\.((.*?)\.)/ }]],
  ['envoy.listener_address', [{ tag: 'envoy.listener_address', re: /^listener\.(((?:[_.0-9]*|[_[\]aAbBcCdDeEfF0-9]*))\.)/ }]],
  ['envoy.worker_id', [{ tag: 'envoy.worker_id', re: /^listener_manager\.((worker_\d+)\.)/ }]],
]);

/**
 * Every default tag name in Envoy's source/common/config/well_known_names.h both in 2019 and today
 * (a TagSpecifier naming anything else without a regex is a configuration error).
 */
export const ENVOY_DEFAULT_TAG_NAMES: ReadonlySet<string> = new Set([
  'envoy.cluster_name', 'envoy.listener_address', 'envoy.http_conn_manager_prefix', 'envoy.http_user_agent',
  'envoy.ssl_cipher', 'cipher_suite', 'envoy.clientssl_prefix', 'envoy.mongo_prefix', 'envoy.mongo_cmd',
  'envoy.mongo_collection', 'envoy.mongo_callsite', 'envoy.ratelimit_prefix', 'envoy.tcp_prefix', 'envoy.udp_prefix',
  'envoy.fault_downstream_cluster', 'envoy.dynamo_operation', 'envoy.dynamo_table', 'envoy.dynamo_partition_id',
  'envoy.grpc_bridge_service', 'envoy.grpc_bridge_method', 'envoy.virtual_host', 'envoy.virtual_cluster',
  'envoy.response_code', 'envoy.response_code_class', 'envoy.rds_route_config', 'envoy.worker_id',
]);

/** The extractors a proxy runs under a bootstrap `stats_config` (TagProducerImpl: defaults first, then stats_tags in order). */
export function extractorsFor(config?: { use_all_default_tags?: boolean; stats_tags?: readonly { tag_name: string; regex?: string }[] }): TagExtractor[] {
  const out: TagExtractor[] = config?.use_all_default_tags === false ? [] : [...ENVOY_DEFAULTS.values()].flat();
  for (const t of config?.stats_tags ?? []) {
    if (t.regex) out.push({ tag: t.tag_name, re: new RegExp(t.regex) });
    else if (!ENVOY_DEFAULT_TAG_NAMES.has(t.tag_name)) throw new Error(`envoy-stats model: no default regex for tag name '${t.tag_name}' (Envoy rejects the bootstrap)`);
    else out.push(...(ENVOY_DEFAULTS.get(t.tag_name) ?? []));
  }
  return out;
}

/** The extractors of mesh's sidecars and gateways (their bootstrap's stats_config). */
export const TAG_EXTRACTORS: readonly TagExtractor[] = extractorsFor(envoyStatsConfig());

const indexed = new Map<RegExp, RegExp>();
/** `re` with the `d` flag, so a match says where group 1 is. */
function withIndices(re: RegExp): RegExp {
  let r = indexed.get(re);
  if (!r) indexed.set(re, (r = new RegExp(re.source, re.flags.includes('d') ? re.flags : re.flags + 'd')));
  return r;
}

const sanitize = (s: string) => s.replace(/[^a-zA-Z0-9_]/g, '_');
const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

/** An internal name's Prometheus metric name and label text (`a="x",b="y"`), after tag extraction. */
export function tagExtract(name: string, extractors: readonly TagExtractor[] = TAG_EXTRACTORS): { metric: string; labels: string } {
  const cut: [number, number][] = [];
  const labels: string[] = [];
  for (const { tag, re } of extractors) {
    const m = withIndices(re).exec(name);
    const span = m?.indices?.[1];
    // The value is group 2, or group 1 when the regex has one group (TagExtractorStdRegexImpl::extractTag).
    const value = m?.[2] ?? m?.[1];
    if (!m || !span || value === undefined) continue;
    const [start, end] = span;
    if (cut.some(([a, b]) => start < b && end > a)) continue; // already cut by an earlier extractor
    cut.push([start, end]);
    labels.push(`${sanitize(tag)}="${escapeLabel(value)}"`);
  }
  cut.sort((a, b) => a[0] - b[0]);
  let rest = '';
  let at = 0;
  for (const [a, b] of cut) {
    rest += name.slice(at, a);
    at = b;
  }
  rest += name.slice(at);
  return { metric: `envoy_${sanitize(rest)}`, labels: labels.join(',') };
}

/** The regex of an RE2 `filter`, or undefined when RE2 would reject it (lookaround, backreferences). */
export function re2Filter(source: string): RegExp | undefined {
  // RE2 has no lookaround and no backreferences; Envoy answers 400 for them.
  if (/\(\?<?[=!]|\\[1-9]/.test(source)) return undefined;
  // RE2-only syntax the model does not translate: refuse loudly rather than match differently.
  if (/\[\[:|\(\?P<|\\[CpPQEz]/.test(source)) throw new Error(`envoy-stats model: RE2 syntax not modelled in filter ${source}`);
  try {
    return new RegExp(source);
  } catch {
    return undefined;
  }
}

/** The query parameters /stats/prometheus reads (Http::Utility::parseAndDecodeQueryString). */
export function statsQuery(query: string): { filter?: string; usedOnly: boolean } {
  const out: { filter?: string; usedOnly: boolean } = { usedOnly: false };
  for (const part of query.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const key = decodeURIComponent(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1));
    if (key === 'usedonly') out.usedOnly = true;
    if (key === 'filter') out.filter = value;
  }
  return out;
}

const used = (s: EnvoyStat) => s.used ?? (s.type === 'histogram' ? (s.values?.length ?? 0) > 0 : (s.value ?? 0) !== 0);

/** Tag extraction is the costly part and names repeat across pods and scrapes: remember it. */
const extracted = new Map<string, { metric: string; labels: string }>();
function extractCached(name: string) {
  let e = extracted.get(name);
  if (!e) extracted.set(name, (e = tagExtract(name)));
  return e;
}

/** Filter decisions per regex and name (the bench asks the same question of 2,000 pods). */
const decisions = new Map<string, { re: RegExp; keep: Map<string, boolean> } | null>();

/**
 * The `/stats/prometheus` answer for `stats` and the raw query string (without `?`): status 400
 * with Envoy's message for an invalid filter, else 200 with the page.
 */
export function prometheusPage(stats: readonly EnvoyStat[], query = ''): { status: number; body: string } {
  const q = statsQuery(query);
  let keep: ((name: string) => boolean) | undefined;
  if (q.filter !== undefined) {
    let d = decisions.get(q.filter);
    if (d === undefined) {
      const re = re2Filter(q.filter);
      decisions.set(q.filter, (d = re ? { re, keep: new Map() } : null));
    }
    if (d === null) return { status: 400, body: 'Invalid re2 regex' };
    const { re, keep: memo } = d;
    keep = (name) => {
      let k = memo.get(name);
      if (k === undefined) memo.set(name, (k = re.test(name)));
      return k;
    };
  }
  const groups = new Map<string, { type: EnvoyStat['type']; stats: EnvoyStat[] }>();
  for (const s of stats) {
    if (q.usedOnly && !used(s)) continue;
    if (keep && !keep(s.name)) continue;
    const { metric } = extractCached(s.name);
    const key = `${s.type === 'counter' ? 0 : s.type === 'gauge' ? 1 : 2}${metric}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { type: s.type, stats: [] }));
    g.stats.push(s);
  }
  const out: string[] = [];
  for (const key of [...groups.keys()].sort()) {
    const g = groups.get(key)!;
    const metric = key.slice(1);
    out.push(`# TYPE ${metric} ${g.type}\n`);
    g.stats.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const s of g.stats) {
      const { labels } = extractCached(s.name);
      if (g.type !== 'histogram') {
        out.push(`${metric}{${labels}} ${s.value ?? 0}\n`);
        continue;
      }
      const values = s.values ?? [];
      const sep = labels ? ',' : '';
      let sum = 0;
      for (const v of values) sum += v;
      for (const le of ENVOY_BUCKETS) out.push(`${metric}_bucket{${labels}${sep}le="${le}"} ${values.filter((v) => v <= le).length}\n`);
      out.push(`${metric}_bucket{${labels}${sep}le="+Inf"} ${values.length}\n`, `${metric}_sum{${labels}} ${sum}\n`, `${metric}_count{${labels}} ${values.length}\n`);
    }
  }
  return { status: 200, body: out.join('') };
}
