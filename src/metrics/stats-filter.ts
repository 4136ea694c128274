import { EGRESS_BLOCKED_CLUSTER } from '../constants.js';
import { ENVOY, ENVOY_METRIC_NAMES } from './envoy.js';

/**
 * The `filter` mesh sends with its own scrapes of `/stats/prometheus`, so a sidecar answers with
 * the stats mesh reads instead of all of them (a sidecar prints thousands; docs/bench.md, "mesh
 * stat"). Envoy matches it (RE2, partial match) against each stat's internal name, before tag
 * extraction (source/server/admin/stats_params.cc, grouped_stats_request.cc), so it is derived
 * here from the Prometheus names mesh reads by undoing Envoy's default tag extraction
 * (source/common/config/well_known_names.cc):
 *
 * - `envoy_cluster_REST{envoy_cluster_name=C}` is `cluster.C.REST'`; mesh reads outbound clusters
 *   (`outbound|PORT|SUBSET|HOST`, dots included) and BlockedByRegistryOnly;
 * - `envoy_http_REST{envoy_http_conn_manager_prefix=P}` is `http.P.REST'`; mesh reads `inbound_PORT`;
 * - `envoy_listener_REST{envoy_listener_address=A}` is `listener.A.REST'`; mesh reads the inbound
 *   listener, `0.0.0.0_15006`;
 * - in REST', each `_` of the metric name was a `_` or a `.` (the Prometheus name turns dots into
 *   underscores), and `_rq_xx` was `_rq_<digit>xx` (envoy.response_code_class);
 * - a histogram is one stat, `…_rq_time`, whatever its `_bucket`/`_sum`/`_count` lines.
 *
 * Only RE2 syntax that JavaScript reads the same way is used (no lookaround, no backreferences),
 * so test/support/envoy-stats.ts can apply it as Envoy does. One superset remains: a cluster name
 * may hold dots, so `cluster.C.internal.upstream_rq_2xx` (and `external.`, `canary.`: breakdowns
 * Envoy creates on first use) also match; mesh drops those lines by name when it parses.
 */

/** `s` as a regex matching itself (RE2 and JavaScript escape the same characters). */
const literal = (s: string) => s.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&');

/**
 * The scopes readProxy reads, with the tag values it uses: outbound clusters (and the cluster
 * registry-only routes refused calls to), `inbound_PORT` connection managers, the inbound listener.
 */
const SCOPES: readonly { prefix: string; scope: string; tag: string; side: 'inbound' | 'outbound' }[] = [
  { prefix: 'envoy_cluster_', scope: 'cluster', tag: `(?:outbound\\|.+|${literal(EGRESS_BLOCKED_CLUSTER)})`, side: 'outbound' },
  { prefix: 'envoy_http_', scope: 'http', tag: 'inbound_[0-9]+', side: 'inbound' },
  { prefix: 'envoy_listener_', scope: 'listener', tag: literal(ENVOY.inboundListener), side: 'inbound' },
];

/**
 * What a scrape needs: `all` of a reading, or only its `inbound` side (ports and the inbound
 * listener: `mesh stat` rows of what a resource served) or its `outbound` side (clusters: rows
 * with --from/--to, `mesh edges`). A reading of one side has the other side empty.
 */
export type ReadingSide = 'all' | 'inbound' | 'outbound';

/** The internal-name pattern of the part of a metric name after its scope. */
function restPattern(rest: string): string {
  return rest
    .replace(/_rq_xx$/, '_rq_#xx')
    .split('_')
    .map((w) => w.replace('#', '[0-9]'))
    .join('[._]');
}

/** Build the filter regex for Prometheus metric names (histograms by their `_bucket` name). */
export function statsFilterFor(metricNames: readonly string[], side: ReadingSide = 'all'): string {
  const alternatives: string[] = [];
  for (const { prefix, scope, tag, side: of } of SCOPES) {
    if (side !== 'all' && side !== of) continue;
    const rests = new Set<string>();
    for (const raw of metricNames) {
      const name = raw.replace(/_bucket$/, '');
      if (name.startsWith(prefix)) rests.add(restPattern(name.slice(prefix.length)));
    }
    if (rests.size) alternatives.push(`${scope}\\.${tag}\\.(?:${[...rests].sort().join('|')})`);
  }
  const unscoped = metricNames.filter((n) => !SCOPES.some((s) => n.startsWith(s.prefix)));
  if (unscoped.length) throw new Error(`no Envoy scope for ${unscoped.join(', ')}`);
  return `^(?:${alternatives.join('|')})$`;
}

const READ = [...ENVOY_METRIC_NAMES, ENVOY.downstreamRqTime, ENVOY.upstreamRqTime];

/** The filter for everything `readProxy` reads (src/metrics/envoy.ts). */
export const ENVOY_STATS_FILTER = statsFilterFor(READ);

/** The filter for one side of a reading (`all`: ENVOY_STATS_FILTER). */
export function envoyStatsFilter(side: ReadingSide): string {
  return side === 'all' ? ENVOY_STATS_FILTER : statsFilterFor(READ, side);
}
