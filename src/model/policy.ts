import type { KubeObject } from '../cluster/types.js';
import { MESH_DOMAIN } from '../constants.js';
import { isObject } from '../util/object.js';
import { arr, cmp, describe, durationField, keyOf, num, str, type Obj } from './objects.js';
import { routeOrder } from './routes.js';
import type {
  BackendPolicy,
  CircuitBreakerPolicy,
  FaultPolicy,
  LoadBalancerPolicy,
  MeshRoute,
  MeshService,
  ModelWarning,
  OutlierPolicy,
  PolicyCondition,
  RateLimitPolicy,
} from './types.js';

/** Kind of mesh's traffic policy (group mesh.dev): policy attachment to a Service (port) or an HTTPRoute (rule). */
export const TRAFFIC_POLICY_KIND = 'TrafficPolicy';

const GATEWAY_GROUP = 'gateway.networking.k8s.io';

/** The blocks a TrafficPolicy may set on a Service target, and those it may set on an HTTPRoute target. */
const SERVICE_FIELDS = ['connectionPool', 'outlierDetection', 'loadBalancer', 'timeouts', 'rateLimit'] as const;
const ROUTE_FIELDS = ['fault', 'rateLimit'] as const;

/** Load-balancing algorithms, named as Envoy Gateway and Kuma name them. */
export const LB_TYPES: readonly LoadBalancerPolicy['type'][] = ['RoundRobin', 'LeastRequest', 'RingHash', 'Maglev', 'Random'];

/** A spec value mesh refuses: the policy is Accepted=False with reason Invalid and applies nowhere. */
class Invalid extends Error {}

function positiveInt(v: unknown, what: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Invalid(`${what} must be a whole number of at least 1 (got ${JSON.stringify(v)})`);
  return v;
}

function percent(v: unknown, what: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 100) throw new Invalid(`${what} must be a number from 0 to 100 (got ${JSON.stringify(v)})`);
  return v;
}

/** A positive duration in ms (`500ms`, `2s`); 0, negative or malformed is Invalid. */
function positiveDuration(v: unknown, what: string): number | undefined {
  if (v === undefined) return undefined;
  let problem: string | undefined;
  const ms = durationField(v, what, (m) => (problem = m));
  if (problem !== undefined || ms === undefined) throw new Invalid((problem ?? `${what} is not a duration`).replace(/; ignored$/, ''));
  if (ms <= 0) throw new Invalid(`${what} must be longer than 0 (got ${JSON.stringify(v)})`);
  return ms;
}

function block(spec: Obj, key: string): Obj | undefined {
  const v = spec[key];
  if (v === undefined) return undefined;
  if (!isObject(v)) throw new Invalid(`${key} must be an object`);
  return v;
}

function connectionPool(v: Obj): CircuitBreakerPolicy {
  return {
    maxConnections: positiveInt(v.maxConnections, 'connectionPool.maxConnections'),
    maxPendingRequests: positiveInt(v.maxPendingRequests, 'connectionPool.maxPendingRequests'),
    maxRequests: positiveInt(v.maxRequests, 'connectionPool.maxRequests'),
    maxRetries: positiveInt(v.maxRetries, 'connectionPool.maxRetries'),
  };
}

function outlierDetection(v: Obj): OutlierPolicy {
  const out: OutlierPolicy = {
    consecutive5xx: positiveInt(v.consecutive5xx, 'outlierDetection.consecutive5xx'),
    consecutiveGatewayErrors: positiveInt(v.consecutiveGatewayErrors, 'outlierDetection.consecutiveGatewayErrors'),
    intervalMs: positiveDuration(v.interval, 'outlierDetection.interval') ?? 10_000,
    baseEjectionTimeMs: positiveDuration(v.baseEjectionTime, 'outlierDetection.baseEjectionTime') ?? 30_000,
    maxEjectionPercent: percent(v.maxEjectionPercent, 'outlierDetection.maxEjectionPercent') ?? 10,
  };
  if (v.failurePercentage !== undefined) {
    // Failure-percentage ejection: the kind proxyless gRPC implements (gRFC A50 has no consecutive-error ejection).
    if (!isObject(v.failurePercentage)) throw new Invalid('outlierDetection.failurePercentage must be an object');
    const f = v.failurePercentage;
    const threshold = percent(f.threshold, 'outlierDetection.failurePercentage.threshold');
    if (threshold === undefined) throw new Invalid('outlierDetection.failurePercentage.threshold is required');
    out.failurePercentageThreshold = threshold;
    out.failurePercentageMinimumHosts = positiveInt(f.minimumHosts, 'outlierDetection.failurePercentage.minimumHosts');
    out.failurePercentageRequestVolume = positiveInt(f.requestVolume, 'outlierDetection.failurePercentage.requestVolume');
  }
  if (out.consecutive5xx === undefined && out.consecutiveGatewayErrors === undefined && out.failurePercentageThreshold === undefined) {
    throw new Invalid('outlierDetection needs consecutive5xx, consecutiveGatewayErrors or failurePercentage');
  }
  return out;
}

function loadBalancer(v: Obj): LoadBalancerPolicy {
  const type = v.type ?? 'RoundRobin';
  if (typeof type !== 'string' || !LB_TYPES.includes(type as LoadBalancerPolicy['type'])) throw new Invalid(`loadBalancer.type ${JSON.stringify(type)} is not one of ${LB_TYPES.join(', ')}`);
  const out: LoadBalancerPolicy = { type: type as LoadBalancerPolicy['type'] };
  const hash = v.hash === undefined ? undefined : isObject(v.hash) ? v.hash : undefined;
  if (v.hash !== undefined && !hash) throw new Invalid('loadBalancer.hash must be an object');
  const consistent = out.type === 'RingHash' || out.type === 'Maglev';
  if (hash && !consistent) throw new Invalid(`loadBalancer.hash needs type RingHash or Maglev (type is ${out.type})`);
  if (consistent) {
    if (!hash) throw new Invalid(`loadBalancer type ${out.type} needs hash (header, cookie or sourceIP)`);
    const set = ['header', 'cookie', 'sourceIP'].filter((k) => hash[k] !== undefined);
    if (set.length !== 1) throw new Invalid(`loadBalancer.hash needs exactly one of header, cookie, sourceIP (got ${set.join(', ') || 'none'})`);
    if (hash.header !== undefined) {
      const name = isObject(hash.header) ? str(hash.header.name) : undefined;
      if (!name) throw new Invalid('loadBalancer.hash.header.name is required');
      out.hash = { header: name.toLowerCase() };
    } else if (hash.cookie !== undefined) {
      const c = isObject(hash.cookie) ? hash.cookie : {};
      const name = str(c.name);
      if (!name) throw new Invalid('loadBalancer.hash.cookie.name is required');
      out.hash = { cookie: { name, ttlMs: positiveDuration(c.ttl, 'loadBalancer.hash.cookie.ttl') } };
    } else {
      if (hash.sourceIP !== true) throw new Invalid('loadBalancer.hash.sourceIP must be true');
      out.hash = { sourceIP: true };
    }
  }
  return out;
}

function rateLimit(v: Obj): RateLimitPolicy {
  const requests = positiveInt(v.requests, 'rateLimit.requests');
  if (requests === undefined) throw new Invalid('rateLimit.requests is required');
  const intervalMs = positiveDuration(v.interval, 'rateLimit.interval') ?? 1_000;
  // Envoy's token bucket refills at most every 50 ms.
  if (intervalMs < 50) throw new Invalid('rateLimit.interval must be at least 50ms (Envoy refills a token bucket at most every 50 ms)');
  const burst = positiveInt(v.burst, 'rateLimit.burst') ?? requests;
  if (burst < requests) throw new Invalid(`rateLimit.burst (${burst}) must be at least rateLimit.requests (${requests})`);
  return { requests, intervalMs, burst };
}

function fault(v: Obj): FaultPolicy {
  const out: FaultPolicy = {};
  if (v.abort !== undefined) {
    if (!isObject(v.abort)) throw new Invalid('fault.abort must be an object');
    const a = v.abort;
    const httpStatus = num(a.httpStatus);
    const grpcStatus = num(a.grpcStatus);
    if (httpStatus !== undefined && (!Number.isInteger(httpStatus) || httpStatus < 200 || httpStatus > 599)) throw new Invalid(`fault.abort.httpStatus must be 200-599 (got ${httpStatus})`);
    if (grpcStatus !== undefined && (!Number.isInteger(grpcStatus) || grpcStatus < 1 || grpcStatus > 16)) throw new Invalid(`fault.abort.grpcStatus must be 1-16 (got ${grpcStatus})`);
    if (httpStatus !== undefined && grpcStatus !== undefined) throw new Invalid('fault.abort takes httpStatus or grpcStatus, not both');
    out.abort = { percent: percent(a.percentage, 'fault.abort.percentage') ?? 100, ...(grpcStatus !== undefined ? { grpcStatus } : { httpStatus: httpStatus ?? 503 }) };
  }
  if (v.delay !== undefined) {
    if (!isObject(v.delay)) throw new Invalid('fault.delay must be an object');
    const fixedDelayMs = positiveDuration(v.delay.fixedDelay, 'fault.delay.fixedDelay');
    if (fixedDelayMs === undefined) throw new Invalid('fault.delay.fixedDelay is required');
    out.delay = { percent: percent(v.delay.percentage, 'fault.delay.percentage') ?? 100, fixedDelayMs };
  }
  if (!out.abort && !out.delay) throw new Invalid('fault needs abort or delay');
  return out;
}

function timeouts(v: Obj): Pick<BackendPolicy, 'idleTimeoutMs' | 'connectTimeoutMs'> {
  return { idleTimeoutMs: positiveDuration(v.idle, 'timeouts.idle'), connectTimeoutMs: positiveDuration(v.connect, 'timeouts.connect') };
}

/** The settings of one policy's spec, validated; what a target kind cannot take is Invalid. */
function settingsOf(spec: Obj, kinds: ReadonlySet<string>): BackendPolicy & { fault?: FaultPolicy } {
  const known = new Set<string>(['targetRefs', ...SERVICE_FIELDS, ...ROUTE_FIELDS]);
  for (const k of Object.keys(spec)) if (!known.has(k)) throw new Invalid(`unknown field spec.${k}`);
  for (const k of SERVICE_FIELDS) if (spec[k] !== undefined && kinds.has('HTTPRoute') && !(ROUTE_FIELDS as readonly string[]).includes(k)) throw new Invalid(`${k} applies to a Service target, not an HTTPRoute`);
  for (const k of ROUTE_FIELDS) if (spec[k] !== undefined && kinds.has('Service') && !(SERVICE_FIELDS as readonly string[]).includes(k)) throw new Invalid(`${k} applies to an HTTPRoute rule target, not a Service`);
  const out: BackendPolicy & { fault?: FaultPolicy } = {};
  const cp = block(spec, 'connectionPool');
  if (cp) out.connectionPool = connectionPool(cp);
  const od = block(spec, 'outlierDetection');
  if (od) out.outlier = outlierDetection(od);
  const lb = block(spec, 'loadBalancer');
  if (lb) out.loadBalancer = loadBalancer(lb);
  const to = block(spec, 'timeouts');
  if (to) Object.assign(out, dropUndefined(timeouts(to)));
  const rl = block(spec, 'rateLimit');
  if (rl) out.rateLimit = rateLimit(rl);
  const f = block(spec, 'fault');
  if (f) out.fault = fault(f);
  return out;
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** One parsed targetRef: the kind, the local name and the optional section (Service port name or HTTPRoute rule name). */
interface Target {
  kind: 'Service' | 'HTTPRoute';
  name: string;
  section?: string;
}

function targetsOf(spec: Obj): Target[] {
  const refs = spec.targetRefs;
  if (!Array.isArray(refs) || refs.length === 0) throw new Invalid('spec.targetRefs needs at least one target');
  return refs.map((r, i) => {
    if (!isObject(r)) throw new Invalid(`targetRefs[${i}] is not an object`);
    const group = str(r.group) ?? '';
    const kind = str(r.kind);
    const name = str(r.name);
    if (!name) throw new Invalid(`targetRefs[${i}] has no name`);
    if (r.namespace !== undefined) throw new Invalid(`targetRefs[${i}] has a namespace: a policy targets objects of its own namespace only`);
    let k: Target['kind'];
    if (kind === 'Service' && (group === '' || group === 'core')) k = 'Service';
    else if (kind === 'HTTPRoute' && group === GATEWAY_GROUP) k = 'HTTPRoute';
    else throw new Invalid(`targetRefs[${i}] ${group ? `${group}/` : ''}${kind ?? '(no kind)'} is not a Service (group "") or an HTTPRoute (group ${GATEWAY_GROUP})`);
    const section = str(r.sectionName);
    return section ? { kind: k, name, section } : { kind: k, name };
  });
}

/** A policy's effect on one target after conflict resolution. */
interface Attachment {
  policy: KubeObject;
  target: Target;
  settings: BackendPolicy & { fault?: FaultPolicy };
}

/** What the TrafficPolicies of a cluster change in the model. */
export interface PolicyResult {
  /** `NS/NAME` of a Service -> its policy for every port (`*`) and per port number. */
  backends: Map<string, { all?: BackendPolicy; ports: Map<number, BackendPolicy> }>;
  routes: MeshRoute[];
  conditions: PolicyCondition[];
}

function targetText(ns: string, t: Target): string {
  return `${t.kind} ${ns}/${t.name}${t.section ? ` section ${t.section}` : ''}`;
}

/**
 * Reads every TrafficPolicy (group mesh.dev) and attaches it (Gateway API policy attachment,
 * GEP-713): a targetRef names a Service (with sectionName: one of its ports by name) or an
 * HTTPRoute (with sectionName: one of its rules by name) in the policy's namespace. Per target the
 * oldest policy wins (creationTimestamp, then "{namespace}/{name}"); the others are Conflicted. A
 * value mesh refuses makes the policy Invalid everywhere; a target that does not exist is
 * TargetNotFound. Every policy gets one Accepted condition; nothing here throws on bad input. Pure.
 */
export function trafficPolicies(objects: readonly KubeObject[], services: ReadonlyMap<string, MeshService>, routes: readonly MeshRoute[], warnings: ModelWarning[]): PolicyResult {
  const policies = objects
    .filter((o) => o.kind === TRAFFIC_POLICY_KIND && o.apiVersion.startsWith(`${MESH_DOMAIN}/`))
    .map((o) => ({ o, createdAt: o.metadata.creationTimestamp, namespace: o.metadata.namespace ?? 'default', name: o.metadata.name }))
    .sort(routeOrder);
  const httpRoutes = new Map<string, Obj>();
  for (const r of objects) if (r.kind === 'HTTPRoute' && r.apiVersion.startsWith(`${GATEWAY_GROUP}/`)) httpRoutes.set(keyOf(r.metadata.namespace ?? 'default', r.metadata.name), isObject(r.spec) ? r.spec : {});
  const conditions: PolicyCondition[] = [];
  const claimed = new Map<string, KubeObject>();
  const attached: Attachment[] = [];
  for (const { o, namespace: ns } of policies) {
    const key = keyOf(ns, o.metadata.name);
    const cond = (status: 'True' | 'False', reason: PolicyCondition['reason'], message: string): void => {
      conditions.push({ policy: key, type: 'Accepted', status, reason, message });
      if (status === 'False') warnings.push({ object: describe(o), message: `${message}; ${reason === 'Invalid' ? 'the policy is not applied' : 'not applied there'}` });
    };
    const spec = isObject(o.spec) ? o.spec : {};
    let targets: Target[];
    let settings: Attachment['settings'];
    try {
      targets = targetsOf(spec);
      settings = settingsOf(spec, new Set(targets.map((t) => t.kind)));
    } catch (e) {
      if (!(e instanceof Invalid)) throw e;
      cond('False', 'Invalid', e.message);
      continue;
    }
    const problems: { reason: PolicyCondition['reason']; message: string }[] = [];
    for (const t of targets) {
      const missing = targetMissing(ns, t, services, httpRoutes);
      if (missing) {
        problems.push({ reason: 'TargetNotFound', message: missing });
        continue;
      }
      const tkey = `${t.kind}/${ns}/${t.name}/${t.section ?? ''}`;
      const owner = claimed.get(tkey);
      if (owner) {
        problems.push({ reason: 'Conflicted', message: `${targetText(ns, t)} is already the target of the older TrafficPolicy ${keyOf(owner.metadata.namespace ?? 'default', owner.metadata.name)} (the oldest wins)` });
        continue;
      }
      claimed.set(tkey, o);
      attached.push({ policy: o, target: t, settings });
    }
    if (problems.length) cond('False', problems[0]!.reason, problems.map((p) => p.message).join('; '));
    else cond('True', 'Accepted', `attached to ${targets.map((t) => targetText(ns, t)).join(', ')}`);
  }
  return { backends: backendPolicies(attached, services), routes: routesWithPolicies(routes, attached), conditions: conditions.sort((a, b) => cmp(a.policy, b.policy)) };
}

function targetMissing(ns: string, t: Target, services: ReadonlyMap<string, MeshService>, httpRoutes: ReadonlyMap<string, Obj>): string | undefined {
  if (t.kind === 'Service') {
    const s = services.get(keyOf(ns, t.name));
    if (!s) return `targetRef Service ${ns}/${t.name} does not exist`;
    if (t.section && !s.ports.some((p) => p.name === t.section)) return `targetRef Service ${ns}/${t.name} has no port named ${t.section} (ports: ${s.ports.map((p) => p.name || String(p.port)).join(', ') || 'none'})`;
    return undefined;
  }
  const spec = httpRoutes.get(keyOf(ns, t.name));
  if (!spec) return `targetRef HTTPRoute ${ns}/${t.name} does not exist`;
  const names = arr(spec.rules).map((r) => str(r.name)).filter((n): n is string => n !== undefined);
  if (t.section && !names.includes(t.section)) return `targetRef HTTPRoute ${ns}/${t.name} has no rule named ${t.section} (named rules: ${names.join(', ') || 'none'})`;
  return undefined;
}

function backendPolicies(attached: readonly Attachment[], services: ReadonlyMap<string, MeshService>): PolicyResult['backends'] {
  const out: PolicyResult['backends'] = new Map();
  for (const a of attached) {
    if (a.target.kind !== 'Service') continue;
    const key = keyOf(a.policy.metadata.namespace ?? 'default', a.target.name);
    const entry = out.get(key) ?? { ports: new Map<number, BackendPolicy>() };
    out.set(key, entry);
    const { fault: _fault, ...settings } = a.settings;
    if (!a.target.section) entry.all = settings;
    else {
      const port = services.get(key)?.ports.find((p) => p.name === a.target.section)?.port;
      if (port !== undefined) entry.ports.set(port, settings);
    }
  }
  return out;
}

/** The routes with the faults and rate limits of policies that target them (whole route or one named rule); a policy's fault replaces the route's mesh.dev/fault annotation. */
function routesWithPolicies(routes: readonly MeshRoute[], attached: readonly Attachment[]): MeshRoute[] {
  const onRoutes = attached.filter((a) => a.target.kind === 'HTTPRoute');
  if (!onRoutes.length) return [...routes];
  return routes.map((r) => {
    // A GRPCRoute (kind set) is not an HTTPRoute target, even under the same name.
    if (r.kind !== undefined) return r;
    const mine = onRoutes.filter((a) => (a.policy.metadata.namespace ?? 'default') === r.namespace && a.target.name === r.name);
    if (!mine.length) return r;
    return {
      ...r,
      rules: r.rules.map((rule) => {
        // A rule-level policy is more specific than a route-wide one (GEP-713 sectionName).
        const a = mine.find((x) => x.target.section !== undefined && x.target.section === rule.name) ?? mine.find((x) => x.target.section === undefined);
        if (!a) return rule;
        const next = { ...rule };
        if (a.settings.fault) next.fault = a.settings.fault;
        if (a.settings.rateLimit) next.rateLimit = a.settings.rateLimit;
        return next;
      }),
    };
  });
}

/**
 * The effective backend policy of a Service port: the port's policy block by block over the
 * Service-wide policy, over the Service's `mesh.dev/circuit-breaker` and `mesh.dev/outlier-detection`
 * annotations (a shorthand a policy replaces). Undefined when nothing applies.
 */
export function backendPolicy(s: MeshService, port: number): BackendPolicy | undefined {
  const fromAnnotations: BackendPolicy = {};
  if (s.circuitBreaker) fromAnnotations.connectionPool = s.circuitBreaker;
  if (s.outlier) fromAnnotations.outlier = s.outlier;
  const merged: BackendPolicy = { ...fromAnnotations, ...s.policy, ...s.portPolicies?.[port] };
  return Object.keys(merged).length ? merged : undefined;
}
