/**
 * The mesh's view of a cluster: what `buildModel` derives from Kubernetes objects and what the xDS
 * translation, analyzers and status commands consume. Plain data, sorted, no I/O.
 */

import type { GatewayRouteCondition, MeshGateway, MeshGatewayClass } from './gateway.js';

/** How a port's traffic is treated: HTTP-aware (routes, retries, RBAC on paths) or opaque TCP. */
export type Protocol = 'http' | 'http2' | 'grpc' | 'tcp' | 'tls';

/** mTLS mode of a workload's inbound side. */
export type MtlsMode = 'STRICT' | 'PERMISSIVE' | 'DISABLE';

/** A port of a Service. */
export interface ServicePort {
  name: string;
  port: number;
  /** The Service's targetPort: a number, or a container port name resolved per pod. */
  targetPort: number | string;
  protocol: Protocol;
}

/** Outlier detection for a destination service (from the `mesh.dev/outlier-detection` annotation). */
export interface OutlierPolicy {
  consecutive5xx?: number;
  consecutiveGatewayErrors?: number;
  intervalMs: number;
  baseEjectionTimeMs: number;
  maxEjectionPercent: number;
  /** Failure-percentage ejection (what proxyless gRPC implements). */
  failurePercentageThreshold?: number;
  failurePercentageMinimumHosts?: number;
  failurePercentageRequestVolume?: number;
  enforcingFailurePercentage?: number;
}

/** Circuit breaker thresholds for a destination service (`mesh.dev/circuit-breaker`). */
export interface CircuitBreakerPolicy {
  maxConnections?: number;
  maxPendingRequests?: number;
  maxRequests?: number;
  maxRetries?: number;
}

/** How a cluster picks an endpoint; RingHash and Maglev hash one request property so equal values stick to one endpoint. */
export interface LoadBalancerPolicy {
  type: 'RoundRobin' | 'LeastRequest' | 'RingHash' | 'Maglev' | 'Random';
  /** Exactly one key, for RingHash and Maglev. Header names lower-cased. */
  hash?: { header: string } | { cookie: { name: string; ttlMs?: number } } | { sourceIP: true };
}

/** Local rate limit: a token bucket per pod (Envoy local_ratelimit); excess requests get 429. */
export interface RateLimitPolicy {
  /** Tokens added per interval. */
  requests: number;
  intervalMs: number;
  /** Bucket size (max_tokens); at least `requests`. */
  burst: number;
}

/** What a TrafficPolicy (or the older Service annotations) sets for a Service port's clients and pods. */
export interface BackendPolicy {
  /** Circuit breaking: Envoy cluster circuit_breakers thresholds. */
  connectionPool?: CircuitBreakerPolicy;
  outlier?: OutlierPolicy;
  loadBalancer?: LoadBalancerPolicy;
  idleTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Enforced by the sidecars of the pods behind the port (inbound). */
  rateLimit?: RateLimitPolicy;
}

/** The Accepted condition of a TrafficPolicy (GEP-713 reasons). */
export interface PolicyCondition {
  /** `NS/NAME` of the policy. */
  policy: string;
  type: 'Accepted';
  status: 'True' | 'False';
  reason: 'Accepted' | 'Conflicted' | 'Invalid' | 'TargetNotFound';
  message: string;
}

/** A Service in the mesh. */
export interface MeshService {
  name: string;
  namespace: string;
  /** NAME.NS.svc.cluster.local */
  fqdn: string;
  clusterIP?: string;
  ports: ServicePort[];
  selector?: Record<string, string>;
  outlier?: OutlierPolicy;
  circuitBreaker?: CircuitBreakerPolicy;
  /** TrafficPolicy for every port (read through `backendPolicy(service, port)`, which merges the annotations). */
  policy?: BackendPolicy;
  /** TrafficPolicy per port number (a targetRef with sectionName), block by block over `policy`. */
  portPolicies?: Record<number, BackendPolicy>;
}

/** One address behind a Service, with its port numbers by Service port name. */
export interface Endpoint {
  address: string;
  ready: boolean;
  /** EndpointSlice port name -> port number. */
  ports: Record<string, number>;
  pod?: string;
  /** SPIFFE identity of the pod behind the address, when the pod is known. */
  identity?: string;
}

/** A pod that runs in the mesh: where its identity and inbound policy come from. */
export interface Workload {
  name: string;
  namespace: string;
  serviceAccount: string;
  /** spiffe://TRUST_DOMAIN/ns/NS/sa/SA */
  identity: string;
  ip?: string;
  labels: Record<string, string>;
  mtls: MtlsMode;
  /** Inbound ports: target ports of Services selecting this pod, with their protocol (and the Service port that targets it). */
  ports: { port: number; protocol: Protocol; service: string; servicePort?: number }[];
  /** Telemetry set by the pod's annotations (over its namespace's and the mesh's). */
  telemetry?: TelemetryOverride;
}

/**
 * A span tag taken from one place: a fixed `literal`, a request `header` or an `environment`
 * variable of the proxy, the last two with a `default` when absent (Envoy's CustomTag).
 */
export type CustomTag = { literal: string } | { header: string; default?: string } | { environment: string; default?: string };

/** Distributed tracing of every sidecar HTTP connection manager (values `tracing.*`, docs/observability.md). */
export interface TracingConfig {
  enabled: boolean;
  /** Share of requests that start a trace, in percent (0-100, fractions allowed). */
  sampling: number;
  /** opentelemetry: OTLP/gRPC, W3C traceparent; zipkin: Zipkin v2 JSON over HTTP, B3 headers. */
  provider: 'opentelemetry' | 'zipkin';
  /** Collector address as host:port. */
  endpoint: string;
  /** Span tags by tag name. */
  customTags: Record<string, CustomTag>;
}

/** Envoy stdout access logs of every sidecar listener (values `accessLog.*`). */
export interface AccessLogConfig {
  /** Off by default: a line per request and connection costs proxy CPU and node disk. */
  enabled: boolean;
  format: 'text' | 'json';
}

/** The mesh-wide telemetry settings (from the installed values). */
export interface MeshTelemetry {
  tracing: TracingConfig;
  accessLog: AccessLogConfig;
}

/** What a namespace or pod annotation changes: sampling (`off`: no tracing at all) and the access log. */
export interface TelemetryOverride {
  traceSampling?: number | 'off';
  accessLog?: 'on' | 'off' | 'text' | 'json';
}

/** A string comparison of a Gateway API match: `Exact` (case-sensitive) or an RE2 `RegularExpression`. */
export interface ValueMatch {
  name: string;
  type: 'Exact' | 'RegularExpression';
  value: string;
}

/** A GRPCRoute method match as written, kept for GRPCRoute precedence (characters of service, then of method). */
export interface GrpcMethodMatch {
  type: 'Exact' | 'RegularExpression';
  service?: string;
  method?: string;
}

/** A Gateway API HTTPRoute match (or a GRPCRoute match, as the path it implies): every part given must hold (AND). */
export interface RouteMatch {
  /**
   * `PathPrefix` matches whole path segments (`/v2` matches `/v2` and `/v2/x`, not `/v2x`); its value
   * has no trailing `/` except the root. `Prefix` is a plain string prefix (a GRPCRoute service-only
   * match: `/pkg.Service/`).
   */
  path?: { type: 'Exact' | 'PathPrefix' | 'RegularExpression' | 'Prefix'; value: string };
  /** Set on GRPCRoute matches: the method match the path was made from. */
  grpc?: GrpcMethodMatch;
  /** Header names lower-cased; the first of equal names only (as the spec says). */
  headers: ValueMatch[];
  /** Query parameter names are case-sensitive. */
  query: ValueMatch[];
  method?: string;
}

/** A weighted destination of a route rule: a Service port. */
export interface RouteBackend {
  /** `NS/NAME` key of the backend Service. */
  service: string;
  port: number;
  weight: number;
  /**
   * Why the backendRef cannot be used (Gateway API ResolvedRefs reason: BackendNotFound,
   * RefNotPermitted, InvalidKind); its share of requests gets HTTP 500, as the spec requires.
   */
  unresolved?: { reason: 'BackendNotFound' | 'RefNotPermitted' | 'InvalidKind'; message: string };
  /** Backend-level RequestHeaderModifier: applied only to requests sent to this backend. */
  requestHeaders?: HeaderEdits;
  /** Backend-level ResponseHeaderModifier: applied only to responses from this backend. */
  responseHeaders?: HeaderEdits;
}

/** Header edits of a RequestHeaderModifier or ResponseHeaderModifier filter. */
export interface HeaderEdits {
  set: { name: string; value: string }[];
  add: { name: string; value: string }[];
  remove: string[];
}

/** A path change of a redirect or rewrite: the whole path, or the prefix the rule matched. */
export interface PathModifier {
  type: 'ReplaceFullPath' | 'ReplacePrefixMatch';
  value: string;
}

/** A RequestRedirect filter: the rule answers with a redirect instead of forwarding. */
export interface RouteRedirect {
  scheme?: 'http' | 'https';
  hostname?: string;
  /** Port of the Location; undefined: the scheme's well-known port when a scheme is set, else the port the request came to. */
  port?: number;
  path?: PathModifier;
  statusCode: number;
}

/** A URLRewrite filter: the request is forwarded with another host and/or path. */
export interface RouteRewrite {
  hostname?: string;
  path?: PathModifier;
}

/** Retry policy of a route rule. */
export interface RetryPolicy {
  /** Retries after the first try. */
  attempts: number;
  perTryTimeoutMs?: number;
  backoffMs?: number;
  /** Envoy/gRPC retry_on conditions, e.g. `5xx`, `unavailable`, `retriable-status-codes`. */
  retryOn: string[];
  /** HTTP status codes retried (Gateway API `retry.codes`). */
  codes: number[];
}

/** Fault injection of a route rule (`mesh.dev/fault`). */
export interface FaultPolicy {
  abort?: { percent: number; httpStatus?: number; grpcStatus?: number };
  delay?: { percent: number; fixedDelayMs: number };
}

/** A Gateway API RequestMirror filter: copies of requests go to a Service port; responses are dropped. */
export interface RouteMirror {
  /** `NS/NAME` key of the mirror Service. */
  service: string;
  port: number;
  /** Share of requests mirrored, 0-100 (Gateway API `percent` or `fraction`; default 100). */
  percent: number;
}

/** One rule of an HTTPRoute, translated: first match wins in order. */
export interface RouteRule {
  /** The rule's `name` (Gateway API), what a policy's sectionName refers to. */
  name?: string;
  matches: RouteMatch[];
  backends: RouteBackend[];
  /** RequestMirror filters (Envoy request_mirror_policies; proxyless gRPC has no mirroring). */
  mirrors?: RouteMirror[];
  timeoutMs?: number;
  backendTimeoutMs?: number;
  retry?: RetryPolicy;
  fault?: FaultPolicy;
  /** Local rate limit of the rule's requests at the parent Service's pods (TrafficPolicy on the route or rule). */
  rateLimit?: RateLimitPolicy;
  requestHeaders?: HeaderEdits;
  responseHeaders?: HeaderEdits;
  redirect?: RouteRedirect;
  rewrite?: RouteRewrite;
  /**
   * Set when the rule cannot forward at all (a filter mesh does not implement, or no backendRef
   * with weight): requests it matches get HTTP 500 instead of falling through to another rule.
   */
  failure?: { reason: 'UnsupportedValue' | 'NoBackends'; message: string };
}

/** The Gateway API route kinds mesh programs on Service parents. */
export type RouteKind = 'HTTPRoute' | 'GRPCRoute';

/** An HTTPRoute or GRPCRoute attached to a Service port (GAMMA). */
export interface MeshRoute {
  /** Absent: HTTPRoute. */
  kind?: 'GRPCRoute';
  name: string;
  namespace: string;
  /** `NS/NAME` of the parent Service. */
  parent: string;
  /** Parent port, or undefined for every port of the parent. */
  port?: number;
  /**
   * A consumer route (its namespace is not the parent Service's) applies only to clients in its
   * own namespace, and there replaces the producer routes of that parent (GAMMA).
   */
  consumer: boolean;
  /** metadata.creationTimestamp: among equal matches the oldest route wins. */
  createdAt?: string;
  rules: RouteRule[];
}

/**
 * A Gateway API route condition mesh sets on a route's status for one parent (or would, offline):
 * Accepted, ResolvedRefs or PartiallyInvalid, with the spec's reason.
 */
export interface RouteCondition {
  /** Absent: HTTPRoute. */
  kind?: 'GRPCRoute';
  /** `NS/NAME` of the route. */
  route: string;
  /** `NS/NAME` of the parent Service, with `:PORT` when the parentRef names one. */
  parent: string;
  type: 'Accepted' | 'ResolvedRefs' | 'PartiallyInvalid';
  status: 'True' | 'False';
  reason: string;
  message: string;
}

/** A `from` clause: any listed principal or namespace matches. */
export interface AuthzSource {
  principals: string[];
  namespaces: string[];
}

/** A `to` clause: every non-empty list must match. */
export interface AuthzOperation {
  ports: number[];
  methods: string[];
  paths: string[];
  /** Every port it listed was outside 1-65535: an ALLOW on it never matches, a DENY applies to any port (fail closed). */
  invalidPorts?: true;
}

/** One AuthorizationPolicy rule: matches when any `from` and any `to` match (empty lists match all). */
export interface AuthzRule {
  from: AuthzSource[];
  to: AuthzOperation[];
}

/** Our AuthorizationPolicy (mesh.dev/v1alpha1). */
export interface AuthzPolicy {
  name: string;
  namespace: string;
  /** Pod labels; undefined selects every workload in the namespace. */
  selector?: Record<string, string>;
  action: 'ALLOW' | 'DENY';
  rules: AuthzRule[];
}

/** A port of an ExternalService. */
export interface ExternalPort {
  /** Port the application connects to. */
  number: number;
  name: string;
  /** `http` (routed by Host), `tls` (routed by SNI), `tcp` (by port alone). */
  protocol: 'http' | 'tls' | 'tcp';
  /** Port on the external host (differs from `number` with TLS origination, e.g. 80 -> 443). */
  targetPort: number;
}

/** An ExternalService (mesh.dev/v1alpha1): hosts outside the mesh that sidecars may reach, also under registry-only. */
export interface ExternalService {
  name: string;
  namespace: string;
  /** DNS names, lower case. */
  hosts: string[];
  ports: ExternalPort[];
  /** The sidecar originates TLS (SNI: the host) on `http` ports: the application speaks plain HTTP. */
  tlsOrigination: boolean;
  /** metadata.creationTimestamp: when two claim the same host and port, the oldest wins. */
  createdAt?: string;
}

/** A namespace's mesh settings. */
export interface MeshNamespace {
  name: string;
  mtls: MtlsMode;
  /** Telemetry set by the namespace's annotations (over the mesh's, under a pod's). */
  telemetry?: TelemetryOverride;
  /**
   * Namespaces whose services proxies here may reach (own namespace always included), from the
   * `mesh.dev/reachable-namespaces` annotation; undefined means the whole mesh.
   */
  reachable?: string[];
  /**
   * Workloads here are denied every call no ALLOW policy allows (label `mesh.dev/default-deny`,
   * else the mesh-wide `authorization.defaultDeny` value).
   */
  defaultDeny: boolean;
}

/** Something in the input the model could not use; the object is skipped or the field ignored. */
export interface ModelWarning {
  object: string;
  message: string;
}

/** The whole model. Arrays are sorted by namespace then name so equal inputs give equal models. */
export interface MeshModel {
  trustDomain: string;
  /** Tracing and access logs mesh-wide (undefined: both off); annotations refine it per namespace and pod. */
  telemetry?: MeshTelemetry;
  namespaces: MeshNamespace[];
  services: MeshService[];
  /** `NS/NAME` of a Service -> its endpoints (from all of its EndpointSlices). */
  endpoints: Record<string, Endpoint[]>;
  workloads: Workload[];
  routes: MeshRoute[];
  /** Conditions of every HTTPRoute and GRPCRoute with a Service parent, in kind, route then parent order. */
  routeConditions: RouteCondition[];
  authz: AuthzPolicy[];
  /** ExternalServices, sorted by namespace and name (absent: none). */
  externalServices?: ExternalService[];
  /** values `outboundTrafficPolicy: registry-only`: calls to unknown destinations are refused. */
  registryOnly?: boolean;
  /** The Accepted condition of every TrafficPolicy, by policy (buildModel always sets it). */
  policyConditions?: PolicyCondition[];
  /** GatewayClasses (all, `ours` marks mesh's), Gateways of mesh's classes, and conditions of routes on them (src/model/gateway.ts); buildModel always sets them, absent reads as none. */
  gatewayClasses?: MeshGatewayClass[];
  gateways?: MeshGateway[];
  gatewayRouteConditions?: GatewayRouteCondition[];
  warnings: ModelWarning[];
}
