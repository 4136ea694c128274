import type { KubeObject } from '../cluster/types.js';
import { ANNOTATION_FAULT, ANNOTATION_RETRY } from '../constants.js';
import { isObject } from '../util/object.js';
import { GRPC_FILTERS, grpcMethodMatch } from './grpc-routes.js';
import { arr, byNsName, cmp, describe, durationField, jsonAnnotation, keyOf, num, str, type Obj, type Warn } from './objects.js';
import type {
  FaultPolicy,
  HeaderEdits,
  MeshRoute,
  MeshService,
  ModelWarning,
  PathModifier,
  RetryPolicy,
  RouteBackend,
  RouteCondition,
  RouteMatch,
  RouteMirror,
  RouteRedirect,
  RouteRewrite,
  RouteRule,
  RouteKind,
  ValueMatch,
} from './types.js';

const GATEWAY_GROUP = 'gateway.networking.k8s.io';

/** HTTP methods a Gateway API match may name (HTTPMethod enum). */
export const HTTP_METHODS: readonly string[] = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'];

/** Redirect status codes mesh programs (core 301/302, extended 303/307/308). */
export const REDIRECT_CODES: readonly number[] = [301, 302, 303, 307, 308];

// The official CRD's patterns and CEL rules (HTTPPathMatch, HTTPHeaderName, HTTPHeaderMatch):
// anything the API server would reject is refused here too, so files and cluster agree.
const PATH_CHARS = /^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|%[0-9a-fA-F]{2})+$/;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/;

/** Why a path match or path modifier value would be rejected by the HTTPRoute CRD, or undefined when it is valid. */
export function pathProblem(value: string): string | undefined {
  if (!value.startsWith('/')) return 'must start with "/"';
  if (value.length > 1024) return 'is longer than 1024 characters';
  if (!PATH_CHARS.test(value)) return 'may only contain URL path characters (no space, "?" or "#")';
  if (value.includes('//')) return 'must not contain "//"';
  if (value.includes('/./') || value.includes('/../')) return 'must not contain "/./" or "/../"';
  if (/%2f/i.test(value)) return 'must not contain "%2f" or "%2F"';
  if (value.endsWith('/..') || value.endsWith('/.')) return 'must not end with "/." or "/.."';
  return undefined;
}

/** Why an HTTP header or query parameter name would be rejected by the CRD, or undefined. */
export function headerNameProblem(name: string): string | undefined {
  if (name.length > 256) return 'is longer than 256 characters';
  return HEADER_NAME.test(name) ? undefined : 'may only contain HTTP token characters (letters, digits and !#$%&\'*+-.^_`|~)';
}

/** Why a header value (match or modifier) is unusable, or undefined: the CRD wants 1-4096 characters, and CR, LF or NUL would split the request. */
export function headerValueProblem(value: string): string | undefined {
  if (value.length === 0) return 'must not be empty';
  if (value.length > 4096) return 'is longer than 4096 characters';
  if (/[\r\n\0]/.test(value)) return 'must not contain CR, LF or NUL';
  return undefined;
}

/**
 * Why a RegularExpression cannot be programmed, or undefined. Envoy and gRPC use RE2, which has
 * no lookaround and no backreferences; a pattern Envoy rejects would make it refuse the whole
 * route configuration, so such a match is refused here instead.
 */
export function regexProblem(pattern: string): string | undefined {
  if (/\(\?<?[=!]/.test(pattern)) return 'uses lookaround, which RE2 (Envoy, gRPC) does not support';
  if (/\\[1-9]/.test(pattern)) return 'uses a backreference, which RE2 (Envoy, gRPC) does not support';
  try {
    new RegExp(pattern.replace(/\(\?P</g, '(?<'));
  } catch (e) {
    return `does not compile (${(e as Error).message.replace(/^Invalid regular expression: /, '')})`;
  }
  return undefined;
}

/**
 * The Gateway API's tie-break between routes: the older (creationTimestamp) first, then
 * alphabetically by "{namespace}/{name}" as one string; a route without a timestamp sorts after
 * those with one.
 */
export function routeOrder(a: { createdAt?: string; namespace: string; name: string }, b: { createdAt?: string; namespace: string; name: string }): number {
  const ta = a.createdAt ?? '';
  const tb = b.createdAt ?? '';
  if (ta !== tb) return ta === '' ? 1 : tb === '' ? -1 : ta < tb ? -1 : 1;
  return cmp(`${a.namespace}/${a.name}`, `${b.namespace}/${b.name}`);
}

/** A problem that keeps a route off a parent (Accepted=False) rather than only off one rule. */
class Refused extends Error {}

function valueMatches(list: unknown, what: 'header' | 'query parameter', lower: boolean): ValueMatch[] {
  const out: ValueMatch[] = [];
  const seen = new Set<string>();
  for (const h of arr(list)) {
    const raw = str(h.name);
    if (!raw) throw new Refused(`a ${what} match has no name`);
    const nameProblem = headerNameProblem(raw);
    if (nameProblem) throw new Refused(`${what} name ${JSON.stringify(raw)} ${nameProblem}`);
    const type = h.type === undefined ? 'Exact' : h.type;
    if (type !== 'Exact' && type !== 'RegularExpression') throw new Refused(`${what} match type ${String(type)} is not supported (Exact, RegularExpression)`);
    const value = typeof h.value === 'string' ? h.value : '';
    const vp = type === 'Exact' ? headerValueProblem(value) : value === '' ? 'must not be empty' : regexProblem(value);
    if (vp) throw new Refused(`${what} ${raw} value ${JSON.stringify(value)} ${vp}`);
    const name = lower ? raw.toLowerCase() : raw;
    // The spec: entries after the first with an equivalent name are ignored.
    if (seen.has(name)) continue;
    seen.add(name);
    out.push({ name, type, value });
  }
  return out;
}

function matchOf(m: Obj): RouteMatch {
  const out: RouteMatch = { headers: valueMatches(m.headers, 'header', true), query: valueMatches(m.queryParams, 'query parameter', false) };
  if (m.path !== undefined) {
    if (!isObject(m.path)) throw new Refused('path match is not an object');
    const type = m.path.type === undefined ? 'PathPrefix' : m.path.type;
    const value = m.path.value === undefined ? '/' : m.path.value;
    if (typeof value !== 'string') throw new Refused('path match value is not a string');
    if (type === 'RegularExpression') {
      const p = regexProblem(value);
      if (p) throw new Refused(`path regular expression ${JSON.stringify(value)} ${p}`);
      out.path = { type, value };
    } else if (type === 'Exact' || type === 'PathPrefix') {
      const p = pathProblem(value);
      if (p) throw new Refused(`path ${JSON.stringify(value)} ${p}`);
      // A trailing slash is ignored for PathPrefix: `/v2/` and `/v2` both match `/v2` and `/v2/x`.
      out.path = { type, value: type === 'PathPrefix' && value.length > 1 ? value.replace(/\/+$/, '') || '/' : value };
    } else {
      throw new Refused(`path match type ${String(type)} is not supported (Exact, PathPrefix, RegularExpression)`);
    }
  }
  if (m.method !== undefined) {
    if (typeof m.method !== 'string' || !HTTP_METHODS.includes(m.method)) throw new Refused(`method ${String(m.method)} is not an HTTP method the Gateway API allows (${HTTP_METHODS.join(', ')})`);
    out.method = m.method;
  }
  return out;
}

function headerEdits(v: unknown, where: string): HeaderEdits {
  const f = isObject(v) ? v : {};
  const pairs = (list: unknown, verb: string): { name: string; value: string }[] =>
    arr(list).map((h) => {
      const name = str(h.name) ?? '';
      const np = headerNameProblem(name);
      if (np) throw new Error(`${where} ${verb} header name ${JSON.stringify(name)} ${np}`);
      const value = typeof h.value === 'string' ? h.value : '';
      if (/[\r\n\0]/.test(value)) throw new Error(`${where} ${verb} header ${name} value must not contain CR, LF or NUL`);
      return { name, value };
    });
  const remove = (Array.isArray(f.remove) ? f.remove : []).map((n) => {
    const name = typeof n === 'string' ? n : '';
    const np = headerNameProblem(name);
    if (np) throw new Error(`${where} remove header name ${JSON.stringify(name)} ${np}`);
    return name;
  });
  return { set: pairs(f.set, 'set'), add: pairs(f.add, 'add'), remove };
}

function pathModifier(v: unknown, where: string): PathModifier | undefined {
  if (!isObject(v)) return undefined;
  const type = v.type;
  const value = type === 'ReplaceFullPath' ? v.replaceFullPath : type === 'ReplacePrefixMatch' ? v.replacePrefixMatch : undefined;
  if (type !== 'ReplaceFullPath' && type !== 'ReplacePrefixMatch') throw new Error(`${where} path type ${String(type)} is not supported (ReplaceFullPath, ReplacePrefixMatch)`);
  if (typeof value !== 'string') throw new Error(`${where} path ${type} has no value`);
  const p = pathProblem(value);
  if (p) throw new Error(`${where} path ${JSON.stringify(value)} ${p}`);
  return { type, value };
}

function redirectOf(v: unknown): RouteRedirect {
  const f = isObject(v) ? v : {};
  const out: RouteRedirect = { statusCode: num(f.statusCode) ?? 302 };
  if (!REDIRECT_CODES.includes(out.statusCode)) throw new Error(`RequestRedirect statusCode ${out.statusCode} is not supported (${REDIRECT_CODES.join(', ')})`);
  if (f.scheme !== undefined) {
    if (f.scheme !== 'http' && f.scheme !== 'https') throw new Error(`RequestRedirect scheme ${String(f.scheme)} is not http or https`);
    out.scheme = f.scheme;
  }
  const host = str(f.hostname);
  if (host) out.hostname = host;
  const port = num(f.port);
  if (port !== undefined) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`RequestRedirect port ${port} is not 1-65535`);
    out.port = port;
  }
  const path = pathModifier(f.path, 'RequestRedirect');
  if (path) out.path = path;
  return out;
}

function rewriteOf(v: unknown): RouteRewrite {
  const f = isObject(v) ? v : {};
  const out: RouteRewrite = {};
  const host = str(f.hostname);
  if (host) out.hostname = host;
  const path = pathModifier(f.path, 'URLRewrite');
  if (path) out.path = path;
  return out;
}

function retryFrom(v: Obj, warn: Warn): RetryPolicy {
  const retryOn = Array.isArray(v.retryOn)
    ? v.retryOn.filter((x): x is string => typeof x === 'string')
    : typeof v.retryOn === 'string'
      ? v.retryOn.split(',').map((s) => s.trim()).filter(Boolean)
      : [];
  const codes = Array.isArray(v.codes) ? v.codes.filter((x): x is number => typeof x === 'number') : [];
  return {
    attempts: num(v.attempts) ?? 2,
    perTryTimeoutMs: durationField(v.perTryTimeout, 'retry perTryTimeout', warn),
    backoffMs: durationField(v.backoff, 'retry backoff', warn),
    retryOn: retryOn.length || codes.length ? retryOn : ['5xx', 'unavailable', 'reset', 'connect-failure'],
    codes,
  };
}

function faultFrom(v: Obj, warn: Warn): FaultPolicy {
  const out: FaultPolicy = {};
  if (isObject(v.abort)) {
    out.abort = { percent: num(v.abort.percent) ?? 100, httpStatus: num(v.abort.httpStatus), grpcStatus: num(v.abort.grpcStatus) };
    if (out.abort.httpStatus === undefined && out.abort.grpcStatus === undefined) out.abort.httpStatus = 503;
  }
  if (isObject(v.delay)) {
    out.delay = { percent: num(v.delay.percent) ?? 100, fixedDelayMs: durationField(v.delay.fixedDelay, `${ANNOTATION_FAULT} delay.fixedDelay`, warn) ?? 0 };
  }
  return out;
}

/** What the routes of a set of objects need to know about the rest of them. */
export interface RouteContext {
  services: ReadonlyMap<string, MeshService>;
  /** ReferenceGrants by namespace (the `to` side). */
  grants: ReadonlyMap<string, readonly KubeObject[]>;
}

/**
 * Whether a ReferenceGrant in `toNs` lets `fromKind` objects (Gateway API group) of `fromNs` refer
 * to the core-group `toKind` object `toName` (a Service for backendRefs, a Secret for a Gateway's
 * certificateRefs).
 */
export function referenceGranted(grants: RouteContext['grants'], fromKind: string, fromNs: string, toKind: string, toNs: string, toName: string): boolean {
  return (grants.get(toNs) ?? []).some((g) => {
    const spec = isObject(g.spec) ? g.spec : {};
    const from = arr(spec.from).some((f) => f.group === GATEWAY_GROUP && f.kind === fromKind && f.namespace === fromNs);
    const to = arr(spec.to).some((t) => (t.group ?? '') === '' && t.kind === toKind && (t.name === undefined || t.name === toName));
    return from && to;
  });
}

function granted(ctx: RouteContext, fromKind: string, fromNs: string, toNs: string, toName: string): boolean {
  return referenceGranted(ctx.grants, fromKind, fromNs, 'Service', toNs, toName);
}

/** A Service backendRef (or mirror backendRef) resolved against the model, with the spec's reason when it cannot be used. */
function resolveRef(b: Obj, route: KubeObject, ctx: RouteContext, parents: ReadonlySet<string>): RouteBackend {
  const ns = route.metadata.namespace ?? 'default';
  const kind = str(b.kind) ?? 'Service';
  const group = str(b.group) ?? '';
  const bns = str(b.namespace) ?? ns;
  const name = str(b.name) ?? '?';
  const out: RouteBackend = { service: keyOf(bns, name), port: num(b.port) ?? 0, weight: num(b.weight) ?? 1 };
  const notFound = (message: string): RouteBackend['unresolved'] => ({ reason: 'BackendNotFound', message });
  if (kind !== 'Service' || (group !== '' && group !== 'core')) {
    out.unresolved = { reason: 'InvalidKind', message: `backendRef ${group ? `${group}/` : ''}${kind} ${name} is not a Service` };
  } else if (bns !== ns && !parents.has(keyOf(bns, name)) && !granted(ctx, route.kind, ns, bns, name)) {
    // GAMMA: a consumer route may send to its own parent Service without a ReferenceGrant.
    out.unresolved = { reason: 'RefNotPermitted', message: `backendRef Service ${bns}/${name} is in another namespace and no ReferenceGrant there allows it` };
  } else {
    const svc = ctx.services.get(out.service);
    if (!svc) out.unresolved = notFound(`backendRef Service ${bns}/${name} does not exist`);
    else if (num(b.port) === undefined) out.unresolved = notFound(`backendRef Service ${bns}/${name} names no port (required for Service backends)`);
    else if (!svc.ports.some((p) => p.port === out.port)) out.unresolved = notFound(`backendRef Service ${bns}/${name} has no port ${out.port}`);
  }
  return out;
}

/** A RequestMirror; one whose backendRef does not resolve is dropped (the spec), its reason returned instead. */
function mirrorOf(f: Obj, route: KubeObject, ctx: RouteContext, parents: ReadonlySet<string>): RouteMirror | NonNullable<RouteBackend['unresolved']> {
  const m = isObject(f.requestMirror) ? f.requestMirror : {};
  const ref = resolveRef(isObject(m.backendRef) ? m.backendRef : {}, route, ctx, parents);
  if (ref.unresolved) return { reason: ref.unresolved.reason, message: `RequestMirror ${ref.unresolved.message}; the mirror is dropped` };
  let percent = 100;
  const pct = num(m.percent);
  if (pct !== undefined) percent = pct;
  else if (isObject(m.fraction)) {
    const n = num(m.fraction.numerator) ?? 0;
    const d = num(m.fraction.denominator) ?? 100;
    percent = d > 0 ? (n / d) * 100 : 0;
  }
  return { service: ref.service, port: ref.port, percent: Math.max(0, Math.min(100, percent)) };
}

/** The filters of a rule applied to `out`; a filter mesh cannot apply (or `kind` does not allow) throws, and the rule then fails its requests. */
function applyFilters(kind: RouteKind, filters: Obj[], out: RouteRule, route: KubeObject, ctx: RouteContext, parents: ReadonlySet<string>, dropped: NonNullable<RouteBackend['unresolved']>[]): void {
  const mirrors: RouteMirror[] = [];
  for (const f of filters) {
    if (kind === 'GRPCRoute' && !GRPC_FILTERS.includes(String(f.type))) throw new Error(`filter ${String(f.type)} is not supported by mesh on a GRPCRoute (${GRPC_FILTERS.join(', ')})`);
    switch (f.type) {
      case 'RequestHeaderModifier':
        out.requestHeaders = headerEdits(f.requestHeaderModifier, 'RequestHeaderModifier');
        break;
      case 'ResponseHeaderModifier':
        out.responseHeaders = headerEdits(f.responseHeaderModifier, 'ResponseHeaderModifier');
        break;
      case 'RequestRedirect':
        out.redirect = redirectOf(f.requestRedirect);
        break;
      case 'URLRewrite':
        out.rewrite = rewriteOf(f.urlRewrite);
        break;
      case 'RequestMirror':
        {
          const m = mirrorOf(f, route, ctx, parents);
          if ('reason' in m) dropped.push(m);
          else mirrors.push(m);
        }
        break;
      default:
        throw new Error(`filter ${String(f.type)} is not supported by mesh`);
    }
  }
  if (out.redirect && out.rewrite) throw new Error('RequestRedirect and URLRewrite cannot be used together');
  const prefixOnly = (m: PathModifier | undefined): boolean => m?.type === 'ReplacePrefixMatch';
  if ((prefixOnly(out.redirect?.path) || prefixOnly(out.rewrite?.path)) && !out.matches.every((m) => !m.path || m.path.type === 'PathPrefix')) {
    throw new Error('ReplacePrefixMatch needs every match of the rule to be a PathPrefix match');
  }
  if (mirrors.length) out.mirrors = mirrors;
}

/** Backend-level filters onto their backend: header modifiers only (Envoy applies them per weighted cluster); anything else throws. */
function backendFilters(refs: Obj[], backends: RouteBackend[]): void {
  refs.forEach((b, i) => {
    for (const f of arr(b.filters)) {
      const target = backends[i]!;
      if (f.type === 'RequestHeaderModifier') target.requestHeaders = headerEdits(f.requestHeaderModifier, `backendRef ${target.service} RequestHeaderModifier`);
      else if (f.type === 'ResponseHeaderModifier') target.responseHeaders = headerEdits(f.responseHeaderModifier, `backendRef ${target.service} ResponseHeaderModifier`);
      else throw new Error(`backendRef ${target.service} filter ${String(f.type)} is not supported by mesh (backendRef filters: RequestHeaderModifier, ResponseHeaderModifier)`);
    }
  });
}

/** The match of one HTTPRoute or GRPCRoute match entry. */
function anyMatchOf(kind: RouteKind, m: Obj): RouteMatch {
  if (kind === 'HTTPRoute') return matchOf(m);
  const headers = valueMatches(m.headers, 'header', true);
  try {
    return { ...grpcMethodMatch(m.method, regexProblem), headers, query: [] };
  } catch (e) {
    throw new Refused((e as Error).message);
  }
}

function ruleOf(
  kind: RouteKind,
  rule: Obj,
  index: number,
  route: KubeObject,
  ctx: RouteContext,
  parents: ReadonlySet<string>,
  ann: { retry?: Obj; fault?: Obj },
  dropped: NonNullable<RouteBackend['unresolved']>[],
  warn: Warn,
): RouteRule {
  const ms = arr(rule.matches);
  const matches: RouteMatch[] = ms.map((m, j) => {
    try {
      return anyMatchOf(kind, m);
    } catch (e) {
      throw new Refused(`rule ${index + 1} match ${j + 1}: ${(e as Error).message}`);
    }
  });
  const out: RouteRule = { matches, backends: arr(rule.backendRefs).map((b) => resolveRef(b, route, ctx, parents)) };
  const name = str(rule.name);
  if (name) out.name = name;
  // GRPCRoute rules have no timeouts or retry in the Gateway API: only the route-wide annotations apply.
  const timeouts = kind === 'HTTPRoute' && isObject(rule.timeouts) ? rule.timeouts : {};
  const t = durationField(timeouts.request, 'timeouts.request', warn, true);
  if (t !== undefined) out.timeoutMs = t;
  const bt = durationField(timeouts.backendRequest, 'timeouts.backendRequest', warn, true);
  if (bt !== undefined) out.backendTimeoutMs = bt;
  // Gateway API's (experimental) rule.retry wins over our route-wide annotation.
  if (kind === 'HTTPRoute' && isObject(rule.retry)) out.retry = retryFrom({ ...ann.retry, ...rule.retry }, warn);
  else if (ann.retry) out.retry = retryFrom(ann.retry, warn);
  if (ann.fault) out.fault = faultFrom(ann.fault, warn);
  try {
    const mine: NonNullable<RouteBackend['unresolved']>[] = [];
    applyFilters(kind, arr(rule.filters), out, route, ctx, parents, mine);
    dropped.push(...mine.map((d) => ({ ...d, message: `rule ${index + 1}: ${d.message}` })));
    backendFilters(arr(rule.backendRefs), out.backends);
  } catch (e) {
    out.failure = { reason: 'UnsupportedValue', message: `rule ${index + 1}: ${(e as Error).message}` };
    return out;
  }
  if (!out.redirect && !out.backends.some((b) => b.weight > 0)) {
    // The spec: a rule with no backend to send to answers 500, it does not fall through.
    out.failure = { reason: 'NoBackends', message: `rule ${index + 1}: ${out.backends.length ? 'every backendRef has weight 0' : 'no backendRefs'}` };
  }
  return out;
}

/** Whether an object is a Gateway API route mesh programs on Service parents (HTTPRoute, GRPCRoute). */
export function isMeshRouteKind(o: KubeObject): o is KubeObject & { kind: RouteKind } {
  return (o.kind === 'HTTPRoute' || o.kind === 'GRPCRoute') && o.apiVersion.startsWith(`${GATEWAY_GROUP}/`);
}

/** A route's rules (HTTPRoute or GRPCRoute) as translated once for all of its parents (GAMMA Services and Gateways alike). */
export interface TranslatedRoute {
  /** Undefined when the route is refused as a whole (`refused` says why). */
  rules?: RouteRule[];
  refused?: string;
  /** Rules that fail their requests (HTTP 500). */
  failures: NonNullable<RouteRule['failure']>[];
  /** backendRefs (and dropped mirrors) that do not resolve, with the spec's reason. */
  unresolved: NonNullable<RouteBackend['unresolved']>[];
}

/**
 * The rules of one HTTPRoute or GRPCRoute with the Gateway API's semantics (matches, filters, weights,
 * backendRef resolution); `parents` are the `NS/NAME` keys of Service parents a consumer route may
 * send to without a ReferenceGrant. Problems are also recorded in `warnings`. Pure.
 */
export function translateRoute(r: KubeObject & { kind: RouteKind }, ctx: RouteContext, parents: ReadonlySet<string>, warnings: ModelWarning[]): TranslatedRoute {
  const kind = r.kind;
  const spec = isObject(r.spec) ? r.spec : {};
  const ann = { retry: jsonAnnotation(r, ANNOTATION_RETRY, warnings), fault: jsonAnnotation(r, ANNOTATION_FAULT, warnings) };
  let rules: RouteRule[] | undefined;
  const droppedMirrors: NonNullable<RouteBackend['unresolved']>[] = [];
  let refused: string | undefined;
  try {
    rules = arr(spec.rules).map((rule, i) => ruleOf(kind, rule, i, r, ctx, parents, ann, droppedMirrors, (message) => warnings.push({ object: describe(r), message })));
  } catch (e) {
    if (!(e instanceof Refused)) throw e;
    refused = e.message;
    warnings.push({ object: describe(r), message: `${refused}; the route is not used` });
  }
  const failures = (rules ?? []).flatMap((rule) => (rule.failure ? [rule.failure] : []));
  const unresolved = (rules ?? []).flatMap((rule, i) => rule.backends.flatMap((b) => (b.unresolved ? [{ ...b.unresolved, message: `rule ${i + 1}: ${b.unresolved.message}; its share of requests gets HTTP 500` }] : [])));
  unresolved.push(...droppedMirrors);
  for (const f of failures) warnings.push({ object: describe(r), message: `${f.message}; requests it matches get HTTP 500` });
  for (const u of unresolved) warnings.push({ object: describe(r), message: u.message });
  const out: TranslatedRoute = { failures, unresolved };
  if (rules) out.rules = rules;
  if (refused !== undefined) out.refused = refused;
  return out;
}

/** The routes, their conditions and warnings from every HTTPRoute and GRPCRoute with a Service parent (GAMMA). Pure. */
export function meshRoutes(objects: readonly KubeObject[], ctx: RouteContext, warnings: ModelWarning[]): { routes: MeshRoute[]; conditions: RouteCondition[] } {
  const routes: MeshRoute[] = [];
  const conditions: RouteCondition[] = [];
  const httpRoutes = objects
    .filter(isMeshRouteKind)
    .sort((a, b) => cmp(a.kind, b.kind) || cmp(a.metadata.namespace ?? '', b.metadata.namespace ?? '') || cmp(a.metadata.name, b.metadata.name));
  for (const r of httpRoutes) {
    const kind = r.kind;
    const ns = r.metadata.namespace ?? 'default';
    const spec = isObject(r.spec) ? r.spec : {};
    const parents = arr(spec.parentRefs).filter((p) => p.kind === 'Service' && (p.group === undefined || p.group === '' || p.group === 'core'));
    if (!parents.length) continue;
    const { rules, refused, failures, unresolved } = translateRoute(r, ctx, new Set(parents.map((p) => keyOf(str(p.namespace) ?? ns, str(p.name) ?? '?'))), warnings);
    const routeKey = keyOf(ns, r.metadata.name);
    for (const p of parents) {
      const pns = str(p.namespace) ?? ns;
      const name = str(p.name) ?? '?';
      const port = num(p.port);
      const parent = `${keyOf(pns, name)}${port !== undefined ? `:${port}` : ''}`;
      const cond = (type: RouteCondition['type'], status: RouteCondition['status'], reason: string, message: string): void => {
        conditions.push({ ...(kind === 'GRPCRoute' ? { kind } : {}), route: routeKey, parent, type, status, reason, message });
      };
      const svc = ctx.services.get(keyOf(pns, name));
      if (!svc || (port !== undefined && !svc.ports.some((sp) => sp.port === port))) {
        const message = svc ? `Service ${pns}/${name} has no port ${port}` : `parentRef Service ${pns}/${name} does not exist`;
        warnings.push({ object: describe(r), message: `${message}; not attached` });
        cond('Accepted', 'False', 'NoMatchingParent', message);
        continue;
      }
      if (refused || !rules) {
        cond('Accepted', 'False', 'UnsupportedValue', refused ?? 'not translatable');
        continue;
      }
      cond('Accepted', 'True', 'Accepted', 'the route is programmed on every proxy that may call the parent');
      if (unresolved.length) cond('ResolvedRefs', 'False', unresolved[0]!.reason, unresolved.map((u) => u.message).join('; '));
      else cond('ResolvedRefs', 'True', 'ResolvedRefs', 'every backendRef resolves');
      const unsupported = failures.filter((f) => f.reason === 'UnsupportedValue');
      if (unsupported.length) cond('PartiallyInvalid', 'True', 'UnsupportedValue', `${unsupported.map((f) => f.message).join('; ')}; requests those rules match get HTTP 500`);
      const route: MeshRoute = { ...(kind === 'GRPCRoute' ? { kind } : {}), name: r.metadata.name, namespace: ns, parent: keyOf(pns, name), consumer: pns !== ns, rules };
      if (port !== undefined) route.port = port;
      if (r.metadata.creationTimestamp) route.createdAt = r.metadata.creationTimestamp;
      routes.push(route);
    }
  }
  const kept = settleKinds(routes, conditions, warnings);
  kept.sort((a, b) => byNsName(a, b) || cmp(a.kind ?? '', b.kind ?? '') || cmp(a.parent, b.parent) || (a.port ?? 0) - (b.port ?? 0));
  return { routes: kept, conditions };
}

/**
 * The Gateway API's rule for an HTTPRoute and a GRPCRoute on the same parent (for a Service parent,
 * with no hostnames, they always intersect): exactly one kind is accepted, that of the oldest route
 * (creationTimestamp, then "{namespace}/{name}"); the routes of the other kind there get
 * Accepted=False and are not programmed. Routes meet when their parents overlap (same Service,
 * same port or either on every port) and the same clients see them (producer routes, or consumer
 * routes of one namespace).
 */
function settleKinds(routes: MeshRoute[], conditions: RouteCondition[], warnings: ModelWarning[]): MeshRoute[] {
  const meet = (a: MeshRoute, b: MeshRoute): boolean =>
    a.parent === b.parent && (a.port === undefined || b.port === undefined || a.port === b.port) && a.consumer === b.consumer && (!a.consumer || a.namespace === b.namespace);
  const refused = new Set<MeshRoute>();
  // Routes meet only on the same parent: compare each with its parent's routes, not every route.
  const byParent = new Map<string, MeshRoute[]>();
  for (const r of routes) {
    const g = byParent.get(r.parent);
    if (g) g.push(r);
    else byParent.set(r.parent, [r]);
  }
  for (const r of routes) {
    // The kind of the oldest route the parent has decides, so a third route cannot revive a refused kind.
    const winner = byParent.get(r.parent)!.filter((o) => o === r || meet(r, o)).sort(routeOrder)[0]!;
    if ((winner.kind ?? 'HTTPRoute') !== (r.kind ?? 'HTTPRoute')) {
      refused.add(r);
      const kind = r.kind ?? 'HTTPRoute';
      const parent = `${r.parent}${r.port !== undefined ? `:${r.port}` : ''}`;
      const message = `${winner.kind ?? 'HTTPRoute'} ${winner.namespace}/${winner.name} is older and already routes parent Service ${r.parent}; an HTTPRoute and a GRPCRoute cannot share a parent`;
      warnings.push({ object: `${kind} ${r.namespace}/${r.name}`, message: `${message}; not attached` });
      const key = keyOf(r.namespace, r.name);
      const mine = (c: RouteCondition): boolean => (c.kind ?? 'HTTPRoute') === kind && c.route === key && c.parent === parent;
      const first = conditions.findIndex(mine);
      const others = conditions.filter((c) => !mine(c));
      conditions.length = 0;
      conditions.push(...others.slice(0, first), { ...(r.kind ? { kind: r.kind } : {}), route: key, parent, type: 'Accepted', status: 'False', reason: 'Conflicted', message }, ...others.slice(first));
    }
  }
  return routes.filter((r) => !refused.has(r));
}
