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
   * Create an object. Throws ConflictError (src/cluster/conflict.ts) when it already exists, so a
   * caller that read "absent" learns someone else created it meanwhile.
   */
  create(obj: KubeObject): Promise<KubeObject>;
  /**
   * Replace an object (PUT) guarded by its metadata.resourceVersion: when the stored object has
   * changed since it was read, throws ConflictError and writes nothing, never overwrites.
   * `obj.metadata.resourceVersion` is required.
   */
  replace(obj: KubeObject): Promise<KubeObject>;
  /**
   * Server-side apply `obj` as `opts.fieldManager`; returns the object the server holds after it.
   * A conflict with another field manager (409) throws a MeshError naming the object and manager.
   */
  apply(obj: KubeObject, opts: ApplyOptions): Promise<KubeObject>;
}

/** Options of a server-side apply. */
export interface ApplyOptions {
  fieldManager: string;
  /** Take over fields another manager owns (kubectl --force-conflicts). */
  force?: boolean;
  /** Ask the server to validate and default without persisting (dryRun=All). */
  dryRun?: boolean;
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
