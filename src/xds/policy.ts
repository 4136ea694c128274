import type { BackendPolicy, LoadBalancerPolicy, RateLimitPolicy } from '../model/types.js';
import { duration, type Msg } from './msg.js';

/**
 * Backend traffic policy in Envoy terms: what a TrafficPolicy (or the older Service annotations)
 * puts on an outbound cluster and on the routes to it, and the local rate limit filter of the
 * inbound side. Pure; translate.ts calls these. Proxyless gRPC (grpc-js-xds) reads only part of
 * it (gRFC A32 circuit breaking max_requests, A50 outlier detection, A42 ring hash with a header or
 * channel-id hash); what it would reject is mapped to what it accepts, as documented in docs/policy.md.
 */

/** Which client a cluster or route is built for. */
export type PolicyClient = 'sidecar' | 'grpc';

/** Type URL of Envoy's HTTP local rate limit filter config. */
export const LOCAL_RATELIMIT_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit';
/** Filter name of the local rate limit in an HCM's http_filters (and typed_per_filter_config key). */
export const LOCAL_RATELIMIT_FILTER = 'envoy.filters.http.local_ratelimit';
/**
 * stat_prefix of an inbound port's local rate limit. Envoy counts `<prefix>.http_local_rate_limit.rate_limited`;
 * starting with `http.inbound_PORT.` lets Envoy's default http_conn_manager_prefix tag extraction
 * label it with the port like the HCM's own stats (`mesh stat` reads it: src/metrics/envoy.ts).
 */
export function rateLimitStatPrefix(port: number): string {
  return `http.inbound_${port}.rate_limit`;
}

const ALWAYS = { numerator: 100, denominator: 'HUNDRED' };

/**
 * Envoy lb_policy of a load-balancing type. gRPC 1.14 accepts only ROUND_ROBIN and RING_HASH as
 * lb_policy (anything else NACKs the whole CDS response), so for it Maglev is ring hash (both
 * consistent hashing) and LeastRequest and Random are round robin.
 */
function lbPolicy(lb: LoadBalancerPolicy, client: PolicyClient): string {
  switch (lb.type) {
    case 'RoundRobin':
      return 'ROUND_ROBIN';
    case 'LeastRequest':
      return client === 'grpc' ? 'ROUND_ROBIN' : 'LEAST_REQUEST';
    case 'Random':
      return client === 'grpc' ? 'ROUND_ROBIN' : 'RANDOM';
    case 'RingHash':
      return 'RING_HASH';
    case 'Maglev':
      return client === 'grpc' ? 'RING_HASH' : 'MAGLEV';
  }
}

/** Sets the policy's fields on an outbound cluster (`c` already has name, type, EDS config and defaults). */
export function applyBackendPolicy(c: Msg, p: BackendPolicy | undefined, client: PolicyClient, httpProtocol: 'http1' | 'http2'): void {
  if (!p) return;
  const o = p.outlier;
  if (o) {
    const od: Msg = {
      interval: duration(o.intervalMs),
      base_ejection_time: duration(o.baseEjectionTimeMs),
      max_ejection_percent: { value: o.maxEjectionPercent },
      // Success-rate ejection is on by default in Envoy and gRPC; we do not expose it, and gRPC
      // (grpc-js 1.14) crashes evaluating it with unset minimum hosts, so it is off explicitly.
      enforcing_success_rate: { value: 0 },
    };
    if (o.consecutive5xx !== undefined) od.consecutive_5xx = { value: o.consecutive5xx };
    if (o.consecutiveGatewayErrors !== undefined) od.consecutive_gateway_failure = { value: o.consecutiveGatewayErrors };
    if (o.failurePercentageThreshold !== undefined) {
      od.failure_percentage_threshold = { value: o.failurePercentageThreshold };
      od.enforcing_failure_percentage = { value: o.enforcingFailurePercentage ?? 100 };
      od.failure_percentage_minimum_hosts = { value: o.failurePercentageMinimumHosts ?? 5 };
      od.failure_percentage_request_volume = { value: o.failurePercentageRequestVolume ?? 50 };
    }
    c.outlier_detection = od;
  }
  const cb = p.connectionPool;
  if (cb) {
    const t: Msg = { priority: 'DEFAULT' };
    if (cb.maxConnections !== undefined) t.max_connections = { value: cb.maxConnections };
    if (cb.maxPendingRequests !== undefined) t.max_pending_requests = { value: cb.maxPendingRequests };
    if (cb.maxRequests !== undefined) t.max_requests = { value: cb.maxRequests };
    if (cb.maxRetries !== undefined) t.max_retries = { value: cb.maxRetries };
    c.circuit_breakers = { thresholds: [t] };
  }
  if (p.loadBalancer) c.lb_policy = lbPolicy(p.loadBalancer, client);
  if (p.connectTimeoutMs !== undefined) c.connect_timeout = duration(p.connectTimeoutMs);
  if (p.idleTimeoutMs !== undefined && client === 'sidecar') {
    // gRPC has no upstream idle timeout in xDS; Envoy closes idle upstream connections after it.
    c.typed_extension_protocol_options = {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        common_http_protocol_options: { idle_timeout: duration(p.idleTimeoutMs) },
        explicit_http_config: httpProtocol === 'http2' ? { http2_protocol_options: {} } : { http_protocol_options: {} },
      },
    };
  }
}

/**
 * Route hash_policy for a consistent-hash backend, or undefined. gRPC hashes only a header or its
 * channel id (gRFC A42): a cookie hash falls back to the channel id for it, and so does source IP
 * (one channel is one client connection, which is what a source-IP hash keeps together).
 */
export function hashPolicy(p: BackendPolicy | undefined, client: PolicyClient): Msg[] | undefined {
  const h = p?.loadBalancer?.hash;
  if (!h) return undefined;
  if ('header' in h) return [{ header: { header_name: h.header } }];
  if (client === 'grpc') return [{ filter_state: { key: 'io.grpc.channel_id' } }];
  if ('cookie' in h) return [{ cookie: { name: h.cookie.name, ...(h.cookie.ttlMs !== undefined ? { ttl: duration(h.cookie.ttlMs) } : {}) } }];
  return [{ connection_properties: { source_ip: true } }];
}

/**
 * The local rate limit config: a token bucket of `burst` tokens refilled with `requests` every
 * interval, enforced on every request it sees; excess requests get 429 with the x-ratelimit-*
 * headers (IETF draft 03). With no limit the filter only counts and defers to per-route configs.
 */
export function localRateLimit(rl: RateLimitPolicy | undefined, port: number): Msg {
  const out: Msg = { '@type': LOCAL_RATELIMIT_TYPE, stat_prefix: rateLimitStatPrefix(port) };
  if (!rl) return out;
  out.token_bucket = { max_tokens: rl.burst, tokens_per_fill: { value: rl.requests }, fill_interval: duration(rl.intervalMs) };
  out.filter_enabled = { runtime_key: 'mesh_local_rate_limit_enabled', default_value: ALWAYS };
  out.filter_enforced = { runtime_key: 'mesh_local_rate_limit_enforced', default_value: ALWAYS };
  out.enable_x_ratelimit_headers = 'DRAFT_VERSION_03';
  return out;
}
