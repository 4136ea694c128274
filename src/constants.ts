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
/** ConfigMap holding the trust bundle (all current roots, PEM) that workloads trust. */
export const TRUST_BUNDLE_CONFIGMAP = 'mesh-trust-bundle';

/** Namespace or pod annotation: mTLS mode of inbound traffic (`STRICT`, `PERMISSIVE`, `DISABLE`). */
export const ANNOTATION_MTLS = `${MESH_DOMAIN}/mtls`;
/** Namespace annotation scoping what its proxies receive: comma-separated namespaces (own always included). */
export const ANNOTATION_REACHABLE = `${MESH_DOMAIN}/reachable-namespaces`;
/** HTTPRoute annotation (JSON): retry policy for every rule without a Gateway API `retry` field. */
export const ANNOTATION_RETRY = `${MESH_DOMAIN}/retry`;
/** HTTPRoute annotation (JSON): fault injection (abort, delay) for every rule. */
export const ANNOTATION_FAULT = `${MESH_DOMAIN}/fault`;
/** Service annotation (JSON): outlier detection for traffic to the service. */
export const ANNOTATION_OUTLIER = `${MESH_DOMAIN}/outlier-detection`;
/** Service annotation (JSON): circuit breaker thresholds for traffic to the service. */
export const ANNOTATION_CIRCUIT_BREAKER = `${MESH_DOMAIN}/circuit-breaker`;

/**
 * Annotation listing finding codes `mesh check` ignores on the object carrying it (and, on a
 * workload, its pod template): `mesh.dev/check-suppress: "MSH0004,MSH0007"`.
 */
export const ANNOTATION_CHECK_SUPPRESS = `${MESH_DOMAIN}/check-suppress`;

/**
 * Every mesh.dev annotation key the mesh understands, the one list `mesh check` (MSH0012/MSH0013)
 * and docs use. Keep in step with docs/annotations.md when adding a key.
 */
export const KNOWN_MESH_ANNOTATIONS: readonly string[] = [
  `${MESH_DOMAIN}/inject`,
  `${MESH_DOMAIN}/status`,
  `${MESH_DOMAIN}/mtls`,
  `${MESH_DOMAIN}/reachable-namespaces`,
  `${MESH_DOMAIN}/retry`,
  `${MESH_DOMAIN}/fault`,
  `${MESH_DOMAIN}/outlier-detection`,
  `${MESH_DOMAIN}/circuit-breaker`,
  `${MESH_DOMAIN}/proxy-cpu`,
  `${MESH_DOMAIN}/proxy-memory`,
  `${MESH_DOMAIN}/proxy-cpu-limit`,
  `${MESH_DOMAIN}/proxy-memory-limit`,
  `${MESH_DOMAIN}/exclude-inbound-ports`,
  `${MESH_DOMAIN}/exclude-outbound-ports`,
  `${MESH_DOMAIN}/exclude-outbound-ip-ranges`,
  `${MESH_DOMAIN}/include-outbound-ip-ranges`,
  `${MESH_DOMAIN}/hold-application-until-proxy-starts`,
  `${MESH_DOMAIN}/rewrite-app-probes`,
  `${MESH_DOMAIN}/check-suppress`,
];
