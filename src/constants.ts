/**
 * Names shared by the CLI, the manifests, the injector and the control plane. Changing one is a
 * breaking change for installed meshes: upgrade relies on them to find what it owns.
 */

/** API group of our CRDs, and prefix of our labels and annotations. */
export const MESH_DOMAIN = 'mesh.dev';
export const DEFAULT_NAMESPACE = 'mesh-system';
export const CONTROLLER_NAME = 'mesh-controller';
export const WEBHOOK_NAME = 'mesh-sidecar-injector';

export const LABEL_PART_OF = 'app.kubernetes.io/part-of';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const LABEL_VERSION = 'app.kubernetes.io/version';
export const LABEL_NAME = 'app.kubernetes.io/name';
export const LABEL_COMPONENT = 'app.kubernetes.io/component';
export const PART_OF = 'mesh';
export const MANAGED_BY = 'mesh';

/** Namespace label that turns on injection: `mesh.dev/inject=enabled`. */
export const LABEL_INJECT = `${MESH_DOMAIN}/inject`;
/** Pod annotation that opts a pod in or out (`enabled` / `disabled`). */
export const ANNOTATION_INJECT = `${MESH_DOMAIN}/inject`;
/** Label on injected pods carrying the proxy version (labels are selectable; annotations are not). */
export const LABEL_PROXY_VERSION = `${MESH_DOMAIN}/proxy-version`;
/** Annotation on injected pods recording what injection changed (JSON), used by uninject. */
export const ANNOTATION_STATUS = `${MESH_DOMAIN}/status`;

/** Audience of the projected ServiceAccount token the proxy presents to the CA. */
export const TOKEN_AUDIENCE = 'mesh-ca';
export const DEFAULT_TRUST_DOMAIN = 'cluster.local';

/** Field manager name for server-side apply. */
export const FIELD_MANAGER = 'mesh';

/**
 * The installed mesh's configuration: ConfigMap MESH_CONFIG_NAME in the mesh namespace, whose
 * data[MESH_CONFIG_KEY] is the full resolved Values as YAML. `mesh inject --from-cluster`, the
 * webhook and `mesh upgrade` read it; install writes it.
 */
export const MESH_CONFIG_NAME = 'mesh-config';
export const MESH_CONFIG_KEY = 'values.yaml';
/** Secret (type kubernetes.io/tls plus ca.crt) holding the root CA in the mesh namespace; the key never leaves it. */
export const ROOT_CA_SECRET = 'mesh-root-ca';
/** Secret (key `token`) in the mesh namespace holding the token the controller's /debug endpoints ask for; the controller creates it. */
export const DEBUG_TOKEN_SECRET = 'mesh-controller-debug';
/** Request header carrying that token (the API server's pod proxy drops Authorization, not this). */
export const DEBUG_TOKEN_HEADER = 'x-mesh-debug-token';
/** ConfigMap holding the trust bundle (all current roots, PEM) that workloads trust. */
export const TRUST_BUNDLE_CONFIGMAP = 'mesh-trust-bundle';

/** Names of what `mesh inject` adds to a pod (see docs/annotations.md). */
export const PROXY_CONTAINER = 'mesh-proxy';
export const INIT_CONTAINER = 'mesh-init';
/** Projected ServiceAccount token (audience TOKEN_AUDIENCE) the proxy presents to the control plane. */
export const TOKEN_VOLUME = 'mesh-token';
export const TOKEN_MOUNT_PATH = '/var/run/secrets/mesh/tokens';
export const TOKEN_FILE = 'mesh-token';
/** Lifetime of the projected token; kubelet rotates it at 80%. */
export const TOKEN_EXPIRATION_SECONDS = 3600;
/** The trust bundle ConfigMap (TRUST_BUNDLE_CONFIGMAP, key ca.crt) mounted into the proxy. */
export const TRUST_BUNDLE_VOLUME = 'mesh-trust-bundle';
export const TRUST_BUNDLE_MOUNT_PATH = '/var/run/secrets/mesh/ca';
export const TRUST_BUNDLE_KEY = 'ca.crt';
/**
 * The emptyDir shared by mesh-init and mesh-proxy: mesh-init (`mesh proxy-init --bootstrap-out`)
 * writes the Envoy bootstrap there at pod start; the proxy runs `envoy -c BOOTSTRAP_PATH`.
 */
export const PROXY_CONFIG_VOLUME = 'mesh-proxy-config';
export const PROXY_CONFIG_MOUNT_PATH = '/etc/mesh/proxy';
export const BOOTSTRAP_FILE = 'envoy-bootstrap.json';
/** Where mesh-init writes the bootstrap and where the proxy reads it: one constant, so they cannot drift. */
export const BOOTSTRAP_PATH = `${PROXY_CONFIG_MOUNT_PATH}/${BOOTSTRAP_FILE}`;
/** Path prefix on the proxy's readiness port under which rewritten kubelet HTTP probes are served. */
export const APP_HEALTH_PREFIX = '/app-health';

/** Pod annotations `mesh inject` reads (documented in docs/annotations.md). */
export const ANNOTATION_PROXY_CPU = `${MESH_DOMAIN}/proxy-cpu`;
export const ANNOTATION_PROXY_MEMORY = `${MESH_DOMAIN}/proxy-memory`;
export const ANNOTATION_PROXY_CPU_LIMIT = `${MESH_DOMAIN}/proxy-cpu-limit`;
export const ANNOTATION_PROXY_MEMORY_LIMIT = `${MESH_DOMAIN}/proxy-memory-limit`;
export const ANNOTATION_EXCLUDE_INBOUND_PORTS = `${MESH_DOMAIN}/exclude-inbound-ports`;
export const ANNOTATION_EXCLUDE_OUTBOUND_PORTS = `${MESH_DOMAIN}/exclude-outbound-ports`;
export const ANNOTATION_EXCLUDE_OUTBOUND_IP_RANGES = `${MESH_DOMAIN}/exclude-outbound-ip-ranges`;
export const ANNOTATION_INCLUDE_OUTBOUND_IP_RANGES = `${MESH_DOMAIN}/include-outbound-ip-ranges`;
export const ANNOTATION_HOLD_APPLICATION = `${MESH_DOMAIN}/hold-application-until-proxy-starts`;
export const ANNOTATION_REWRITE_PROBES = `${MESH_DOMAIN}/rewrite-app-probes`;
/** Namespace or pod annotation: mTLS mode of inbound traffic (`STRICT`, `PERMISSIVE`, `DISABLE`). */
export const ANNOTATION_MTLS = `${MESH_DOMAIN}/mtls`;
/** Namespace label: `true` denies every call no ALLOW AuthorizationPolicy allows (`false` opts out of the mesh-wide default). */
export const LABEL_DEFAULT_DENY = `${MESH_DOMAIN}/default-deny`;
/** Namespace annotation scoping what its proxies receive: comma-separated namespaces (own always included). */
export const ANNOTATION_REACHABLE = `${MESH_DOMAIN}/reachable-namespaces`;
/** Namespace or pod annotation: trace sampling in percent (`0`..`100`) or `off` (no tracing), over `tracing.sampling`. */
export const ANNOTATION_TRACE_SAMPLING = `${MESH_DOMAIN}/trace-sampling`;
/** Namespace or pod annotation: access log `on` (the mesh's format), `text`, `json` or `off`, over `accessLog.*`. */
export const ANNOTATION_ACCESS_LOG = `${MESH_DOMAIN}/access-log`;
/** HTTPRoute annotation (JSON): retry policy for every rule without a Gateway API `retry` field. */
export const ANNOTATION_RETRY = `${MESH_DOMAIN}/retry`;
/** HTTPRoute annotation (JSON): fault injection (abort, delay) for every rule. */
export const ANNOTATION_FAULT = `${MESH_DOMAIN}/fault`;
/** Service annotation (JSON): outlier detection for traffic to the service. */
export const ANNOTATION_OUTLIER = `${MESH_DOMAIN}/outlier-detection`;
/** Service annotation (JSON): circuit breaker thresholds for traffic to the service. */
export const ANNOTATION_CIRCUIT_BREAKER = `${MESH_DOMAIN}/circuit-breaker`;

/** API group/version and kind of the Gateway API HTTPRoute that `mesh route` writes (GAMMA: parentRef a Service). */
export const HTTPROUTE_API_VERSION = 'gateway.networking.k8s.io/v1';
export const HTTPROUTE_KIND = 'HTTPRoute';
/** The Gateway API controllerName of mesh's GatewayClasses (the ingress gateway controller). */
export const GATEWAY_CLASS_CONTROLLER = `${MESH_DOMAIN}/gateway-controller`;
/** The GatewayClass `mesh install` creates. */
export const GATEWAY_CLASS_NAME = 'mesh';
/** Suffix of the Deployment, Service and ServiceAccount provisioned for a Gateway (`NAME-mesh`). */
export const GATEWAY_WORKLOAD_SUFFIX = '-mesh';
/** Name of the HTTPRoute CRD, which `mesh install --gateway-api` installs. */
export const HTTPROUTE_CRD = 'httproutes.gateway.networking.k8s.io';
/** HTTPRoute annotation (JSON): the canary set-up `mesh route canary` rendered the route from (docs/routing.md). */
export const ANNOTATION_CANARY = `${MESH_DOMAIN}/canary`;
/** HTTPRoute annotation (JSON): rollout state (phase, step, weights, gate readings) read by `mesh route status`. */
export const ANNOTATION_ROLLOUT = `${MESH_DOMAIN}/rollout`;

/** Pod template annotation install sets on the controller: hash of mesh-config, so a change rolls the pods. */
export const ANNOTATION_CONFIG_HASH = `${MESH_DOMAIN}/config-hash`;

/**
 * Annotation listing finding codes `mesh check` ignores on the object carrying it (and, on a
 * workload, its pod template): `mesh.dev/check-suppress: "MSH0004,MSH0007"`.
 */
export const ANNOTATION_CHECK_SUPPRESS = `${MESH_DOMAIN}/check-suppress`;

/**
 * Every mesh.dev annotation key the mesh understands, the one list `mesh check` (MSH0012/MSH0013)
 * and docs use. Keep in step with docs/annotations.md when adding a key (a test checks both).
 */
export const KNOWN_MESH_ANNOTATIONS: readonly string[] = [
  ANNOTATION_INJECT,
  ANNOTATION_STATUS,
  ANNOTATION_MTLS,
  ANNOTATION_REACHABLE,
  ANNOTATION_RETRY,
  ANNOTATION_FAULT,
  ANNOTATION_OUTLIER,
  ANNOTATION_CIRCUIT_BREAKER,
  ANNOTATION_PROXY_CPU,
  ANNOTATION_PROXY_MEMORY,
  ANNOTATION_PROXY_CPU_LIMIT,
  ANNOTATION_PROXY_MEMORY_LIMIT,
  ANNOTATION_EXCLUDE_INBOUND_PORTS,
  ANNOTATION_EXCLUDE_OUTBOUND_PORTS,
  ANNOTATION_EXCLUDE_OUTBOUND_IP_RANGES,
  ANNOTATION_INCLUDE_OUTBOUND_IP_RANGES,
  ANNOTATION_HOLD_APPLICATION,
  ANNOTATION_REWRITE_PROBES,
  ANNOTATION_CANARY,
  ANNOTATION_ROLLOUT,
  ANNOTATION_CONFIG_HASH,
  ANNOTATION_CHECK_SUPPRESS,
  ANNOTATION_TRACE_SAMPLING,
  ANNOTATION_ACCESS_LOG,
];

/** The endpoint-less cluster outboundTrafficPolicy registry-only routes unregistered calls to (model/egress.ts); stat and edges read its stats as BLOCKED. */
export const EGRESS_BLOCKED_CLUSTER = 'BlockedByRegistryOnly';
