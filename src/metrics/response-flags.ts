/**
 * Envoy's response flags (the access log's %RESPONSE_FLAGS% and %RESPONSE_FLAGS_LONG%) in words,
 * and the stats that count the same failures, so `mesh stat` and `mesh edges` can say "no healthy
 * upstream" instead of "503" (istio#9906, #39802). One table: access-log docs and renderers reuse it.
 * Codes and long names follow Envoy's access log documentation (usage.html#config-access-log-format-response-flags).
 */

/** One response flag: Envoy's short code, its long name, and what it means in words. */
export interface ResponseFlag {
  flag: string;
  long: string;
  words: string;
}

/** Every response flag Envoy sets, in Envoy's documented order. */
export const RESPONSE_FLAGS: readonly ResponseFlag[] = [
  { flag: 'UH', long: 'NoHealthyUpstream', words: 'no healthy upstream' },
  { flag: 'UF', long: 'UpstreamConnectionFailure', words: 'upstream connect failure' },
  { flag: 'UO', long: 'UpstreamOverflow', words: 'circuit breaker open (upstream overflow)' },
  { flag: 'NR', long: 'NoRouteFound', words: 'no route (or no filter chain) matched' },
  { flag: 'URX', long: 'UpstreamRetryLimitExceeded', words: 'retry limit exceeded' },
  { flag: 'NC', long: 'NoClusterFound', words: 'no such upstream cluster' },
  { flag: 'DT', long: 'DurationTimeout', words: 'max stream duration reached' },
  { flag: 'DC', long: 'DownstreamConnectionTermination', words: 'downstream disconnected' },
  { flag: 'LH', long: 'FailedLocalHealthCheck', words: 'local health check failed' },
  { flag: 'UT', long: 'UpstreamRequestTimeout', words: 'upstream timeout' },
  { flag: 'LR', long: 'LocalReset', words: 'reset locally' },
  { flag: 'UR', long: 'UpstreamRemoteReset', words: 'upstream reset the stream' },
  { flag: 'UC', long: 'UpstreamConnectionTermination', words: 'upstream connection closed' },
  { flag: 'DI', long: 'DelayInjected', words: 'fault injection delay' },
  { flag: 'FI', long: 'FaultInjected', words: 'fault injection abort' },
  { flag: 'RL', long: 'RateLimited', words: 'rate limited' },
  { flag: 'UAEX', long: 'UnauthorizedExternalService', words: 'denied by external authorization' },
  { flag: 'RLSE', long: 'RateLimitServiceError', words: 'rate limit service error' },
  { flag: 'IH', long: 'InvalidEnvoyRequestHeaders', words: 'invalid request headers' },
  { flag: 'SI', long: 'StreamIdleTimeout', words: 'stream idle timeout' },
  { flag: 'DPE', long: 'DownstreamProtocolError', words: 'downstream protocol error' },
  { flag: 'UPE', long: 'UpstreamProtocolError', words: 'upstream protocol error' },
  { flag: 'UMSDR', long: 'UpstreamMaxStreamDurationReached', words: 'upstream max stream duration reached' },
  { flag: 'OM', long: 'OverloadManagerTerminated', words: 'shed by the overload manager' },
  { flag: 'DF', long: 'DnsResolutionFailed', words: 'DNS resolution failed' },
  { flag: 'DO', long: 'DropOverload', words: 'dropped by drop_overload' },
  // Not a flag in the access log: Envoy's RBAC filters answer 403 with the response code
  // details "rbac_access_denied_matched_policy[NAME]"; the stats count it as rbac.denied.
  { flag: 'RBAC', long: 'RbacAccessDenied', words: 'denied by AuthorizationPolicy (RBAC)' },
  // Not a flag either: a call registry-only refuses is routed to the endpoint-less cluster
  // BlockedByRegistryOnly (src/xds/egress.ts), so Envoy logs UH with that upstream cluster and
  // counts it as that cluster's upstream_cx_none_healthy.
  { flag: 'BLOCKED', long: 'BlockedByRegistryOnly', words: 'blocked by outboundTrafficPolicy registry-only (no ExternalService registers the host)' },
];


const BY_FLAG = new Map(RESPONSE_FLAGS.map((f) => [f.flag, f]));

/** The entry of a short code or long name ("UH", "NoHealthyUpstream"); undefined when unknown. */
export function responseFlag(code: string): ResponseFlag | undefined {
  return BY_FLAG.get(code) ?? RESPONSE_FLAGS.find((f) => f.long === code);
}

/**
 * Decode an access log's %RESPONSE_FLAGS% ("UH", "UF,URX", "-") into entries; unknown codes come
 * back with their code as words, so nothing is dropped.
 */
export function decodeResponseFlags(field: string): ResponseFlag[] {
  if (field === '' || field === '-') return [];
  return field.split(',').map((c) => c.trim()).filter(Boolean).map((c) => responseFlag(c) ?? { flag: c, long: c, words: c });
}

/**
 * Envoy counters (as /stats/prometheus names them, with default tag extraction) that count the
 * failures a flag marks. Cluster counters carry envoy_cluster_name; HTTP connection manager ones
 * envoy_http_conn_manager_prefix.
 */
export const FLAG_STATS: Readonly<Record<string, string>> = {
  envoy_cluster_upstream_cx_none_healthy: 'UH',
  envoy_cluster_upstream_cx_connect_fail: 'UF',
  envoy_cluster_upstream_cx_connect_timeout: 'UF',
  envoy_cluster_upstream_rq_pending_overflow: 'UO',
  envoy_cluster_upstream_cx_overflow: 'UO',
  envoy_cluster_upstream_rq_retry_limit_exceeded: 'URX',
  envoy_cluster_upstream_rq_timeout: 'UT',
  envoy_cluster_upstream_cx_destroy_remote_with_active_rq: 'UC',
  envoy_http_no_route: 'NR',
  envoy_http_rbac_denied: 'RBAC',
  envoy_http_local_rate_limit_rate_limited: 'RL',
  envoy_http_downstream_cx_destroy_remote_active_rq: 'DC',
};

/** Counts per flag, most frequent first, in words: what stat and edges show. */
export interface FlagCount {
  flag: string;
  words: string;
  count: number;
}

/** Turn counts by flag into sorted FlagCounts (zero counts dropped; ties by flag). */
export function flagCounts(counts: Readonly<Record<string, number>>): FlagCount[] {
  return Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([flag, count]) => ({ flag, words: responseFlag(flag)?.words ?? flag, count: Math.round(count) }))
    .sort((a, b) => b.count - a.count || a.flag.localeCompare(b.flag));
}

/** "12 UH no healthy upstream, 3 RBAC denied by ..." (or "-" when none). */
export function formatFlagCounts(fs: readonly FlagCount[], max = 2): string {
  if (fs.length === 0) return '-';
  const shown = fs.slice(0, max).map((f) => `${f.count} ${f.flag} ${f.words}`);
  return fs.length > max ? `${shown.join(', ')} (+${fs.length - max} more)` : shown.join(', ');
}
