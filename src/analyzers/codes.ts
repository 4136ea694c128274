import type { FindingCode } from './types.js';

/**
 * Every finding code, once. docs/checks.md has a section per code (anchor: the code in lower case);
 * a test keeps the two in step. Codes are never reused or renumbered.
 */
export const CODES = {
  routeParentMissing: { code: 'MSH0001', severity: 'error', title: 'Route parent Service not found', hint: "fix the parentRef's name or namespace, or create the Service" },
  routeParentPort: { code: 'MSH0002', severity: 'error', title: 'Route parent port not on the Service', hint: "use one of the Service's ports, or drop port to attach to all of them" },
  routeBackendMissing: { code: 'MSH0003', severity: 'error', title: 'Route backend Service not found', hint: "fix the backendRef or create the Service (e.g. the canary's)" },
  routeBackendPort: { code: 'MSH0004', severity: 'error', title: 'Route backend port missing or not on the Service', hint: "set port to one of the backend Service's ports" },
  routeZeroWeights: { code: 'MSH0005', severity: 'error', title: 'Route rule weights sum to zero', hint: "give at least one backend a weight above 0" },
  routeConflict: { code: 'MSH0006', severity: 'warning', title: 'Two routes claim the same parent and match', hint: "merge the two routes, or make their matches differ (an HTTPRoute and a GRPCRoute cannot share a parent at all)" },
  authzNoWorkload: { code: 'MSH0007', severity: 'warning', title: 'AuthorizationPolicy selects no workload', hint: "fix spec.selector.matchLabels to match the pods' labels" },
  authzUnknownAccount: { code: 'MSH0008', severity: 'warning', title: 'AuthorizationPolicy names an unknown service account', hint: "fix the principal (TRUST_DOMAIN/ns/NS/sa/SA) or create the ServiceAccount" },
  strictUninjectedCaller: { code: 'MSH0009', severity: 'error', title: 'STRICT mTLS service called by a workload without a sidecar', hint: "inject the caller (label its namespace mesh.dev/inject=enabled), or make the target PERMISSIVE" },
  portNoProtocol: { code: 'MSH0010', severity: 'warning', title: 'Service port declares no protocol', hint: "name the port with a protocol prefix (http-web, grpc-api, tcp-db) or set appProtocol" },
  workloadNoService: { code: 'MSH0011', severity: 'info', title: 'Workload selected by no Service', hint: "add a Service selecting it if it serves traffic; hide with --output-threshold warning" },
  annotationUnknown: { code: 'MSH0012', severity: 'warning', title: 'Unknown mesh.dev annotation', hint: "fix the key (see docs/annotations.md) or remove it" },
  annotationInvalid: { code: 'MSH0013', severity: 'error', title: 'Invalid mesh.dev annotation value', hint: "fix the value (see docs/annotations.md)" },
  routeNotProgrammed: { code: 'MSH0014', severity: 'error', title: 'Route not programmed: a match mesh cannot translate', hint: 'fix the match the message names (the route is Accepted=False and unused until then)' },
  routeRuleFails: { code: 'MSH0015', severity: 'error', title: 'Route rule answers HTTP 500: it cannot forward', hint: 'remove the unsupported filter (supported: RequestHeaderModifier, ResponseHeaderModifier, RequestMirror, on HTTPRoutes also RequestRedirect and URLRewrite; on a backendRef: the two header modifiers) or give the rule a backend' },
  routeRefNotPermitted: { code: 'MSH0016', severity: 'error', title: 'Route backendRef not permitted or not a Service', hint: 'add a ReferenceGrant in the backend namespace allowing the route kind from the route namespace, or point at a Service' },
  jobProxyHangs: { code: 'MSH0018', severity: 'warning', title: 'Meshed Job would never complete', hint: 're-inject with this mesh (the proxy then exits with the app), drop shareProcessNamespace: false, or use native sidecars (Kubernetes >= 1.29, --native-sidecar on)' },
  serverFirstHttp: { code: 'MSH0019', severity: 'error', title: 'HTTP/gRPC declared on a server-speaks-first port', hint: 'declare the port opaque TCP: name it tcp-NAME (tcp-mysql) or set appProtocol: tcp' },
  nameInvalid: { code: 'MSH0017', severity: 'error', title: 'Object name Kubernetes would refuse', hint: 'rename it: lowercase letters, digits and "-" (and "." where a subdomain is allowed), starting and ending with a letter or digit' },
  gatewayRouteNotAttached: { code: 'MSH0020', severity: 'error', title: 'HTTPRoute not attached to its Gateway, or a backend unresolved there', hint: 'the message gives the Gateway API reason: fix the parentRef (sectionName, port), the listener\'s allowedRoutes or hostname, or the backendRef (a ReferenceGrant for another namespace)' },
  gatewayListenerInvalid: { code: 'MSH0021', severity: 'error', title: 'Gateway listener not programmed', hint: 'the message gives the Gateway API reason: fix the certificateRefs (a kubernetes.io/tls Secret; a ReferenceGrant for another namespace), the protocol (HTTP, HTTPS) or the conflicting listener' },
  // MSH0030-0039: authorization and egress (issue 20); numbered apart so parallel work does not collide.
  authzBadIdentity: { code: 'MSH0030', severity: 'error', title: 'AuthorizationPolicy principal or namespace that can match no caller', hint: 'write principals as TRUST_DOMAIN/ns/NS/sa/SA (or spiffe://..., *, PREFIX*, *SUFFIX) in the mesh trust domain, and namespaces as names or *' },
  authzIneffective: { code: 'MSH0031', severity: 'warning', title: 'AuthorizationPolicy rule that never takes effect', hint: 'drop the methods/paths on opaque ports (name the port http-... or set appProtocol), or narrow the DENY rule that shadows the ALLOW policy' },
  externalServiceInvalid: { code: 'MSH0032', severity: 'error', title: 'ExternalService host or port mesh cannot program', hint: 'use DNS names (no wildcards), ports 1-65535 with HTTP, HTTP2, GRPC, HTTPS, TLS or TCP, one protocol per port, each host:port once' },
  egressUnregistered: { code: 'MSH0033', severity: 'info', title: 'Workload calls a host that registry-only would block', hint: 'register the host with an ExternalService before setting outboundTrafficPolicy: registry-only (docs/egress.md)' },
  policyTargetMissing: { code: 'MSH0034', severity: 'error', title: 'TrafficPolicy targets nothing', hint: 'fix targetRefs (a Service or HTTPRoute in the policy namespace; sectionName a port name or rule name), or create the target' },
  policyConflict: { code: 'MSH0035', severity: 'warning', title: 'TrafficPolicy conflicts with an older policy on the same target', hint: 'merge the two policies, or point this one at another target or sectionName; the oldest policy wins' },
  policyInvalid: { code: 'MSH0036', severity: 'error', title: 'TrafficPolicy value mesh refuses', hint: 'fix the field the message names (limits are whole numbers of at least 1, durations longer than 0; see docs/policy.md)' },
} as const satisfies Record<string, FindingCode>;

/** All codes in order. */
export const ALL_CODES: readonly FindingCode[] = Object.values(CODES).sort((a, b) => a.code.localeCompare(b.code));
