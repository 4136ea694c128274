import type { KubeObject } from '../cluster/types.js';
import { isObject } from '../util/object.js';
import { isDns1123Subdomain } from '../names.js';
import { formatSpiffeId } from '../pki/spiffe.js';
import { arr, byNsName, cmp, describe, durationField, jsonAnnotation, keyOf, num, str, strMap, type Obj, type Warn } from './objects.js';
import { meshRoutes } from './routes.js';
import { trafficPolicies } from './policy.js';
import { gatewaysFrom } from './gateway.js';
import { selecting } from './grouped.js';
import { mapSelects } from '../util/labels.js';
import {
  ANNOTATION_CIRCUIT_BREAKER,
  ANNOTATION_MTLS,
  ANNOTATION_ACCESS_LOG,
  ANNOTATION_TRACE_SAMPLING,
  ANNOTATION_OUTLIER,
  ANNOTATION_REACHABLE,
  DEFAULT_TRUST_DOMAIN,
  LABEL_DEFAULT_DENY,
  MESH_DOMAIN,
} from '../constants.js';
import type {
  AuthzOperation,
  AuthzPolicy,
  AuthzRule,
  AuthzSource,
  CircuitBreakerPolicy,
  Endpoint,
  ExternalPort,
  ExternalService,
  MeshModel,
  MeshNamespace,
  MeshService,
  MeshTelemetry,
  ModelWarning,
  MtlsMode,
  OutlierPolicy,
  Protocol,
  ServicePort,
  TelemetryOverride,
  Workload,
} from './types.js';

/** Options of {@link buildModel}. */
export interface ModelOptions {
  /** SPIFFE trust domain (default cluster.local). */
  trustDomain?: string;
  /** mTLS mode of namespaces without the `mesh.dev/mtls` annotation (default PERMISSIVE). */
  defaultMtls?: MtlsMode;
  /** Cluster DNS suffix (default cluster.local). */
  clusterDomain?: string;
  /** Tracing and access logs mesh-wide (default: both off). */
  telemetry?: MeshTelemetry;
  /** Deny by default in namespaces without the `mesh.dev/default-deny` label (values `authorization.defaultDeny`; default false). */
  defaultDeny?: boolean;
  /** values `outboundTrafficPolicy: registry-only` (default allow-any). */
  registryOnly?: boolean;
}

/**
 * The telemetry a namespace or pod annotation asks for, or undefined when it sets none. A value
 * that does not parse is ignored here (the mesh's setting holds) and reported by `mesh check`
 * (MSH0013).
 */
export function telemetryOverride(annotations: Record<string, string> | undefined): TelemetryOverride | undefined {
  const out: TelemetryOverride = {};
  const sampling = annotations?.[ANNOTATION_TRACE_SAMPLING]?.trim();
  if (sampling !== undefined) {
    const pct = parseSamplingAnnotation(sampling);
    if (pct !== undefined) out.traceSampling = pct;
  }
  const log = annotations?.[ANNOTATION_ACCESS_LOG]?.trim().toLowerCase();
  if (log === 'on' || log === 'off' || log === 'text' || log === 'json') out.accessLog = log;
  return Object.keys(out).length ? out : undefined;
}

/** `mesh.dev/trace-sampling`: a percentage from 0 to 100 (fractions allowed) or `off`; undefined when neither. */
export function parseSamplingAnnotation(value: string): number | 'off' | undefined {
  if (value.toLowerCase() === 'off') return 'off';
  if (!/^\d+(\.\d+)?$/.test(value)) return undefined;
  const n = Number(value);
  return n <= 100 ? n : undefined;
}


/**
 * Protocol of a Service port: `appProtocol` first (kubernetes.io/h2c, http, grpc...), then the
 * Istio-style name prefix (`http-web`, `grpc`, `tcp-db`); unknown ports are opaque TCP, which is
 * always safe to proxy.
 */
export function portProtocol(name: string | undefined, appProtocol: string | undefined): Protocol {
  const pick = (s: string): Protocol | undefined => {
    const v = s.toLowerCase();
    if (v === 'grpc' || v === 'grpc-web') return 'grpc';
    if (v === 'http2' || v === 'h2c' || v === 'kubernetes.io/h2c') return 'http2';
    if (v === 'http' || v === 'kubernetes.io/http') return 'http';
    if (v === 'https' || v === 'tls' || v === 'kubernetes.io/wss') return 'tls';
    if (v === 'tcp' || v === 'mongo' || v === 'mysql' || v === 'redis') return 'tcp';
    return undefined;
  };
  if (appProtocol) {
    const p = pick(appProtocol);
    if (p) return p;
  }
  if (name) {
    const prefix = name.split('-')[0] ?? '';
    const p = pick(prefix);
    if (p) return p;
  }
  return 'tcp';
}

/** Whether a protocol is routed by the HTTP connection manager (routes, retries, RBAC on paths). */
export function isHttp(p: Protocol): boolean {
  return p === 'http' || p === 'http2' || p === 'grpc';
}

function parseMtls(v: string | undefined): MtlsMode | undefined {
  const u = v?.toUpperCase();
  return u === 'STRICT' || u === 'PERMISSIVE' || u === 'DISABLE' ? u : undefined;
}

function outlierFrom(v: Obj, warn: Warn): OutlierPolicy {
  const dur = (k: string) => durationField(v[k], `${ANNOTATION_OUTLIER} ${k}`, warn);
  return {
    consecutive5xx: num(v.consecutive5xx),
    consecutiveGatewayErrors: num(v.consecutiveGatewayErrors),
    intervalMs: dur('interval') ?? 10_000,
    baseEjectionTimeMs: dur('baseEjectionTime') ?? 30_000,
    maxEjectionPercent: num(v.maxEjectionPercent) ?? 10,
    failurePercentageThreshold: num(v.failurePercentageThreshold),
    failurePercentageMinimumHosts: num(v.failurePercentageMinimumHosts),
    failurePercentageRequestVolume: num(v.failurePercentageRequestVolume),
    enforcingFailurePercentage: num(v.enforcingFailurePercentage),
  };
}

function circuitBreakerFrom(v: Obj): CircuitBreakerPolicy {
  return {
    maxConnections: num(v.maxConnections),
    maxPendingRequests: num(v.maxPendingRequests),
    maxRequests: num(v.maxRequests),
    maxRetries: num(v.maxRetries),
  };
}

/** The objects of `kind` in API `group` (any version; "v1" is the core group). */
function objectsOf(objects: readonly KubeObject[], kind: string, group: string): KubeObject[] {
  return objects.filter((o) => o.kind === kind && (o.apiVersion === group || o.apiVersion.startsWith(`${group}/`) || (group === 'v1' && o.apiVersion === 'v1')));
}

/** Namespaces: explicit ones, plus any namespace an object lives in (files often omit Namespace), sorted by name. */
export function namespacesFrom(objects: readonly KubeObject[], defaultMtls: MtlsMode, defaultDeny = false): MeshNamespace[] {
  const nsObjects = new Map<string, KubeObject>();
  for (const o of objectsOf(objects, 'Namespace', 'v1')) nsObjects.set(o.metadata.name, o);
  const nsNames = new Set<string>(nsObjects.keys());
  for (const o of objects) if (o.metadata.namespace) nsNames.add(o.metadata.namespace);
  return [...nsNames].sort().map((name) => {
    const ann = nsObjects.get(name)?.metadata.annotations ?? {};
    const mtls = parseMtls(ann[ANNOTATION_MTLS]) ?? defaultMtls;
    const reach = ann[ANNOTATION_REACHABLE];
    const deny = nsObjects.get(name)?.metadata.labels?.[LABEL_DEFAULT_DENY];
    const ns: MeshNamespace = { name, mtls, defaultDeny: deny === 'true' ? true : deny === 'false' ? false : defaultDeny };
    const telemetry = telemetryOverride(ann);
    if (telemetry) ns.telemetry = telemetry;
    if (reach !== undefined) {
      ns.reachable = [...new Set([name, ...reach.split(',').map((s) => s.trim()).filter(Boolean)])].sort();
    }
    return ns;
  });
}

/** Services (not ExternalName) with their TCP ports, sorted by namespace and name; problems go to `warnings`. */
export function servicesFrom(serviceObjects: readonly KubeObject[], clusterDomain: string, warnings: ModelWarning[]): MeshService[] {
  const services: MeshService[] = [];
  for (const o of serviceObjects) {
    const spec = isObject(o.spec) ? o.spec : {};
    const ns = o.metadata.namespace ?? 'default';
    if (spec.type === 'ExternalName') continue;
    const ports: ServicePort[] = arr(spec.ports).flatMap((p): ServicePort[] => {
      const port = num(p.port);
      if (port === undefined) {
        warnings.push({ object: describe(o), message: 'a port has no number; skipped' });
        return [];
      }
      if (p.protocol !== undefined && p.protocol !== 'TCP') return [];
      const name = str(p.name) ?? '';
      const tp = p.targetPort;
      return [{ name, port, targetPort: typeof tp === 'number' || (typeof tp === 'string' && tp !== '') ? tp : port, protocol: portProtocol(name, str(p.appProtocol)) }];
    });
    ports.sort((a, b) => a.port - b.port);
    const svc: MeshService = { name: o.metadata.name, namespace: ns, fqdn: `${o.metadata.name}.${ns}.svc.${clusterDomain}`, ports };
    const ip = str(spec.clusterIP);
    if (ip && ip !== 'None') svc.clusterIP = ip;
    const sel = strMap(spec.selector);
    if (sel && Object.keys(sel).length) svc.selector = sel;
    const outlier = jsonAnnotation(o, ANNOTATION_OUTLIER, warnings);
    if (outlier) svc.outlier = outlierFrom(outlier, (message) => warnings.push({ object: describe(o), message }));
    const cb = jsonAnnotation(o, ANNOTATION_CIRCUIT_BREAKER, warnings);
    if (cb) svc.circuitBreaker = circuitBreakerFrom(cb);
    services.push(svc);
  }
  services.sort(byNsName);
  return services;
}

/**
 * Workloads from Pods: identity from the service account, mTLS from the pod's annotation, else its
 * namespace's (`nsMtls`), else `defaultMtls`; ports are the targets of the Services selecting the pod.
 */
export function workloadsFrom(pods: readonly KubeObject[], services: readonly MeshService[], nsMtls: ReadonlyMap<string, MtlsMode>, trustDomain: string, defaultMtls: MtlsMode): Workload[] {
  const workloads: Workload[] = [];
  for (const p of pods) {
    const ns = p.metadata.namespace ?? 'default';
    const spec = isObject(p.spec) ? p.spec : {};
    const status = isObject(p.status) ? p.status : {};
    const labels = p.metadata.labels ?? {};
    const sa = str(spec.serviceAccountName) ?? str(spec.serviceAccount) ?? 'default';
    const containerPorts = arr(spec.containers).flatMap((c) => arr(c.ports));
    const ports: Workload['ports'] = [];
    // A Service without a selector selects no pod (selecting() would count it as selecting all).
    for (const svc of selecting(services, ns, labels)) {
      if (!mapSelects(svc.selector, labels)) continue;
      for (const sp of svc.ports) {
        const target = typeof sp.targetPort === 'number' ? sp.targetPort : num(containerPorts.find((cp) => cp.name === sp.targetPort)?.containerPort);
        if (target === undefined) continue;
        if (!ports.some((x) => x.port === target)) ports.push({ port: target, protocol: sp.protocol, service: keyOf(svc.namespace, svc.name), servicePort: sp.port });
      }
    }
    ports.sort((a, b) => a.port - b.port);
    const w: Workload = {
      name: p.metadata.name,
      namespace: ns,
      serviceAccount: sa,
      identity: formatSpiffeId(trustDomain, ns, sa),
      labels,
      mtls: parseMtls(p.metadata.annotations?.[ANNOTATION_MTLS]) ?? nsMtls.get(ns) ?? defaultMtls,
      ports,
    };
    const ip = str(status.podIP);
    if (ip) w.ip = ip;
    const telemetry = telemetryOverride(p.metadata.annotations);
    if (telemetry) w.telemetry = telemetry;
    workloads.push(w);
  }
  workloads.sort(byNsName);
  return workloads;
}

/** AuthorizationPolicies (ALLOW or DENY; others are skipped with a warning), sorted by namespace and name. */
export function authzFrom(objects: readonly KubeObject[], warnings: ModelWarning[]): AuthzPolicy[] {
  const authz: AuthzPolicy[] = [];
  for (const a of objects.filter((o) => o.kind === 'AuthorizationPolicy' && o.apiVersion.startsWith(`${MESH_DOMAIN}/`))) {
    const spec = isObject(a.spec) ? a.spec : {};
    const action = spec.action === undefined ? 'ALLOW' : spec.action;
    if (action !== 'ALLOW' && action !== 'DENY') {
      warnings.push({ object: describe(a), message: `action ${String(action)} is not ALLOW or DENY; policy skipped` });
      continue;
    }
    const strs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
    const rules: AuthzRule[] = arr(spec.rules).map((rule) => ({
      from: arr(rule.from).map((f): AuthzSource => {
        const src = isObject(f.source) ? f.source : f;
        return { principals: strs(src.principals), namespaces: strs(src.namespaces) };
      }),
      to: arr(rule.to).map((t): AuthzOperation => {
        const op = isObject(t.operation) ? t.operation : t;
        const listed = Array.isArray(op.ports) ? op.ports : [];
        const ports = listed.map((x) => Number(x)).filter((x) => Number.isInteger(x) && x >= 1 && x <= 65535);
        const out: AuthzOperation = { ports, methods: strs(op.methods), paths: strs(op.paths) };
        if (ports.length < listed.length) warnings.push({ object: describe(a), message: `ports ${JSON.stringify(listed.filter((x) => !ports.includes(Number(x))))} are not ports from 1 to 65535; ignored` });
        if (listed.length && !ports.length) out.invalidPorts = true;
        return out;
      }),
    }));
    const policy: AuthzPolicy = { name: a.metadata.name, namespace: a.metadata.namespace ?? 'default', action, rules };
    const sel = isObject(spec.selector) ? strMap(spec.selector.matchLabels) : undefined;
    if (sel && Object.keys(sel).length) policy.selector = sel;
    authz.push(policy);
  }
  authz.sort(byNsName);
  return authz;
}

const EXTERNAL_PROTOCOLS: Record<string, ExternalPort['protocol']> = { HTTP: 'http', HTTP2: 'http', GRPC: 'http', HTTPS: 'tls', TLS: 'tls', TCP: 'tcp' };

/**
 * ExternalServices (mesh.dev): hosts are DNS names (no wildcards: they become DNS clusters), ports
 * 1-65535 with HTTP, HTTP2, GRPC, HTTPS, TLS or TCP; TLS origination needs an HTTP port. A bad
 * host or port is dropped with a warning; a service left with no host or port is skipped.
 */
export function externalServicesFrom(objects: readonly KubeObject[], warnings: ModelWarning[]): ExternalService[] {
  const out: ExternalService[] = [];
  for (const o of objects.filter((x) => x.kind === 'ExternalService' && x.apiVersion.startsWith(`${MESH_DOMAIN}/`)).sort((a, b) => cmp(`${a.metadata.namespace ?? ''}/${a.metadata.name}`, `${b.metadata.namespace ?? ''}/${b.metadata.name}`))) {
    const spec = isObject(o.spec) ? o.spec : {};
    const warn = (m: string) => warnings.push({ object: describe(o), message: m });
    const hosts: string[] = [];
    for (const h of Array.isArray(spec.hosts) ? spec.hosts : []) {
      const host = typeof h === 'string' ? h.toLowerCase() : '';
      if (isDns1123Subdomain(host) && host.includes('.')) hosts.push(host);
      else warn(`host ${JSON.stringify(h)} is not a DNS name (such as api.example.com; wildcards are not supported); host ignored`);
    }
    const tlsOrigination = isObject(spec.tls) && String(spec.tls.mode ?? '').toUpperCase() === 'ORIGINATE';
    const ports: ExternalPort[] = [];
    for (const p of arr(spec.ports)) {
      const number = num(p.number);
      const protocol = EXTERNAL_PROTOCOLS[String(p.protocol ?? 'TCP').toUpperCase()];
      const targetPort = num(p.targetPort) ?? number;
      if (number === undefined || !Number.isInteger(number) || number < 1 || number > 65535 || targetPort === undefined || !Number.isInteger(targetPort) || targetPort < 1 || targetPort > 65535) {
        warn(`port ${JSON.stringify(p.number)} (targetPort ${JSON.stringify(p.targetPort)}) is not a port from 1 to 65535; port ignored`);
      } else if (!protocol) {
        warn(`port ${number}: protocol ${JSON.stringify(p.protocol)} is not one of ${Object.keys(EXTERNAL_PROTOCOLS).join(', ')}; port ignored`);
      } else if (tlsOrigination && protocol !== 'http') {
        warn(`port ${number}: TLS origination needs an HTTP port (the application speaks plain HTTP), not ${String(p.protocol)}; port ignored`);
      } else {
        ports.push({ number, name: str(p.name) ?? `${protocol}-${number}`, protocol, targetPort });
      }
    }
    if (!hosts.length || !ports.length) {
      warn(`no usable ${hosts.length ? 'port' : 'host'}; ExternalService skipped`);
      continue;
    }
    const e: ExternalService = { name: o.metadata.name, namespace: o.metadata.namespace ?? 'default', hosts, ports, tlsOrigination };
    const created = str(o.metadata.creationTimestamp);
    if (created) e.createdAt = created;
    out.push(e);
  }
  return out.sort(byNsName);
}

/**
 * Build the mesh model from Kubernetes objects. Pure and deterministic: the same objects in any
 * order give an equal model. Objects it cannot use are skipped with a warning, never thrown on, so
 * one bad manifest does not stop the control plane.
 */
export function buildModel(objects: readonly KubeObject[], opts: ModelOptions = {}): MeshModel {
  const trustDomain = opts.trustDomain ?? DEFAULT_TRUST_DOMAIN;
  const clusterDomain = opts.clusterDomain ?? 'cluster.local';
  const defaultMtls = opts.defaultMtls ?? 'PERMISSIVE';
  const warnings: ModelWarning[] = [];
  const of = (kind: string, group: string): KubeObject[] => objectsOf(objects, kind, group);

  const namespaces = namespacesFrom(objects, defaultMtls, opts.defaultDeny === true);
  const services = servicesFrom(of('Service', 'v1'), clusterDomain, warnings);
  const serviceByKey = new Map(services.map((s) => [keyOf(s.namespace, s.name), s]));
  const pods = of('Pod', 'v1');
  const podByKey = new Map(pods.map((p) => [keyOf(p.metadata.namespace ?? 'default', p.metadata.name), p]));
  const workloads = workloadsFrom(pods, services, new Map(namespaces.map((n) => [n.name, n.mtls])), trustDomain, defaultMtls);

  // EndpointSlices -> endpoints per service.
  const endpoints = endpointsFromSlices(
    objects.filter(isEndpointSlice),
    (ns, name) => podByKey.get(keyOf(ns, name)),
    trustDomain,
    warnings,
  );

  // HTTPRoutes and GRPCRoutes attached to Services (GAMMA).
  const grants = new Map<string, KubeObject[]>();
  for (const g of of('ReferenceGrant', 'gateway.networking.k8s.io')) {
    const gns = g.metadata.namespace ?? 'default';
    grants.set(gns, [...(grants.get(gns) ?? []), g]);
  }
  const { routes: plainRoutes, conditions: routeConditions } = meshRoutes(objects, { services: serviceByKey, grants }, warnings);

  // TrafficPolicies (policy attachment): backend settings onto Services, faults and rate limits onto route rules.
  const policy = trafficPolicies(objects, serviceByKey, plainRoutes, warnings);
  const withPolicies = services.map((s) => {
    const p = policy.backends.get(keyOf(s.namespace, s.name));
    if (!p) return s;
    const out: MeshService = { ...s };
    if (p.all) out.policy = p.all;
    if (p.ports.size) out.portPolicies = Object.fromEntries([...p.ports].sort((a, b) => a[0] - b[0]));
    return out;
  });

  const authz = authzFrom(objects, warnings);
  const externalServices = externalServicesFrom(objects, warnings);
  const gw = gatewaysFrom(objects, { services: serviceByKey, grants }, trustDomain, warnings);

  const model: MeshModel = { trustDomain, namespaces, services: withPolicies, endpoints: sortKeys(endpoints), workloads, routes: policy.routes, routeConditions, authz, policyConditions: policy.conditions, ...gw, warnings };
  if (opts.telemetry) model.telemetry = opts.telemetry;
  if (externalServices.length) model.externalServices = externalServices;
  if (opts.registryOnly) model.registryOnly = true;
  return model;
}

function sortKeys<T>(r: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(r).sort()) out[k] = r[k] as T;
  return out;
}

/** Whether an object is a discovery.k8s.io EndpointSlice (what the model reads endpoints from). */
export function isEndpointSlice(o: KubeObject): boolean {
  return o.kind === 'EndpointSlice' && (o.apiVersion === 'discovery.k8s.io' || o.apiVersion.startsWith('discovery.k8s.io/'));
}

/** `NS/NAME` of the Service an EndpointSlice belongs to (label `kubernetes.io/service-name`), or undefined without the label. */
export function sliceService(o: KubeObject): string | undefined {
  const name = o.metadata.labels?.['kubernetes.io/service-name'];
  return name ? keyOf(o.metadata.namespace ?? 'default', name) : undefined;
}

/** Looks a pod up by namespace and name (for the identity behind an endpoint). */
export type PodLookup = (namespace: string, name: string) => KubeObject | undefined;

/**
 * Endpoints by service key from EndpointSlices. Slices are read in namespace/name order and each
 * list is sorted, so the result does not depend on the order the slices come in (the controller's
 * incremental path relies on that to equal a full build).
 */
function endpointsFromSlices(slices: KubeObject[], podOf: PodLookup, trustDomain: string, warnings: ModelWarning[]): Record<string, Endpoint[]> {
  const endpoints: Record<string, Endpoint[]> = {};
  const ordered = [...slices].sort((a, b) => cmp(a.metadata.namespace ?? 'default', b.metadata.namespace ?? 'default') || cmp(a.metadata.name, b.metadata.name));
  for (const s of ordered) {
    const ns = s.metadata.namespace ?? 'default';
    const key = sliceService(s);
    if (!key) {
      warnings.push({ object: describe(s), message: 'no kubernetes.io/service-name label; skipped' });
      continue;
    }
    if (s.addressType === 'FQDN') continue;
    const ports: Record<string, number> = {};
    for (const p of arr(s.ports)) {
      const n = num(p.port);
      if (n !== undefined) ports[str(p.name) ?? ''] = n;
    }
    const list = (endpoints[key] ??= []);
    for (const e of arr(s.endpoints)) {
      const cond = isObject(e.conditions) ? e.conditions : {};
      // Kubernetes: a nil ready condition means ready.
      const ready = cond.ready !== false && cond.terminating !== true;
      const ref = isObject(e.targetRef) ? e.targetRef : undefined;
      const podName = ref?.kind === 'Pod' ? str(ref.name) : undefined;
      const pod = podName ? podOf(str(ref?.namespace) ?? ns, podName) : undefined;
      const addresses = Array.isArray(e.addresses) ? e.addresses.filter((a): a is string => typeof a === 'string') : [];
      for (const address of addresses) {
        const ep: Endpoint = { address, ready, ports: { ...ports } };
        if (podName) ep.pod = podName;
        if (pod) {
          const pspec = isObject(pod.spec) ? pod.spec : {};
          ep.identity = formatSpiffeId(trustDomain, ns, str(pspec.serviceAccountName) ?? 'default');
        }
        list.push(ep);
      }
    }
  }
  for (const list of Object.values(endpoints)) list.sort(compareEndpoints);
  return endpoints;
}

function compareEndpoints(a: Endpoint, b: Endpoint): number {
  return cmp(a.address, b.address) || cmp(JSON.stringify(a.ports), JSON.stringify(b.ports)) || Number(b.ready) - Number(a.ready) || cmp(a.pod ?? '', b.pod ?? '') || cmp(a.identity ?? '', b.identity ?? '');
}

function sameEndpoint(a: Endpoint, b: Endpoint): boolean {
  if (a.address !== b.address || a.ready !== b.ready || a.pod !== b.pod || a.identity !== b.identity) return false;
  const ak = Object.keys(a.ports);
  return ak.length === Object.keys(b.ports).length && ak.every((k) => a.ports[k] === b.ports[k]);
}

/** Whether two endpoint lists are equal, element by element. */
export function sameEndpoints(a: readonly Endpoint[] | undefined, b: readonly Endpoint[] | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  return a.every((e, i) => sameEndpoint(e, b[i]!));
}

/**
 * The model after an endpoint-only change: `slices` holds, for each service key whose
 * EndpointSlices changed, ALL of its current slices (none when they were all deleted). Everything
 * but `endpoints` is shared with `model`, and so are the endpoint lists of services whose
 * endpoints came out equal. `changed` lists the service keys whose endpoints really differ; when
 * it is empty the very same model is returned. Equal to `buildModel` of the changed objects as
 * long as the slices carry the service-name label and live in namespaces the model already has
 * (the controller checks both and rebuilds otherwise). Pure.
 */
export function updateEndpoints(model: MeshModel, slices: ReadonlyMap<string, KubeObject[]>, podOf: PodLookup): { model: MeshModel; changed: string[] } {
  const fresh = endpointsFromSlices([...slices.values()].flat(), podOf, model.trustDomain, []);
  const changed: string[] = [];
  for (const key of slices.keys()) if (!sameEndpoints(model.endpoints[key], fresh[key])) changed.push(key);
  if (!changed.length) return { model, changed };
  // The copy keeps the sorted key order; only adding or dropping a service needs a sort (and
  // building a 1,000-key object key by key costs a megabyte of garbage per update).
  const endpoints: Record<string, Endpoint[]> = { ...model.endpoints };
  let reorder = false;
  for (const key of changed) {
    const list = fresh[key];
    if (list) {
      reorder ||= !(key in endpoints);
      endpoints[key] = list;
    } else {
      delete endpoints[key];
      reorder = true;
    }
  }
  return { model: { ...model, endpoints: reorder ? sortKeys(endpoints) : endpoints }, changed: changed.sort() };
}

/** The AuthorizationPolicies that apply to a workload: its namespace's, with a matching or no selector. */
export function policiesFor(model: MeshModel, w: Workload): AuthzPolicy[] {
  return selecting(model.authz, w.namespace, w.labels);
}

/**
 * Services a proxy in `namespace` may reach: the whole mesh by default, or the namespaces listed
 * in its `mesh.dev/reachable-namespaces` annotation; plus every backend of a route on a reachable
 * service, so the resources stay consistent.
 */
export function reachableServices(model: MeshModel, namespace: string | undefined): MeshService[] {
  const ns = namespace ? model.namespaces.find((n) => n.name === namespace) : undefined;
  if (!ns?.reachable) return model.services;
  const allowed = new Set(ns.reachable);
  const keys = new Set(model.services.filter((s) => allowed.has(s.namespace)).map((s) => keyOf(s.namespace, s.name)));
  for (const r of model.routes) {
    if (!keys.has(r.parent)) continue;
    for (const rule of r.rules) {
      for (const b of rule.backends) keys.add(b.service);
      for (const m of rule.mirrors ?? []) keys.add(m.service);
    }
  }
  return model.services.filter((s) => keys.has(keyOf(s.namespace, s.name)));
}

/** The key `NS/NAME` the model uses for services. */
export function serviceKey(s: { namespace: string; name: string }): string {
  return keyOf(s.namespace, s.name);
}

const WORKLOAD_TYPES: readonly string[] = ['Deployment', 'StatefulSet', 'DaemonSet'];


/**
 * Objects with a Pod for each workload object that has none in the input (its pod template,
 * named after the workload): manifests usually hold Deployments, not Pods.
 */
export function withTemplatePods(objects: readonly KubeObject[]): KubeObject[] {
  return [...objects, ...templatePods(objects)];
}

/** The pods withTemplatePods adds: one per workload object none of whose own pods is among `objects`. */
export function templatePods(objects: readonly KubeObject[]): KubeObject[] {
  const podsByNs = new Map<string | undefined, KubeObject[]>();
  for (const o of objects) {
    if (o.kind !== 'Pod') continue;
    const list = podsByNs.get(o.metadata.namespace);
    if (list) list.push(o);
    else podsByNs.set(o.metadata.namespace, [o]);
  }
  const out: KubeObject[] = [];
  for (const w of objects) {
    if (!WORKLOAD_TYPES.includes(w.kind) || podsByNs.get(w.metadata.namespace)?.some((p) => selectsPod(w, p))) continue;
    const t = ((w.spec ?? {}) as { template?: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: unknown } }).template ?? {};
    out.push({ apiVersion: 'v1', kind: 'Pod', metadata: { name: w.metadata.name, namespace: w.metadata.namespace, labels: t.metadata?.labels ?? {}, annotations: t.metadata?.annotations ?? {} }, spec: t.spec ?? {}, status: { phase: 'Running' } });
  }
  return out;
}

/**
 * `model` (built with `defaultMtls`) with the workloads of `pods` added, as buildModel makes them
 * when the pods are among its objects: for offline views that stand workload templates in for pods
 * without building the rest of the model again.
 */
export function withPods(model: MeshModel, pods: readonly KubeObject[], defaultMtls: MtlsMode = 'PERMISSIVE'): MeshModel {
  if (!pods.length) return model;
  const added = workloadsFrom(pods, model.services, new Map(model.namespaces.map((n) => [n.name, n.mtls])), model.trustDomain, defaultMtls);
  return { ...model, workloads: [...model.workloads, ...added].sort(byNsName) };
}

/** Whether a workload object's matchLabels selector selects a pod (matchExpressions are not read: such workloads get a template pod). */
function selectsPod(w: KubeObject, pod: KubeObject): boolean {
  const spec = isObject(w.spec) ? w.spec : {};
  const sel = isObject(spec.selector) ? strMap(spec.selector.matchLabels) : undefined;
  return mapSelects(sel, pod.metadata.labels ?? {});
}
