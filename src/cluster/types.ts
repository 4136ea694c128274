/** The shape every Kubernetes object has; kinds add their own fields. */
export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  resourceVersion?: string;
  uid?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
  managedFields?: unknown[];
  [key: string]: unknown;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface ServerVersion {
  major: string;
  minor: string;
  gitVersion: string;
}

/**
 * The one way into a cluster (see DESIGN.md): passed to commands and checks as a parameter, never
 * a global, so tests can hand in a cluster backed by the test API server or files.
 */
export interface Cluster {
  /** The kubeconfig context in use. */
  readonly contextName: string;
  /** The API server URL. */
  readonly server: string;
  serverVersion(): Promise<ServerVersion>;
  /** List objects of a kind; a namespace of undefined lists across all namespaces for namespaced kinds. */
  list(apiVersion: string, kind: string, opts?: ListOptions): Promise<KubeObject[]>;
  /** Get one object, or undefined when it does not exist (404). */
  get(apiVersion: string, kind: string, name: string, namespace?: string): Promise<KubeObject | undefined>;
  /**
   * Review a bearer token (POST authentication.k8s.io/v1 tokenreviews) for `audiences`. Resolves
   * to the answer (authenticated or not); rejects when the API cannot be asked. Never logs the token.
   */
  tokenReview(token: string, audiences: string[]): Promise<TokenReviewAnswer>;
  /**
   * Create an object; resolves to the stored object, or undefined when it already exists (409),
   * so callers can race for it (leader election).
   */
  create(obj: KubeObject): Promise<KubeObject | undefined>;
  /**
   * Replace an object (PUT) with metadata.resourceVersion as the precondition; resolves to the
   * stored object, or undefined when the resourceVersion is stale (409).
   */
  replace(obj: KubeObject): Promise<KubeObject | undefined>;
  /** Server-side apply `obj` as `fieldManager` (forcing conflicts); resolves to the stored object. */
  apply(obj: KubeObject, fieldManager: string): Promise<KubeObject>;
}

/** The status of a TokenReview, reduced to what callers use. */
export interface TokenReviewAnswer {
  authenticated: boolean;
  username?: string;
  audiences?: string[];
  error?: string;
}

/** How to reach a cluster: the kubectl-style flags. */
export interface ConnectOptions {
  kubeconfig?: string;
  context?: string;
  /** Per-request timeout in milliseconds (default 10 s). */
  timeoutMs?: number;
}
