// A test-side answer to "what would Envoy do with this request under this config?", in the spirit
// of Istio's pilot/pkg/simulation: no Envoy binary runs here, so tests assert behaviour through
// this evaluator, written from Envoy's documented semantics (config.route.v3: VirtualHost domain
// selection, RouteMatch path specifiers / headers / query_parameters, RouteAction rewrites and
// weighted clusters, RedirectAction, DirectResponseAction, header mutation; listener filter chain
// match on destination address and port; the HTTP local rate limit filter's token buckets). It
// reads the plain JSON-shaped resources mesh emits.
import type { Msg, Resources } from '../../src/xds/translate.ts';
import { TYPE } from '../../src/xds/protos.ts';

/** A request as a client sends it. `path` may carry a query string. */
export interface SimRequest {
  /** :authority / Host, e.g. `echo` or `echo.ns.svc.cluster.local:80`. */
  host: string;
  path: string;
  method?: string;
  /** Request headers; names are case-insensitive. */
  headers?: Record<string, string>;
  scheme?: 'http' | 'https';
  /** TLS server name of the connection: set, the connection is TLS (`transport_protocol: tls`) and opaque to routes. */
  sni?: string;
}

/** One upstream a routed request may go to, with the request as the upstream sees it. */
export interface SimUpstream {
  cluster: string;
  weight: number;
  /** Status Envoy answers instead when the cluster does not exist (cluster_not_found_response_code). */
  missingStatus?: number;
  /** Request headers this upstream receives: the route's and this ClusterWeight's mutations, in Envoy's order. */
  headers: Record<string, string[]>;
  /** Response header mutations when this upstream answered (route and ClusterWeight levels, in Envoy's order). */
  responseHeaders: HeaderOps;
}

/** What Envoy does with the request. */
export type SimResult =
  | { kind: 'route'; route: string; upstreams: SimUpstream[]; path: string; host: string; headers: Record<string, string[]>; responseHeaders: HeaderOps; timeoutMs?: number; mirrors: string[] }
  | { kind: 'redirect'; route: string; status: number; location: string }
  | { kind: 'direct'; route: string; status: number }
  | { kind: 'abort'; route: string; httpStatus?: number; grpcStatus?: number }
  | { kind: 'not-found'; status: 404; why: 'no virtual host' | 'no route' };

/** Header mutations that apply to the response. */
export interface HeaderOps {
  add: { name: string; value: string; append: boolean }[];
  remove: string[];
}

const isMsg = (v: unknown): v is Msg => typeof v === 'object' && v !== null && !Array.isArray(v);
const msgs = (v: unknown): Msg[] => (Array.isArray(v) ? v.filter(isMsg) : []);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : isMsg(v) && typeof v.value === 'number' ? v.value : undefined);

function ms(d: unknown): number | undefined {
  if (!isMsg(d)) return undefined;
  return (Number(d.seconds ?? 0) * 1000) + Number(d.nanos ?? 0) / 1e6;
}

/** RE2 full match, as Envoy's safe_regex matchers do (JS syntax is close enough for the patterns tests use). */
function fullMatch(regex: string, value: string): boolean {
  return new RegExp(`^(?:${regex.replace(/\(\?P</g, '(?<')})$`).test(value);
}

/** Envoy StringMatcher (type.matcher.v3): exact, prefix, suffix, contains or a full-match safe_regex; ignore_case. */
export function stringMatches(m: Msg, value: string): boolean {
  const ci = m.ignore_case === true;
  const v = ci ? value.toLowerCase() : value;
  const s = (x: unknown): string => (ci ? String(x).toLowerCase() : String(x));
  if (m.exact !== undefined) return v === s(m.exact);
  if (m.prefix !== undefined) return v.startsWith(s(m.prefix));
  if (m.suffix !== undefined) return v.endsWith(s(m.suffix));
  if (m.contains !== undefined) return v.includes(s(m.contains));
  if (isMsg(m.safe_regex)) return fullMatch(String(m.safe_regex.regex), value);
  throw new Error(`envoy-sim: unsupported StringMatcher ${JSON.stringify(m)}`);
}

function splitPath(path: string): { path: string; query: string } {
  const i = path.indexOf('?');
  return i < 0 ? { path, query: '' } : { path: path.slice(0, i), query: path.slice(i + 1) };
}

/** Envoy's query parameter lookup: the first value of a key, undecoded. */
function queryParam(query: string, name: string): string | undefined {
  for (const part of query.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const k = eq < 0 ? part : part.slice(0, eq);
    if (k === name) return eq < 0 ? '' : part.slice(eq + 1);
  }
  return undefined;
}

function headerValue(req: SimRequest, name: string): string | undefined {
  if (name === ':method') return req.method ?? 'GET';
  if (name === ':authority') return req.host;
  if (name === ':path') return req.path;
  for (const [k, v] of Object.entries(req.headers ?? {})) if (k.toLowerCase() === name) return v;
  return undefined;
}

/** RouteMatch semantics: the path specifier, every header matcher and every query parameter matcher must hold. */
export function routeMatches(match: Msg, req: SimRequest): boolean {
  const { path, query } = splitPath(req.path);
  const cs = match.case_sensitive === undefined || num(match.case_sensitive) !== 0 && (match.case_sensitive as Msg).value !== false;
  const fold = (s: string): string => (cs ? s : s.toLowerCase());
  let ok: boolean;
  // `prefix` is compared with the whole :path (query included); `path`, `safe_regex` and
  // `path_separated_prefix` with the path once the query string is removed.
  if (typeof match.prefix === 'string') ok = fold(req.path).startsWith(fold(match.prefix));
  else if (typeof match.path === 'string') ok = fold(path) === fold(match.path);
  else if (isMsg(match.safe_regex)) ok = fullMatch(String(match.safe_regex.regex), path);
  else if (typeof match.path_separated_prefix === 'string') {
    const p = fold(match.path_separated_prefix);
    const have = fold(path);
    ok = have === p || have.startsWith(`${p}/`);
  } else throw new Error(`envoy-sim: no path specifier in ${JSON.stringify(match)}`);
  if (!ok) return false;
  for (const h of msgs(match.headers)) {
    const value = headerValue(req, String(h.name).toLowerCase());
    let hit: boolean;
    if (h.present_match !== undefined) hit = (value !== undefined) === (h.present_match === true);
    else if (value === undefined) hit = false;
    else if (isMsg(h.string_match)) hit = stringMatches(h.string_match, value);
    else if (h.exact_match !== undefined) hit = value === h.exact_match;
    else throw new Error(`envoy-sim: unsupported HeaderMatcher ${JSON.stringify(h)}`);
    if (h.invert_match === true) hit = !hit;
    if (!hit) return false;
  }
  for (const q of msgs(match.query_parameters)) {
    const value = queryParam(query, String(q.name));
    if (value === undefined) return false;
    if (isMsg(q.string_match) && !stringMatches(q.string_match, value)) return false;
  }
  return true;
}

/** VirtualHost selection: exact domain, then the longest `*.suffix`, then the longest `prefix.*`, then `*`. */
export function selectVirtualHost(rc: Msg, host: string): Msg | undefined {
  const h = host.toLowerCase();
  const vhosts = msgs(rc.virtual_hosts);
  const domains = (v: Msg): string[] => (Array.isArray(v.domains) ? v.domains.map((d) => String(d).toLowerCase()) : []);
  const exact = vhosts.find((v) => domains(v).includes(h));
  if (exact) return exact;
  let best: { v: Msg; len: number } | undefined;
  for (const v of vhosts) {
    for (const d of domains(v)) {
      if (d.length > 1 && d.startsWith('*') && h.endsWith(d.slice(1)) && h.length > d.length - 1 && (!best || d.length > best.len)) best = { v, len: d.length };
    }
  }
  if (best) return best.v;
  for (const v of vhosts) {
    for (const d of domains(v)) {
      if (d.length > 1 && d.endsWith('*') && h.startsWith(d.slice(0, -1)) && (!best || d.length > best.len)) best = { v, len: d.length };
    }
  }
  if (best) return best.v;
  return vhosts.find((v) => domains(v).includes('*'));
}

/** Envoy's regex_rewrite: every match of the pattern in the path (not the query) is replaced; `\N` is a capture group. */
function regexRewrite(rw: Msg, path: string): string {
  const pattern = String((rw.pattern as Msg).regex);
  const sub = String(rw.substitution).replace(/\\(\d)/g, '$$$1');
  return path.replace(new RegExp(pattern.replace(/\(\?P</g, '(?<'), 'g'), sub);
}

/** The path after a prefix_rewrite / regex_rewrite / path_redirect of a route whose match is `match` (query kept). */
function rewritePath(action: Msg, match: Msg, fullPath: string, full?: string): string {
  const { path, query } = splitPath(fullPath);
  const q = query ? `?${query}` : '';
  if (full !== undefined) return full.includes('?') ? full : `${full}${q}`;
  if (typeof action.prefix_rewrite === 'string') {
    const matched = typeof match.prefix === 'string' ? match.prefix : typeof match.path_separated_prefix === 'string' ? match.path_separated_prefix : typeof match.path === 'string' ? match.path : undefined;
    if (matched === undefined) throw new Error('envoy-sim: prefix_rewrite needs a prefix or path match');
    return `${action.prefix_rewrite}${path.slice(matched.length)}${q}`;
  }
  if (isMsg(action.regex_rewrite)) return `${regexRewrite(action.regex_rewrite, path)}${q}`;
  return fullPath;
}

const REDIRECT_STATUS: Record<string, number> = { MOVED_PERMANENTLY: 301, FOUND: 302, SEE_OTHER: 303, TEMPORARY_REDIRECT: 307, PERMANENT_REDIRECT: 308 };

function redirect(rd: Msg, match: Msg, req: SimRequest, port: number): { status: number; location: string } {
  const scheme = typeof rd.scheme_redirect === 'string' ? rd.scheme_redirect : rd.https_redirect === true ? 'https' : (req.scheme ?? 'http');
  const [reqHost, reqPort] = req.host.includes(':') ? [req.host.slice(0, req.host.lastIndexOf(':')), Number(req.host.slice(req.host.lastIndexOf(':') + 1))] : [req.host, undefined];
  const host = typeof rd.host_redirect === 'string' ? rd.host_redirect : reqHost;
  const p = num(rd.port_redirect) ?? reqPort ?? port;
  // A scheme's default port is not written into the Location.
  const showPort = !((scheme === 'http' && p === 80) || (scheme === 'https' && p === 443));
  const path = rewritePath(rd, match, req.path, typeof rd.path_redirect === 'string' ? rd.path_redirect : undefined);
  const finalPath = rd.strip_query === true ? splitPath(path).path : path;
  return { status: REDIRECT_STATUS[String(rd.response_code ?? 'MOVED_PERMANENTLY')] ?? 301, location: `${scheme}://${host}${showPort ? `:${p}` : ''}${finalPath}` };
}

function applyHeaderOps(headers: Record<string, string[]>, add: Msg[], remove: unknown): void {
  for (const name of Array.isArray(remove) ? remove : []) delete headers[String(name).toLowerCase()];
  for (const a of add) {
    const h = a.header as Msg;
    const key = String(h.key).toLowerCase();
    const value = String(h.value);
    const mode = String(a.append_action ?? 'APPEND_IF_EXISTS_OR_ADD');
    if (mode === 'OVERWRITE_IF_EXISTS_OR_ADD') headers[key] = [value];
    else if (mode === 'ADD_IF_ABSENT') headers[key] ??= [value];
    else if (mode === 'OVERWRITE_IF_EXISTS') {
      if (headers[key]) headers[key] = [value];
    } else headers[key] = [...(headers[key] ?? []), value];
  }
}

/** What Envoy does with `req` under one RouteConfiguration; `clusters` are the names CDS holds (for cluster_not_found_response_code). */
export function evaluateRoute(rc: Msg, req: SimRequest, opts: { port: number; clusters?: ReadonlySet<string>; faultFilter?: boolean }): SimResult {
  const vh = selectVirtualHost(rc, req.host);
  if (!vh) return { kind: 'not-found', status: 404, why: 'no virtual host' };
  const route = msgs(vh.routes).find((r) => routeMatches(r.match as Msg, req));
  if (!route) return { kind: 'not-found', status: 404, why: 'no route' };
  const name = String(route.name ?? '');
  const match = route.match as Msg;
  const fault = isMsg(route.typed_per_filter_config) ? (route.typed_per_filter_config['envoy.filters.http.fault'] as Msg | undefined) : undefined;
  if (fault && opts.faultFilter !== false && isMsg(fault.abort)) {
    const pct = fault.abort.percentage as Msg | undefined;
    const denominator = { HUNDRED: 100, TEN_THOUSAND: 10_000, MILLION: 1_000_000 }[String(pct?.denominator ?? 'HUNDRED')] ?? 100;
    if (pct && Number(pct.numerator ?? 0) >= denominator) {
      return fault.abort.grpc_status !== undefined ? { kind: 'abort', route: name, grpcStatus: Number(fault.abort.grpc_status) } : { kind: 'abort', route: name, httpStatus: Number(fault.abort.http_status) };
    }
  }
  if (isMsg(route.direct_response)) return { kind: 'direct', route: name, status: Number(route.direct_response.status) };
  if (isMsg(route.redirect)) return { kind: 'redirect', route: name, ...redirect(route.redirect, match, req, opts.port) };
  const action = route.route as Msg;
  if (!isMsg(action)) throw new Error(`envoy-sim: route ${name} has no action`);
  const notFound = action.cluster_not_found_response_code === 'INTERNAL_SERVER_ERROR' ? 500 : action.cluster_not_found_response_code === 'NOT_FOUND' ? 404 : 503;
  // Header mutation levels (RouteConfiguration.most_specific_header_mutations_wins): by default the
  // most specific level (the ClusterWeight) is applied first, so the Route's overrides it; with
  // the flag the order is reversed and the ClusterWeight's wins.
  const levels = (cw: Msg | undefined): Msg[] => (cw ? (rc.most_specific_header_mutations_wins === true ? [route, cw] : [cw, route]) : [route]);
  const requestHeaders = (cw: Msg | undefined): Record<string, string[]> => {
    const h: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(req.headers ?? {})) h[k.toLowerCase()] = [v];
    for (const level of levels(cw)) applyHeaderOps(h, msgs(level.request_headers_to_add), level.request_headers_to_remove);
    return h;
  };
  const responseOps = (cw: Msg | undefined): HeaderOps => {
    const ops: HeaderOps = { add: [], remove: [] };
    for (const level of levels(cw)) {
      ops.remove.push(...(Array.isArray(level.response_headers_to_remove) ? level.response_headers_to_remove.map((x) => String(x).toLowerCase()) : []));
      ops.add.push(...msgs(level.response_headers_to_add).map((a) => ({ name: String((a.header as Msg).key).toLowerCase(), value: String((a.header as Msg).value), append: a.append_action !== 'OVERWRITE_IF_EXISTS_OR_ADD' })));
    }
    return ops;
  };
  const up = (cluster: string, weight: number, cw?: Msg): SimUpstream => {
    const u: SimUpstream = { cluster, weight, headers: requestHeaders(cw), responseHeaders: responseOps(cw) };
    if (opts.clusters && !opts.clusters.has(cluster)) u.missingStatus = notFound;
    return u;
  };
  const upstreams = typeof action.cluster === 'string' ? [up(action.cluster, 1)] : msgs((action.weighted_clusters as Msg | undefined)?.clusters).map((c) => up(String(c.name), num(c.weight) ?? 0, c));
  const headers = requestHeaders(undefined);
  const responseHeaders = responseOps(undefined);
  const out: SimResult = {
    kind: 'route',
    route: name,
    upstreams,
    path: rewritePath(action, match, req.path),
    host: typeof action.host_rewrite_literal === 'string' ? action.host_rewrite_literal : req.host,
    headers,
    responseHeaders,
    mirrors: msgs(action.request_mirror_policies).map((m) => String(m.cluster)),
  };
  const t = ms(action.timeout);
  if (t !== undefined) out.timeoutMs = t;
  return out;
}

function cidrContains(range: Msg, ip: string): boolean {
  const prefix = String(range.address_prefix);
  const len = num(range.prefix_len) ?? 32;
  if (ip.includes(':') || prefix.includes(':')) return ip === prefix;
  const toInt = (a: string): number => a.split('.').reduce((n, o) => (n << 8) + Number(o), 0) >>> 0;
  const mask = len === 0 ? 0 : (~0 << (32 - len)) >>> 0;
  return ((toInt(ip) & mask) >>> 0) === ((toInt(prefix) & mask) >>> 0);
}

/**
 * A sidecar's outbound handling of a connection to `dst` (the original destination, as iptables
 * redirects it) carrying `req`: the filter chain whose match holds (most specific destination
 * port and prefix, as Envoy's filter chain matching orders them), then its HTTP route or TCP proxy.
 */
export function outbound(res: Resources, dst: { ip: string; port: number }, req: SimRequest): SimResult | { kind: 'tcp'; cluster: string; chain: string } {
  const listener = res[TYPE.listener].outbound;
  if (!listener) throw new Error('envoy-sim: no outbound listener');
  const inspects = msgs(listener.listener_filters).some((f) => f.name === 'envoy.filters.listener.tls_inspector');
  // Without the TLS inspector Envoy knows neither the SNI nor the transport: chains that need them never match.
  const transport = inspects ? (req.sni !== undefined ? 'tls' : 'raw_buffer') : undefined;
  const chains = msgs(listener.filter_chains).filter((c) => {
    const m = (c.filter_chain_match ?? {}) as Msg;
    const port = num(m.destination_port);
    if (port !== undefined && port !== dst.port) return false;
    const ranges = msgs(m.prefix_ranges);
    if (ranges.length && !ranges.some((r) => cidrContains(r, dst.ip))) return false;
    const names = Array.isArray(m.server_names) ? m.server_names.map(String) : [];
    if (names.length && (transport === undefined || req.sni === undefined || !names.includes(req.sni))) return false;
    return m.transport_protocol === undefined || m.transport_protocol === transport;
  });
  // Envoy's order: destination port, then the longest prefix, then server name, then transport protocol.
  const key = (c: Msg): number[] => {
    const m = (c.filter_chain_match ?? {}) as Msg;
    return [num(m.destination_port) !== undefined ? 1 : 0, Math.max(-1, ...msgs(m.prefix_ranges).map((r) => num(r.prefix_len) ?? 0)), Array.isArray(m.server_names) && m.server_names.length ? 1 : 0, m.transport_protocol !== undefined ? 1 : 0];
  };
  const cmp = (a: number[], b: number[]): number => a.reduce((d, x, i) => d || x - b[i]!, 0);
  const chain = chains.sort((a, b) => cmp(key(b), key(a)))[0] ?? (listener.default_filter_chain as Msg);
  const filter = msgs(chain.filters)[0]!;
  const cfg = filter.typed_config as Msg;
  if (String(filter.name) === 'envoy.filters.network.tcp_proxy') return { kind: 'tcp', cluster: String(cfg.cluster), chain: String(chain.name) };
  const faultFilter = msgs(cfg.http_filters).some((f) => f.name === 'envoy.filters.http.fault');
  const clusters = new Set(Object.keys(res[TYPE.cluster]));
  if (isMsg(cfg.route_config)) return evaluateRoute(cfg.route_config, req, { port: dst.port, clusters, faultFilter });
  const rds = String((cfg.rds as Msg).route_config_name);
  const rc = res[TYPE.route][rds];
  if (!rc) throw new Error(`envoy-sim: RDS ${rds} is not in the snapshot`);
  return evaluateRoute(rc, req, { port: dst.port, clusters, faultFilter });
}

/** A request arriving at a sidecar's inbound port at a time (ms since the config was loaded). */
export interface TimedRequest {
  atMs: number;
  req: SimRequest;
}

/** The local rate limit's verdict on one request: 429 when its bucket had no token, with the x-ratelimit-* headers (DRAFT_VERSION_03). */
export interface RateLimitVerdict {
  status: 200 | 429;
  /** Name of the inbound route the request matched. */
  route: string;
  /** Response headers the filter adds; empty when the request was not rate limited by any bucket. */
  headers: Record<string, string>;
}

/**
 * Envoy's HTTP local rate limit (extensions.filters.http.local_ratelimit.v3) on a sidecar's
 * inbound port, for requests in time order. From the documented semantics: a bucket starts with
 * max_tokens; at the end of every fill_interval tokens_per_fill are added, never above
 * max_tokens; a request takes one token or, with none left, gets 429. The filter-level bucket
 * applies to requests whose route has no typed_per_filter_config of the filter; a route with one
 * has its own bucket. A config applies only where filter_enabled and filter_enforced are 100 %
 * (mesh sets both or neither). DRAFT_VERSION_03 headers: x-ratelimit-limit (max_tokens),
 * x-ratelimit-remaining (tokens left after the request), x-ratelimit-reset (seconds until the
 * next fill, rounded up).
 */
export function inboundRateLimit(res: Resources, port: number, requests: readonly TimedRequest[]): RateLimitVerdict[] {
  const listener = res[TYPE.listener].inbound;
  if (!listener) throw new Error('envoy-sim: no inbound listener');
  const chain = msgs(listener.filter_chains).find((c) => num((c.filter_chain_match as Msg | undefined)?.destination_port) === port);
  if (!chain) throw new Error(`envoy-sim: no inbound filter chain for port ${port}`);
  const hcm = msgs(chain.filters)[0]!.typed_config as Msg;
  const filterName = 'envoy.filters.http.local_ratelimit';
  const filter = msgs(hcm.http_filters).find((f) => f.name === filterName);
  const routes = msgs(selectVirtualHost(hcm.route_config as Msg, '*')?.routes);
  const buckets = new Map<string, { cfg: Msg; tokens: number; fills: number }>();
  const active = (cfg: Msg | undefined): cfg is Msg => {
    const full = (f: unknown): boolean => isMsg(f) && isMsg(f.default_value) && f.default_value.numerator === 100 && f.default_value.denominator === 'HUNDRED';
    return cfg !== undefined && isMsg(cfg.token_bucket) && full(cfg.filter_enabled) && full(cfg.filter_enforced);
  };
  let last = -Infinity;
  return requests.map(({ atMs, req }) => {
    if (atMs < last) throw new Error('envoy-sim: requests must come in time order');
    last = atMs;
    const route = routes.find((r) => routeMatches(r.match as Msg, req));
    if (!route) throw new Error(`envoy-sim: no inbound route for ${req.path}`);
    const perRoute = isMsg(route.typed_per_filter_config) ? (route.typed_per_filter_config[filterName] as Msg | undefined) : undefined;
    const key = perRoute ? `route:${String(route.name)}` : 'filter';
    const cfg = filter ? (perRoute ?? (filter.typed_config as Msg)) : undefined;
    if (!active(cfg)) return { status: 200, route: String(route.name), headers: {} };
    const tb = cfg.token_bucket as Msg;
    const max = Number(tb.max_tokens);
    const perFill = num(tb.tokens_per_fill) ?? 1;
    const interval = ms(tb.fill_interval)!;
    let b = buckets.get(key);
    if (!b) buckets.set(key, (b = { cfg, tokens: max, fills: 0 }));
    const fills = Math.floor(atMs / interval);
    if (fills > b.fills) {
      b.tokens = Math.min(max, b.tokens + (fills - b.fills) * perFill);
      b.fills = fills;
    }
    const allowed = b.tokens > 0;
    if (allowed) b.tokens--;
    const headers: Record<string, string> = {};
    if (cfg.enable_x_ratelimit_headers === 'DRAFT_VERSION_03') {
      headers['x-ratelimit-limit'] = String(max);
      headers['x-ratelimit-remaining'] = String(b.tokens);
      headers['x-ratelimit-reset'] = String(Math.ceil(((fills + 1) * interval - atMs) / 1000));
    }
    return { status: allowed ? 200 : 429, route: String(route.name), headers };
  });
}

/** A connection to a gateway listener: the port Envoy binds, and the SNI of a TLS client (undefined: plaintext). */
export interface SimConnection {
  port: number;
  sni?: string;
}

/** What Envoy does with a connection no filter chain takes: it closes it. */
export type SimRefused = { kind: 'refused'; why: string };

/**
 * Envoy's filter chain selection by server name (FilterChainMatch.server_names): the exact name,
 * then wildcards from the longest suffix (`a.b.example.com` tries `*.b.example.com`, then
 * `*.example.com`, then `*.com`), then a chain with no server_names.
 */
export function selectServerNameChain(chains: Msg[], sni: string | undefined): Msg | undefined {
  const names = (c: Msg): string[] => (Array.isArray((c.filter_chain_match as Msg | undefined)?.server_names) ? ((c.filter_chain_match as Msg).server_names as unknown[]).map((n) => String(n).toLowerCase()) : []);
  if (sni !== undefined) {
    const host = sni.toLowerCase();
    const exact = chains.find((c) => names(c).includes(host));
    if (exact) return exact;
    const labels = host.split('.');
    for (let i = 1; i < labels.length; i++) {
      const wildcard = `*.${labels.slice(i).join('.')}`;
      const hit = chains.find((c) => names(c).includes(wildcard));
      if (hit) return hit;
    }
  }
  return chains.find((c) => names(c).length === 0);
}

/**
 * A gateway's handling of `req` on a connection to `conn.port`: the listener bound there, the
 * filter chain (by SNI when the chains terminate TLS; a plaintext connection to a TLS-only
 * listener is refused), the HCM's route configuration (Host port stripped when the HCM says so),
 * then the route as {@link evaluateRoute} answers it.
 */
export function gatewayRequest(res: Resources, conn: SimConnection, req: SimRequest): SimResult | SimRefused {
  const listener = Object.values(res[TYPE.listener]).find((l) => num(((l.address as Msg).socket_address as Msg).port_value) === conn.port);
  if (!listener) return { kind: 'refused', why: `no listener on port ${conn.port}` };
  const chains = msgs(listener.filter_chains);
  const tlsChains = chains.filter((c) => isMsg(c.transport_socket));
  let chain: Msg | undefined;
  if (conn.sni !== undefined || tlsChains.length) {
    if (!tlsChains.length) return { kind: 'refused', why: 'a TLS connection to a plaintext listener' };
    if (conn.sni === undefined && tlsChains.length === chains.length) return { kind: 'refused', why: 'a plaintext connection to a TLS listener' };
    chain = selectServerNameChain(tlsChains, conn.sni);
  } else chain = chains[0];
  if (!chain) return { kind: 'refused', why: `no filter chain for server name ${conn.sni ?? '(none)'}` };
  const cfg = msgs(chain.filters)[0]!.typed_config as Msg;
  const rds = String((cfg.rds as Msg).route_config_name);
  const rc = res[TYPE.route][rds];
  if (!rc) throw new Error(`envoy-sim: RDS ${rds} is not in the snapshot`);
  const host = cfg.strip_any_host_port === true ? req.host.replace(/:\d+$/, '') : req.host;
  const faultFilter = msgs(cfg.http_filters).some((f) => f.name === 'envoy.filters.http.fault');
  return evaluateRoute(rc, { ...req, host, scheme: conn.sni !== undefined ? 'https' : (req.scheme ?? 'http') }, { port: conn.port, clusters: new Set(Object.keys(res[TYPE.cluster])), faultFilter });
}

/** The certificates (SDS names) a TLS filter chain presents. */
export function chainCertificates(chain: Msg): string[] {
  const ts = chain.transport_socket as Msg | undefined;
  const ctx = ((ts?.typed_config as Msg | undefined)?.common_tls_context ?? {}) as Msg;
  return msgs(ctx.tls_certificate_sds_secret_configs).map((s) => String(s.name));
}
