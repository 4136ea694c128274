import { isHttp, reachableServices, serviceKey } from '../model/build.js';
import { routeOrder } from '../model/routes.js';
import { grpcMatchRank } from '../model/grpc-routes.js';
import { escapeRegex } from '../util/text.js';
import { inboundPortAuthz } from '../model/inbound-authz.js';
import { RBAC_TYPES, rbacFilters } from './rbac.js';
import { egressResources } from './egress.js';
import type {
  FaultPolicy,
  HeaderEdits,
  MeshModel,
  MeshRoute,
  MeshService,
  MtlsMode,
  PathModifier,
  RateLimitPolicy,
  RetryPolicy,
  RouteBackend,
  RouteMatch,
  RouteRedirect,
  RouteRule,
  ServicePort,
  ValueMatch,
  Workload,
} from '../model/types.js';
import { TYPE, type TypeUrl } from './protos.js';
import { proxyTelemetry, type ProxyTelemetry } from './observability.js';
import { backendPolicy } from '../model/policy.js';
import { applyBackendPolicy, hashPolicy, LOCAL_RATELIMIT_FILTER, LOCAL_RATELIMIT_TYPE, localRateLimit } from './policy.js';
import { gatewayResources } from './gateway.js';

import { duration, type Msg } from './msg.js';

export { duration, type Msg };

/** Resources of one proxy: type URL -> resource name -> resource. */
export type Resources = Record<TypeUrl, Record<string, Msg>>;

/** What the control plane knows about a connected proxy (from its xDS node). */
export interface ProxyInfo {
  id: string;
  /** `grpc`: proxyless gRPC (API listeners); `sidecar`: an Envoy next to a pod; `gateway`: the Envoy of an ingress Gateway. */
  kind: 'grpc' | 'sidecar' | 'gateway';
  namespace?: string;
  /** Name of the Gateway (in `namespace`) a gateway proxy serves. */
  gateway?: string;
  /** Pod name of a sidecar, for its inbound side. */
  pod?: string;
}

/** Type URLs of the Any-typed messages the translation embeds. */
export const T = {
  hcm: 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
  router: 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
  fault: 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault',
  tcpProxy: 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
  originalDst: 'type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst',
  tlsInspector: 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector',
  upstreamTls: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
  downstreamTls: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
  httpOptions: 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
  localRateLimit: LOCAL_RATELIMIT_TYPE,
} as const;

/** Every Any-typed message URL the translation can emit inside a resource (the encode test walks them all). */
export const EMBEDDED_TYPES: readonly string[] = [...Object.values(T), ...RBAC_TYPES];

export { rbacConfig } from './rbac.js';

/** Well-known names shared with the injected sidecar's bootstrap and iptables rules. */
export const SIDECAR = {
  outboundPort: 15001,
  inboundPort: 15006,
  prometheusPort: 15090,
  adminPort: 15000,
  /** SDS names of the workload certificate and the trust bundle. */
  certSecret: 'default',
  rootSecret: 'ROOTCA',
} as const;

/** ConfigSource of every xDS resource a proxy fetches: the ADS stream. */
export const ADS = { ads: {}, resource_api_version: 'V3' };
/** Certificate provider instance proxyless gRPC bootstraps must define for mTLS (file_watcher with the workload's SVID). */
export const CERT_PROVIDER = 'default';
const FAULT_FILTER = 'envoy.filters.http.fault';
/** The terminal HTTP filter. */
export const ROUTER = { name: 'envoy.filters.http.router', typed_config: { '@type': T.router } };

/**
 * Per-model memo of per-service resources: every proxy of a generation shares the same objects,
 * so 1,000 proxies cost one translation per service (and snapshot.ts encodes each object once).
 * Keyed weakly by the immutable model, so results are exactly what a fresh call would return.
 */
const memo = new WeakMap<MeshModel, Map<string, Msg>>();
function memoized(model: MeshModel, key: string, build: () => Msg): Msg {
  let m = memo.get(model);
  if (!m) memo.set(model, (m = new Map()));
  let v = m.get(key);
  if (!v) m.set(key, (v = build()));
  return v;
}

/** Listener (and route configuration) name a proxyless gRPC client asks for: `xds:///NAME.NS.svc.cluster.local:PORT`. */
export function apiListenerName(s: MeshService, port: number): string {
  return `${s.fqdn}:${port}`;
}

/** Outbound cluster name of a service port (also its EDS service name), Istio-style. */
export function clusterName(s: MeshService, port: number): string {
  return `outbound|${port}||${s.fqdn}`;
}

/** Which client a route configuration is built for: Envoy (sidecars and gateways) and proxyless gRPC differ in what they can express. */
export type Client = 'sidecar' | 'grpc';

/**
 * The routes of a service port that a client in `clientNs` uses (GAMMA): the consumer routes of
 * its own namespace when there are any, which then replace the producer routes; otherwise the
 * producer routes (those in the Service's namespace).
 */
function routesOf(model: MeshModel, s: MeshService, port: number, clientNs: string | undefined): MeshRoute[] {
  const key = serviceKey(s);
  const onPort = model.routes.filter((r) => r.parent === key && (r.port === undefined || r.port === port));
  const consumer = clientNs === undefined ? [] : onPort.filter((r) => r.consumer && r.namespace === clientNs);
  return consumer.length ? consumer : onPort.filter((r) => !r.consumer);
}

/** The namespace whose consumer routes shape this client's view of a service port, or '' when it sees the producer routes. */
function consumerNs(model: MeshModel, s: MeshService, port: number, clientNs: string | undefined): string {
  const key = serviceKey(s);
  return clientNs !== undefined && model.routes.some((r) => r.consumer && r.namespace === clientNs && r.parent === key && (r.port === undefined || r.port === port)) ? clientNs : '';
}

/**
 * Envoy path matchers of a Gateway API match. PathPrefix matches whole segments, which is
 * Envoy's `path_separated_prefix`; gRPC clients (gRFC A28) know only prefix, path and regex, so
 * for them the same set is the exact path plus the prefix with a trailing `/`.
 */
function pathMatchers(m: RouteMatch, client: Client): Msg[] {
  const p = m.path;
  if (!p || (p.type === 'PathPrefix' && p.value === '/')) return [{ prefix: '/' }];
  if (p.type === 'Exact') return [{ path: p.value }];
  if (p.type === 'Prefix') return [{ prefix: p.value }];
  if (p.type === 'RegularExpression') return [{ safe_regex: { regex: p.value } }];
  return client === 'sidecar' ? [{ path_separated_prefix: p.value }] : [{ path: p.value }, { prefix: `${p.value}/` }];
}

function stringMatch(v: ValueMatch): Msg {
  return v.type === 'Exact' ? { exact: v.value } : { safe_regex: { regex: v.value } };
}

function headerMatchers(m: RouteMatch): Msg[] {
  const out: Msg[] = m.headers.map((h) => ({ name: h.name, string_match: stringMatch(h) }));
  if (m.method) out.push({ name: ':method', string_match: { exact: m.method } });
  return out;
}

function retryPolicy(r: RetryPolicy): Msg {
  const retryOn = [...r.retryOn];
  if (r.codes.length && !retryOn.includes('retriable-status-codes')) retryOn.push('retriable-status-codes');
  const out: Msg = { retry_on: retryOn.join(','), num_retries: { value: r.attempts } };
  if (r.codes.length) out.retriable_status_codes = r.codes;
  if (r.perTryTimeoutMs !== undefined) out.per_try_timeout = duration(r.perTryTimeoutMs);
  if (r.backoffMs !== undefined && r.backoffMs > 0) out.retry_back_off = { base_interval: duration(r.backoffMs), max_interval: duration(r.backoffMs * 10) };
  return out;
}

function fraction(percent: number): Msg {
  // Per-million keeps fractional percentages (0.5 %) exact.
  return { numerator: Math.round(Math.max(0, Math.min(100, percent)) * 10_000), denominator: 'MILLION' };
}

function faultConfig(f: FaultPolicy): Msg {
  const out: Msg = { '@type': T.fault };
  if (f.abort) {
    const abort: Msg = { percentage: fraction(f.abort.percent) };
    if (f.abort.grpcStatus !== undefined) abort.grpc_status = f.abort.grpcStatus;
    else abort.http_status = f.abort.httpStatus ?? 503;
    out.abort = abort;
  }
  if (f.delay) out.delay = { fixed_delay: duration(f.delay.fixedDelayMs), percentage: fraction(f.delay.percent) };
  return out;
}

/**
 * Prefix of the cluster name a backendRef that does not resolve routes to. No such cluster is ever
 * in CDS, on purpose: Envoy then answers the route's `cluster_not_found_response_code` (500) for
 * that share, as the Gateway API requires; the snapshot consistency check knows the exception.
 */
export const UNRESOLVED_CLUSTER_PREFIX = 'unresolved|';

function unresolvedCluster(b: RouteBackend): string {
  return `${UNRESOLVED_CLUSTER_PREFIX}${b.port}||${b.service}`;
}

/** The hash policy of the first backend whose TrafficPolicy hashes requests (a route action has one list for all its clusters). */
function backendHash(model: MeshModel, backends: RouteBackend[], client: Client): Msg[] | undefined {
  for (const b of backends) {
    const s = b.unresolved ? undefined : model.services.find((x) => serviceKey(x) === b.service);
    const h = s ? hashPolicy(backendPolicy(s, b.port), client) : undefined;
    if (h) return h;
  }
  return undefined;
}

function backendCluster(model: MeshModel, b: RouteBackend): string {
  if (b.unresolved) return unresolvedCluster(b);
  const s = model.services.find((x) => serviceKey(x) === b.service);
  return s ? clusterName(s, b.port) : unresolvedCluster(b);
}

/**
 * The path rewrite of a ReplacePrefixMatch for a route matching `prefix` (the spec: the matched
 * segments are replaced; a replacement of `/` or `` strips them; a trailing `/` of the replacement
 * is dropped, so `/foo/bar` with `/foo` -> `/xyz` becomes `/xyz/bar`).
 */
function prefixRewrite(prefix: string, replacement: string): Msg {
  const value = replacement.replace(/\/+$/, '');
  if (value === '') return { regex_rewrite: { pattern: { regex: `^${escapeRegex(prefix === '/' ? '' : prefix)}/*` }, substitution: '/' } };
  if (prefix === '/') return { regex_rewrite: { pattern: { regex: '^/' }, substitution: `${value}/` } };
  return { prefix_rewrite: value };
}

function pathRewrite(m: PathModifier, match: RouteMatch): Msg {
  if (m.type === 'ReplaceFullPath') return { regex_rewrite: { pattern: { regex: '^/.*$' }, substitution: m.value } };
  return prefixRewrite(match.path?.value ?? '/', m.value);
}

const REDIRECT_CODE: Record<number, string> = { 301: 'MOVED_PERMANENTLY', 302: 'FOUND', 303: 'SEE_OTHER', 307: 'TEMPORARY_REDIRECT', 308: 'PERMANENT_REDIRECT' };

/** Envoy RedirectAction of a RequestRedirect; the port defaults as the spec says (the scheme's well-known port, else the port the request came to). */
function redirectAction(r: RouteRedirect, match: RouteMatch, listenerPort: number): Msg {
  const out: Msg = { response_code: REDIRECT_CODE[r.statusCode] ?? 'FOUND' };
  if (r.scheme) out.scheme_redirect = r.scheme;
  if (r.hostname) out.host_redirect = r.hostname;
  out.port_redirect = r.port ?? (r.scheme === 'https' ? 443 : r.scheme === 'http' ? 80 : listenerPort);
  if (r.path?.type === 'ReplaceFullPath') out.path_redirect = r.path.value;
  else if (r.path) Object.assign(out, prefixRewrite(match.path?.value ?? '/', r.path.value));
  return out;
}

function headersToAdd(e: HeaderEdits): Msg[] {
  return [
    ...e.set.map((h) => ({ header: { key: h.name, value: h.value }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' })),
    ...e.add.map((h) => ({ header: { key: h.name, value: h.value }, append_action: 'APPEND_IF_EXISTS_OR_ADD' })),
  ];
}

/** gRPC status a proxyless client gets for a rule it cannot follow: UNKNOWN, gRPC's mapping of HTTP 500 and of redirects. */
const GRPC_UNKNOWN = 2;

/** Whether a backend carries backend-level header filters. */
function editsHeaders(b: RouteBackend): boolean {
  return b.requestHeaders !== undefined || b.responseHeaders !== undefined;
}

/**
 * Whether the rule can only fail for gRPC clients: they cannot follow redirects or rewrite the path
 * (method), and apply no header mutation, so a backend-level header filter (which exists to treat
 * one backend differently) is refused rather than silently dropped.
 */
function grpcCannotServe(rule: RouteRule): boolean {
  return rule.failure !== undefined || rule.redirect !== undefined || rule.rewrite?.path !== undefined || rule.backends.some((b) => b.weight > 0 && editsHeaders(b));
}

/** Envoy header mutation fields (`request_headers_to_add`, ...) of request and response edits, on a Route or a ClusterWeight. */
function headerMutations(request: HeaderEdits | undefined, response: HeaderEdits | undefined): Msg {
  const out: Msg = {};
  if (request) {
    const add = headersToAdd(request);
    if (add.length) out.request_headers_to_add = add;
    if (request.remove.length) out.request_headers_to_remove = request.remove;
  }
  if (response) {
    const add = headersToAdd(response);
    if (add.length) out.response_headers_to_add = add;
    if (response.remove.length) out.response_headers_to_remove = response.remove;
  }
  return out;
}

/** The Envoy route entry of one rule and one of its matches (the path matcher comes from the caller). */
function routeEntry(model: MeshModel, ownCluster: string, port: number, rule: RouteRule, match: RouteMatch, client: Client): Msg {
  const out: Msg = {};
  if (rule.fault) out.typed_per_filter_config = { [FAULT_FILTER]: faultConfig(rule.fault) };
  if (client === 'grpc' && grpcCannotServe(rule)) {
    // grpc-js rejects a whole RouteConfiguration with a redirect or direct response, so the
    // rule's requests are failed by the fault filter instead; the cluster is never reached.
    out.route = { cluster: ownCluster };
    out.typed_per_filter_config = { [FAULT_FILTER]: { '@type': T.fault, abort: { percentage: fraction(100), grpc_status: GRPC_UNKNOWN } } };
    return out;
  }
  if (rule.failure) {
    out.direct_response = { status: 500 };
    return out;
  }
  Object.assign(out, headerMutations(rule.requestHeaders, rule.responseHeaders));
  if (rule.redirect) {
    out.redirect = redirectAction(rule.redirect, match, port);
    return out;
  }
  const live = rule.backends.filter((b) => b.weight > 0);
  const action: Msg = {};
  // Backend-level filters live on a ClusterWeight, so a backend with them is always a weighted cluster.
  if (live.length === 1 && !editsHeaders(live[0]!)) action.cluster = backendCluster(model, live[0]!);
  else action.weighted_clusters = { clusters: live.map((b) => ({ name: backendCluster(model, b), weight: { value: b.weight }, ...headerMutations(b.requestHeaders, b.responseHeaders) })) };
  if (live.some((b) => b.unresolved)) action.cluster_not_found_response_code = 'INTERNAL_SERVER_ERROR';
  const hash = backendHash(model, live, client);
  if (hash) action.hash_policy = hash;
  if (rule.rewrite?.hostname) action.host_rewrite_literal = rule.rewrite.hostname;
  if (rule.rewrite?.path) Object.assign(action, pathRewrite(rule.rewrite.path, match));
  // Envoy reads `timeout`; gRPC reads max_stream_duration (gRFC A31) and never per_try_timeout, so
  // for gRPC a backendRequest timeout without retries (one attempt) bounds the call itself. 0 means no timeout.
  const retries = rule.retry !== undefined && rule.retry.attempts > 0;
  let streamMs = rule.timeoutMs;
  const bt = rule.backendTimeoutMs;
  if (client === 'grpc' && !retries && bt !== undefined && bt > 0 && (streamMs === undefined || streamMs === 0 || bt < streamMs)) streamMs = bt;
  if (rule.timeoutMs !== undefined) action.timeout = duration(rule.timeoutMs);
  if (streamMs !== undefined) action.max_stream_duration = { max_stream_duration: duration(streamMs) };
  const mirrors = (rule.mirrors ?? []).map((m) => ({ cluster: backendCluster(model, { service: m.service, port: m.port, weight: 1 }), runtime_fraction: { default_value: fraction(m.percent) } }));
  if (mirrors.length) action.request_mirror_policies = mirrors;
  const retry = rule.retry ?? (rule.backendTimeoutMs !== undefined ? { attempts: 0, retryOn: [], codes: [] } : undefined);
  if (retry) {
    const rp = retryPolicy(retry);
    if (rule.backendTimeoutMs !== undefined && retry.perTryTimeoutMs === undefined) rp.per_try_timeout = duration(rule.backendTimeoutMs);
    // grpc-js rejects (NACKs) a retry policy of zero retries, which Envoy reads as a per-try timeout only.
    if (retry.attempts > 0 || (client === 'sidecar' && rule.backendTimeoutMs !== undefined)) action.retry_policy = rp;
  }
  out.route = action;
  return out;
}

/**
 * Gateway API precedence of a match, most specific first: exact path, longest prefix, method,
 * most header matches, most query matches. A regex (implementation-specific in the spec) ranks
 * just above the catch-all prefix `/`.
 */
function matchRank(m: RouteMatch): number[] {
  const p = m.path;
  const exact = p?.type === 'Exact' ? 1 : 0;
  const prefixLen = !p ? 1 : p.type === 'RegularExpression' ? 1.5 : p.value.length;
  return [exact, prefixLen, m.method ? 1 : 0, m.headers.length, m.query.length];
}

/**
 * The Envoy routes of one service port for one client: every rule and match of the routes it
 * uses, most specific first (Gateway API precedence), so the first Envoy match is the spec's
 * match. With routes attached, a request no rule matches gets 404; with none, the service itself.
 */
function virtualHostRoutes(model: MeshModel, s: MeshService, port: number, client: Client, clientNs: string | undefined): Msg[] {
  // Only one route kind is ever attached to a parent for a client (model/routes.ts settleKinds), so ranks compare within a kind.
  const attached = routesOf(model, s, port, clientNs).sort(routeOrder);
  if (!attached.length) {
    const hash = hashPolicy(backendPolicy(s, port), client);
    return [{ name: 'default', match: { prefix: '/' }, route: { cluster: clusterName(s, port), ...(hash ? { hash_policy: hash } : {}) } }];
  }
  return ruleRoutes(model, attached, port, client, clusterName(s, port));
}

/** What {@link ruleRoutes} reads of a route: its rules and what orders it among others. */
export type RulesOf = Pick<MeshRoute, 'name' | 'namespace' | 'createdAt' | 'rules'> & { kind?: MeshRoute['kind'] };

/**
 * The Envoy routes of a set of HTTPRoutes sharing one virtual host (a GAMMA service port or a
 * Gateway hostname): every rule and match, most specific first (Gateway API precedence; equal
 * matches by route age, then namespace/name), so Envoy's first match is the spec's match.
 * `port` is the port requests arrive on (redirects default to it); `ownCluster` is what a rule a
 * gRPC client cannot follow names while it fails. A request no entry matches gets Envoy's 404.
 */
export function ruleRoutes(model: MeshModel, routes: readonly RulesOf[], port: number, client: Client, ownCluster: string): Msg[] {
  return ruleEntries([...routes].sort(routeOrder), client, (rule, m) => routeEntry(model, ownCluster, port, rule, m, client));
}

/**
 * Envoy routes for every rule and match of `routes` (ordered by routeOrder), most specific first
 * (Gateway API precedence), so the first Envoy match is the spec's match; `entryOf` gives the
 * action part of each entry.
 */
function ruleEntries(routes: readonly RulesOf[], client: Client, entryOf: (rule: RouteRule, m: RouteMatch) => Msg): Msg[] {
  const entries: { rank: number[]; order: number; msg: Msg }[] = [];
  for (const r of routes) {
    r.rules.forEach((rule, i) => {
      const matches: RouteMatch[] = rule.matches.length ? rule.matches : [{ headers: [], query: [] }];
      matches.forEach((m, j) => {
        // gRPC requests carry no query string, so a query match can never hold for them.
        if (client === 'grpc' && m.query.length) return;
        const entry = entryOf(rule, m);
        for (const pm of pathMatchers(m, client)) {
          const match: Msg = { ...pm };
          const headers = headerMatchers(m);
          if (headers.length) match.headers = headers;
          if (m.query.length) match.query_parameters = m.query.map((q) => ({ name: q.name, string_match: stringMatch(q) }));
          entries.push({ rank: r.kind === 'GRPCRoute' ? grpcMatchRank(m) : matchRank(m), order: entries.length, msg: { name: `${r.namespace}.${r.name}.${i}.${j}`, match, ...entry } });
        }
      });
    });
  }
  return entries
    .sort((a, b) => {
      for (let k = 0; k < a.rank.length; k++) if (a.rank[k] !== b.rank[k]) return b.rank[k]! - a.rank[k]!;
      return a.order - b.order;
    })
    .map((e) => e.msg);
}

function routeConfig(model: MeshModel, s: MeshService, port: number, client: Client, clientNs: string | undefined): Msg {
  const short = [s.name, `${s.name}.${s.namespace}`, `${s.name}.${s.namespace}.svc`, s.fqdn];
  const domains = [...short.flatMap((d) => [d, `${d}:${port}`]), ...(s.clusterIP ? [`${s.clusterIP}:${port}`] : []), '*'];
  const routes = virtualHostRoutes(model, s, port, client, clientNs);
  const out: Msg = { name: apiListenerName(s, port), virtual_hosts: [{ name: apiListenerName(s, port), domains, routes }] };
  // A backend-level filter is the more specific one, so it must win over the rule's filter on the
  // same header; Envoy applies the least specific last unless told otherwise.
  if (client === 'sidecar' && routesOf(model, s, port, clientNs).some((r) => r.rules.some((rule) => rule.backends.some((x) => x.weight > 0 && editsHeaders(x))))) {
    out.most_specific_header_mutations_wins = true;
  }
  return out;
}

/** The route configuration of a service port for a client kind in a namespace, memoized per model and per distinct view. */
function routeConfigFor(model: MeshModel, s: MeshService, port: number, client: Client, clientNs: string | undefined): Msg {
  const ns = consumerNs(model, s, port, clientNs);
  return memoized(model, `r|${client}|${ns}|${apiListenerName(s, port)}`, () => routeConfig(model, s, port, client, ns || undefined));
}

function hasFault(model: MeshModel): boolean {
  // Rules proxyless clients cannot follow are failed through the fault filter, so they need it too.
  return model.routes.some((r) => r.rules.some((rule) => rule.fault || grpcCannotServe(rule)));
}

/** The HTTP filters of an Envoy HCM that serves routes: the fault filter when any rule needs it, then the router. */
export function httpFilters(model: MeshModel): Msg[] {
  // The fault filter is only there to carry per-route overrides; with no override it does nothing.
  return hasFault(model) ? [{ name: FAULT_FILTER, typed_config: { '@type': T.fault } }, ROUTER] : [ROUTER];
}

/** A sidecar's HCMs carry its tracing and access log (observability.ts); proxyless and admin ones carry neither. */
function hcm(statPrefix: string, route: { rds: string } | { inline: Msg }, filters: Msg[], sidecar: ProxyTelemetry['hcm'] | false): Msg {
  const out: Msg = { '@type': T.hcm, stat_prefix: statPrefix, http_filters: filters };
  if ('rds' in route) out.rds = { config_source: ADS, route_config_name: route.rds };
  else out.route_config = route.inline;
  if (sidecar) {
    Object.assign(out, sidecar);
    out.use_remote_address = { value: false };
  }
  return out;
}

function cluster(model: MeshModel, s: MeshService, sp: ServicePort, sidecar: boolean): Msg {
  const name = clusterName(s, sp.port);
  const c: Msg = {
    name,
    type: 'EDS',
    eds_cluster_config: { eds_config: ADS, service_name: name },
    lb_policy: 'ROUND_ROBIN',
    connect_timeout: duration(10_000),
  };
  if (!sidecar && nsMtls(model, s.namespace) === 'STRICT') {
    // Proxyless mTLS (gRFC A29): certificates come from the client's bootstrap certificate provider
    // `default` (our bootstrap writes it); the server must present an identity of this service.
    const ids = [...new Set((model.endpoints[serviceKey(s)] ?? []).map((e) => e.identity))];
    const sans = ids.length && ids.every((x): x is string => x !== undefined) ? ids.sort().map((exact) => ({ exact })) : [{ prefix: `spiffe://${model.trustDomain}/` }];
    c.transport_socket = {
      name: 'envoy.transport_sockets.tls',
      typed_config: {
        '@type': T.upstreamTls,
        common_tls_context: {
          tls_certificate_provider_instance: { instance_name: CERT_PROVIDER },
          validation_context: { ca_certificate_provider_instance: { instance_name: CERT_PROVIDER }, match_subject_alt_names: sans },
        },
      },
    };
  }
  if (sidecar) {
    if (sp.protocol === 'grpc' || sp.protocol === 'http2') {
      c.typed_extension_protocol_options = {
        'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': { '@type': T.httpOptions, explicit_http_config: { http2_protocol_options: {} } },
      };
    }
    if (nsMtls(model, s.namespace) !== 'DISABLE') {
      c.transport_socket = {
        name: 'envoy.transport_sockets.tls',
        typed_config: { '@type': T.upstreamTls, sni: s.fqdn, common_tls_context: commonTls(model.trustDomain, ['istio-peer-exchange', 'h2', 'http/1.1']) },
      };
    }
  }
  applyBackendPolicy(c, backendPolicy(s, sp.port), sidecar ? 'sidecar' : 'grpc', sp.protocol === 'grpc' || sp.protocol === 'http2' ? 'http2' : 'http1');
  return c;
}

function nsMtls(model: MeshModel, ns: string): MtlsMode {
  return model.namespaces.find((n) => n.name === ns)?.mtls ?? 'PERMISSIVE';
}

function commonTls(trustDomain: string, alpn: string[]): Msg {
  const sds = (name: string): Msg => ({ name, sds_config: ADS });
  return {
    tls_certificate_sds_secret_configs: [sds(SIDECAR.certSecret)],
    combined_validation_context: {
      default_validation_context: { match_typed_subject_alt_names: [{ san_type: 'URI', matcher: { prefix: `spiffe://${trustDomain}/` } }] },
      validation_context_sds_secret_config: sds(SIDECAR.rootSecret),
    },
    alpn_protocols: alpn,
  };
}

function loadAssignment(model: MeshModel, s: MeshService, sp: ServicePort): Msg {
  const eps = model.endpoints[serviceKey(s)] ?? [];
  const lb = eps.flatMap((e) => {
    const port = e.ports[sp.name] ?? (typeof sp.targetPort === 'number' ? sp.targetPort : undefined);
    if (port === undefined) return [];
    return [{ endpoint: { address: { socket_address: { address: e.address, port_value: port } } }, health_status: e.ready ? 'HEALTHY' : 'UNHEALTHY' }];
  });
  // gRPC ignores a locality without a weight, so every locality carries one.
  return { cluster_name: clusterName(s, sp.port), endpoints: lb.length ? [{ locality: {}, lb_endpoints: lb, load_balancing_weight: { value: 1 } }] : [] };
}

/** A Resources with every type present and empty. */
export function emptyResources(): Resources {
  return { [TYPE.listener]: {}, [TYPE.route]: {}, [TYPE.cluster]: {}, [TYPE.endpoint]: {}, [TYPE.secret]: {} } as Resources;
}

/** Clusters and endpoints of every port of the given services (shared by every proxy kind; `sidecar`: Envoy's mTLS clusters). */
export function addOutbound(model: MeshModel, services: MeshService[], res: Resources, sidecar: boolean): void {
  for (const s of services) {
    for (const sp of s.ports) {
      const name = clusterName(s, sp.port);
      res[TYPE.cluster][name] = memoized(model, `${sidecar ? 's' : 'g'}|c|${name}`, () => cluster(model, s, sp, sidecar));
      res[TYPE.endpoint][name] = memoized(model, `e|${name}`, () => loadAssignment(model, s, sp));
    }
  }
}

/** Listener name an xDS-enabled gRPC server asks for (bootstrap `server_listener_resource_name_template`). */
export function serverListenerName(address: string, port: number): string {
  return `grpc/server?xds.resource.listening_address=${address.includes(':') ? `[${address}]` : address}:${port}`;
}

/**
 * Server listeners of an xDS-enabled gRPC server (a proxyless node with POD_NAME): for each inbound
 * port of its workload, one listener per address it may bind (0.0.0.0, [::] and the pod IP), with
 * an HCM whose routes are non-forwarding and whose filters are RBAC (deny, then allow) and router.
 * mTLS (STRICT workloads) through the bootstrap's certificate provider `default`.
 */
function serverListeners(model: MeshModel, w: Workload, res: Resources): void {
  for (const p of w.ports) {
    if (!isHttp(p.protocol)) continue;
    const filters: Msg[] = [...rbacFilters(inboundPortAuthz(model, w, p.port), true, `inbound_${p.port}_rbac`), ROUTER];
    const route = { name: `inbound|${p.port}`, virtual_hosts: [{ name: 'inbound', domains: ['*'], routes: [{ name: 'default', match: { prefix: '/' }, non_forwarding_action: {} }] }] };
    const hcmConfig = hcm(`inbound_${p.port}`, { inline: route }, filters, false);
    for (const address of [...new Set(['0.0.0.0', '::', ...(w.ip ? [w.ip] : [])])]) {
      const name = serverListenerName(address, p.port);
      const chain: Msg = { name: `inbound|${p.port}`, filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: hcmConfig }] };
      // gRPC servers cannot sniff TLS, so only STRICT turns it on (PERMISSIVE stays plaintext).
      if (w.mtls === 'STRICT') {
        chain.transport_socket = {
          name: 'envoy.transport_sockets.tls',
          typed_config: {
            '@type': T.downstreamTls,
            require_client_certificate: { value: true },
            common_tls_context: {
              tls_certificate_provider_instance: { instance_name: CERT_PROVIDER },
              validation_context: { ca_certificate_provider_instance: { instance_name: CERT_PROVIDER } },
            },
          },
        };
      }
      res[TYPE.listener][name] = { name, address: { socket_address: { address, port_value: p.port } }, filter_chains: [chain], traffic_direction: 'INBOUND' };
    }
  }
}

/**
 * Resources for a proxyless gRPC client: per reachable HTTP/gRPC service port an API listener
 * `NAME.NS.svc.cluster.local:PORT` (HCM with RDS), its route configuration, and the clusters and
 * endpoints its routes name. Pure.
 */
export function proxylessResources(model: MeshModel, proxy: ProxyInfo): Resources {
  const res = emptyResources();
  const services = reachableServices(model, proxy.namespace);
  addOutbound(model, services, res, false);
  for (const s of services) {
    for (const sp of s.ports) {
      if (!isHttp(sp.protocol)) continue;
      const name = apiListenerName(s, sp.port);
      res[TYPE.listener][name] = memoized(model, `g|l|${name}`, () => ({ name, api_listener: { api_listener: hcm(name, { rds: name }, httpFilters(model), false) } }));
      res[TYPE.route][name] = routeConfigFor(model, s, sp.port, 'grpc', proxy.namespace);
    }
  }
  const w = proxy.pod ? model.workloads.find((x) => x.name === proxy.pod && x.namespace === proxy.namespace) : undefined;
  if (w) serverListeners(model, w, res);
  return res;
}

function inboundChains(model: MeshModel, w: Workload, res: Resources, telemetry: ProxyTelemetry): Msg[] {
  const chains: Msg[] = [];
  for (const p of w.ports) {
    const clusterName = `inbound|${p.port}||`;
    res[TYPE.cluster][clusterName] = {
      name: clusterName,
      type: 'STATIC',
      connect_timeout: duration(10_000),
      load_assignment: { cluster_name: clusterName, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: p.port } } } }] }] },
    };
    const http = isHttp(p.protocol);
    const filters: Msg[] = [];
    if (http) {
      const httpFilters: Msg[] = rbacFilters(inboundPortAuthz(model, w, p.port), true, `inbound_${p.port}_rbac`);
      if (hasFault(model)) httpFilters.push({ name: FAULT_FILTER, typed_config: { '@type': T.fault } });
      const limits = inboundLimits(model, p);
      // After RBAC, so denied requests do not spend tokens.
      if (limits) httpFilters.push({ name: LOCAL_RATELIMIT_FILTER, typed_config: localRateLimit(limits.port, p.port) });
      httpFilters.push(ROUTER);
      const forward = { route: { cluster: clusterName, timeout: duration(0) } };
      const ruleLimited = limits?.routes.length
        ? ruleEntries(limits.routes, 'sidecar', (rule) => (rule.rateLimit ? { ...forward, typed_per_filter_config: { [LOCAL_RATELIMIT_FILTER]: localRateLimit(rule.rateLimit, p.port) } } : forward))
        : [];
      const route = {
        name: clusterName,
        virtual_hosts: [{ name: 'inbound', domains: ['*'], routes: [...ruleLimited, { name: 'default', match: { prefix: '/' }, ...forward }] }],
      };
      filters.push({ name: 'envoy.filters.network.http_connection_manager', typed_config: hcm(`inbound_${p.port}`, { inline: route }, httpFilters, telemetry.hcm) });
    } else {
      filters.push(...rbacFilters(inboundPortAuthz(model, w, p.port), false, `inbound_${p.port}_rbac`));
      filters.push({ name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': T.tcpProxy, stat_prefix: `inbound_${p.port}`, cluster: clusterName, ...telemetry.tcp } });
    }
    for (const transport of transportsFor(w.mtls)) {
      const chain: Msg = {
        name: `inbound|${p.port}|${transport}`,
        filter_chain_match: { destination_port: { value: p.port }, transport_protocol: transport },
        filters,
      };
      if (transport === 'tls') {
        chain.transport_socket = {
          name: 'envoy.transport_sockets.tls',
          typed_config: { '@type': T.downstreamTls, require_client_certificate: { value: true }, common_tls_context: commonTls(model.trustDomain, ['h2', 'http/1.1']) },
        };
      }
      chains.push(chain);
    }
  }
  return chains;
}

/**
 * The local rate limits of an inbound port: the TrafficPolicy of the Service port that targets it,
 * and the producer routes of that Service with a rate-limited rule (the inbound side repeats their
 * matches in the same precedence, so a request counts against the rule its client matched).
 * Undefined when nothing limits the port.
 */
function inboundLimits(model: MeshModel, p: Workload['ports'][number]): { port?: RateLimitPolicy; routes: MeshRoute[] } | undefined {
  const s = model.services.find((x) => serviceKey(x) === p.service);
  if (!s || p.servicePort === undefined) return undefined;
  const port = backendPolicy(s, p.servicePort)?.rateLimit;
  const routes = model.routes
    .filter((r) => r.parent === p.service && !r.consumer && (r.port === undefined || r.port === p.servicePort) && r.rules.some((rule) => rule.rateLimit))
    .sort(routeOrder);
  return port || routes.length ? { ...(port ? { port } : {}), routes } : undefined;
}

function transportsFor(mode: MtlsMode): string[] {
  return mode === 'STRICT' ? ['tls'] : mode === 'PERMISSIVE' ? ['tls', 'raw_buffer'] : ['raw_buffer'];
}

function staticCluster(name: string, port: number): Msg {
  return {
    name,
    type: 'STATIC',
    connect_timeout: duration(1_000),
    load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } }] }] },
  };
}

/**
 * Resources for an Envoy sidecar: the outbound capture listener (0.0.0.0:15001, original
 * destination, a filter chain per reachable service port: HTTP through RDS, others through
 * tcp_proxy, anything else passed through), the inbound listener (0.0.0.0:15006, mTLS per the
 * workload's mode, RBAC from AuthorizationPolicy), a Prometheus listener on 15090, and clusters
 * and endpoints. Pure.
 */
export function sidecarResources(model: MeshModel, proxy: ProxyInfo): Resources {
  const res = emptyResources();
  const services = reachableServices(model, proxy.namespace);
  addOutbound(model, services, res, true);
  const telemetry = proxyTelemetry(model, { namespace: proxy.namespace, pod: proxy.pod });
  const tcpLog = telemetry.tcp;
  Object.assign(res[TYPE.cluster], telemetry.clusters);
  res[TYPE.cluster].PassthroughCluster = { name: 'PassthroughCluster', type: 'ORIGINAL_DST', lb_policy: 'CLUSTER_PROVIDED', connect_timeout: duration(10_000) };
  res[TYPE.cluster].BlackHoleCluster = { name: 'BlackHoleCluster', type: 'STATIC', connect_timeout: duration(10_000) };
  res[TYPE.cluster].prometheus_stats = staticCluster('prometheus_stats', SIDECAR.adminPort);

  const outChains: Msg[] = [];
  for (const s of services) {
    if (!s.clusterIP) continue;
    for (const sp of s.ports) {
      const match = { prefix_ranges: [{ address_prefix: s.clusterIP, prefix_len: { value: s.clusterIP.includes(':') ? 128 : 32 } }], destination_port: { value: sp.port } };
      const name = apiListenerName(s, sp.port);
      let filter: Msg;
      if (isHttp(sp.protocol)) {
        res[TYPE.route][name] = routeConfigFor(model, s, sp.port, 'sidecar', proxy.namespace);
        filter = { name: 'envoy.filters.network.http_connection_manager', typed_config: hcm(`outbound_${name}`, { rds: name }, httpFilters(model), telemetry.hcm) };
      } else {
        filter = { name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': T.tcpProxy, stat_prefix: `outbound_${name}`, cluster: clusterName(s, sp.port), ...tcpLog } };
      }
      outChains.push({ name, filter_chain_match: match, filters: [filter] });
    }
  }
  // Egress (docs/egress.md): ExternalService hosts and, under registry-only, a default chain that refuses.
  const egress = egressResources(model, telemetry);
  for (const c of egress.clusters) res[TYPE.cluster][String(c.name)] = c;
  res[TYPE.listener].outbound = {
    name: 'outbound',
    address: { socket_address: { address: '0.0.0.0', port_value: SIDECAR.outboundPort } },
    use_original_dst: { value: true },
    listener_filters: [
      { name: 'envoy.filters.listener.original_dst', typed_config: { '@type': T.originalDst } },
      ...(egress.tlsInspector ? [{ name: 'envoy.filters.listener.tls_inspector', typed_config: { '@type': T.tlsInspector } }] : []),
    ],
    filter_chains: [...outChains, ...egress.chains],
    default_filter_chain: egress.defaultChain,
    traffic_direction: 'OUTBOUND',
  };

  const w = proxy.pod ? model.workloads.find((x) => x.name === proxy.pod && x.namespace === proxy.namespace) : undefined;
  res[TYPE.cluster].InboundPassthroughCluster = { name: 'InboundPassthroughCluster', type: 'ORIGINAL_DST', lb_policy: 'CLUSTER_PROVIDED', connect_timeout: duration(10_000) };
  res[TYPE.listener].inbound = {
    name: 'inbound',
    address: { socket_address: { address: '0.0.0.0', port_value: SIDECAR.inboundPort } },
    use_original_dst: { value: true },
    listener_filters: [
      { name: 'envoy.filters.listener.original_dst', typed_config: { '@type': T.originalDst } },
      { name: 'envoy.filters.listener.tls_inspector', typed_config: { '@type': T.tlsInspector } },
    ],
    filter_chains: w ? inboundChains(model, w, res, telemetry) : [],
    // Ports no Service exposes stay reachable only where mTLS is not STRICT, and only as far as the
    // workload's authorization allows an opaque connection (so default-deny covers them too).
    default_filter_chain: {
      name: 'inbound-passthrough',
      filters: [
        ...(w ? rbacFilters(inboundPortAuthz(model, w, undefined), false, 'inbound_passthrough_rbac') : []),
        { name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': T.tcpProxy, stat_prefix: 'InboundPassthrough', cluster: w?.mtls === 'STRICT' ? 'BlackHoleCluster' : 'InboundPassthroughCluster', ...tcpLog } },
      ],
    },
    traffic_direction: 'INBOUND',
  };

  res[TYPE.listener].prometheus = {
    name: 'prometheus',
    address: { socket_address: { address: '0.0.0.0', port_value: SIDECAR.prometheusPort } },
    filter_chains: [{
      filters: [{
        name: 'envoy.filters.network.http_connection_manager',
        typed_config: hcm('prometheus', { inline: { name: 'prometheus', virtual_hosts: [{ name: 'prometheus', domains: ['*'], routes: [{ match: { prefix: '/stats/prometheus' }, route: { cluster: 'prometheus_stats' } }] }] } }, [ROUTER], false),
      }],
    }],
  };
  return res;
}

/**
 * Services by key, per services list: the models of the incremental endpoint path share their
 * list, so an endpoint change looks its services up instead of keying all of them (2,000 keys
 * built per change in the scale bench).
 */
const servicesByKey = new WeakMap<readonly MeshService[], Map<string, MeshService>>();

/**
 * What an endpoint-only change (`next` = `prev` with new endpoints for `services`, the keys
 * `updateEndpoints` reported) does to every proxy's resources: the new ClusterLoadAssignments by
 * EDS name, shared by every proxy that has that name. Undefined when the change reaches beyond
 * EDS, i.e. a cluster that depends on endpoints comes out different (proxyless mTLS clusters
 * match the endpoints' identities): the caller must then rebuild everything. Pure.
 */
export function endpointChange(prev: MeshModel, next: MeshModel, services: readonly string[]): Map<string, Msg> | undefined {
  const out = new Map<string, Msg>();
  let byKey = servicesByKey.get(next.services);
  if (!byKey) servicesByKey.set(next.services, (byKey = new Map(next.services.map((s) => [serviceKey(s), s]))));
  for (const key of services) {
    const s = byKey.get(key);
    if (!s) continue;
    for (const sp of s.ports) {
      for (const sidecar of [false, true]) {
        if (JSON.stringify(cluster(prev, s, sp, sidecar)) !== JSON.stringify(cluster(next, s, sp, sidecar))) return undefined;
      }
      const name = clusterName(s, sp.port);
      out.set(name, memoized(next, `e|${name}`, () => loadAssignment(next, s, sp)));
    }
  }
  return out;
}

/** The resources a proxy gets, by its kind. */
export function resourcesFor(model: MeshModel, proxy: ProxyInfo): Resources {
  if (proxy.kind === 'gateway') return gatewayResources(model, proxy);
  return proxy.kind === 'sidecar' ? sidecarResources(model, proxy) : proxylessResources(model, proxy);
}
