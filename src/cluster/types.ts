import type { Duplex } from 'node:stream';

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
  /** The kubeconfig context's namespace, when it sets one (kubectl's default for -n). */
  readonly defaultNamespace?: string;
  serverVersion(): Promise<ServerVersion>;
  /** List objects of a kind; a namespace of undefined lists across all namespaces for namespaced kinds. */
  list(apiVersion: string, kind: string, opts?: ListOptions): Promise<KubeObject[]>;
  /** Get one object, or undefined when it does not exist (404). */
  get(apiVersion: string, kind: string, name: string, namespace?: string): Promise<KubeObject | undefined>;
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
   * Replace an object's status through its `status` subresource (PUT .../status), guarded by
   * metadata.resourceVersion like replace(): ConflictError when it changed since read. Optional:
   * read-only and file-backed clusters have no status to write.
   */
  replaceStatus?(obj: KubeObject): Promise<KubeObject>;
  /** Whether the API server serves `kind` in `apiVersion` (discovery), e.g. to tell a CRD is missing. */
  hasKind(apiVersion: string, kind: string): Promise<boolean>;
  /**
   * GET `path` (with its query) on a pod's port through the API server's proxy subresource
   * (`/api/v1/namespaces/NS/pods/NAME:PORT/proxy/PATH`, RBAC: get on pods/proxy). Any HTTP answer
   * resolves, whatever its status (403 is RBAC, 503 the pod not answering); only transport failures
   * (API server unreachable, timeout) reject, as MeshErrors. Safe to call concurrently.
   * Optional so other Cluster implementations (test fakes, files) need not provide it; callers use
   * `proxyGet()` from src/metrics/scrape.ts, which says clearly when it is missing. `headers` are
   * passed on to the pod (the API server forwards them; it drops Authorization).
   */
  proxyGet?(target: ProxyTarget, path: string, headers?: Record<string, string>): Promise<ProxyResponse>;
  /**
   * Tunnel one TCP connection (`socket`) to a pod's port through the API server's portforward
   * subresource (`kubectl port-forward`; RBAC: create on pods/portforward). Resolves once the
   * tunnel is open; bytes then flow both ways until either side closes, and a tunnel failure
   * destroys `socket`. Rejects (MeshError) when the tunnel cannot be opened. Optional: file-backed
   * and test clusters have no pods to reach.
   */
  portForward?(target: { namespace: string; pod: string; port: number }, socket: Duplex): Promise<void>;
  /**
   * Server-side apply `obj` as `opts.fieldManager`; returns the object the server holds after it.
   * A conflict with another field manager (409) throws a MeshError naming the object and manager.
   */
  apply(obj: KubeObject, opts: ApplyOptions): Promise<KubeObject>;
  /** Delete one object; resolves false when it did not exist. */
  delete(apiVersion: string, kind: string, name: string, namespace?: string, opts?: DeleteOptions): Promise<boolean>;
  /** SelfSubjectAccessReview: may the current user do `verb` on the resource? */
  canI(attrs: AccessAttributes): Promise<AccessResult>;
  /** The log of a pod's container (the first container when not named). */
  podLogs(namespace: string, name: string, container?: string): Promise<string>;
  /**
   * Review a bearer token (POST authentication.k8s.io/v1 tokenreviews) for `audiences`. Resolves
   * to the answer (authenticated or not); rejects when the API cannot be asked. Never logs the token.
   */
  tokenReview(token: string, audiences: string[]): Promise<TokenReviewAnswer>;
}

/** The status of a TokenReview, reduced to what callers use. */
export interface TokenReviewAnswer {
  authenticated: boolean;
  username?: string;
  audiences?: string[];
  /** The reviewed user's extra attributes, e.g. `authentication.kubernetes.io/pod-name` / `pod-uid` of a pod-bound token. */
  extra?: Record<string, string[]>;
  error?: string;
}

/** A pod port reached through the API server's proxy. */
export interface ProxyTarget {
  namespace: string;
  pod: string;
  port: number | string;
  /** Scheme the API server uses towards the pod (default http). */
  scheme?: 'http' | 'https';
}

/** The answer of a proxied GET. */
export interface ProxyResponse {
  status: number;
  body: string;
}

/** Options of a server-side apply. */
export interface ApplyOptions {
  fieldManager: string;
  /** Take over fields another manager owns (kubectl --force-conflicts). */
  force?: boolean;
  /** Ask the server to validate and default without persisting (dryRun=All). */
  dryRun?: boolean;
}

export interface DeleteOptions {
  /** Garbage-collection policy for dependents (default Background). */
  propagation?: 'Background' | 'Foreground' | 'Orphan';
}

/** What a SelfSubjectAccessReview asks about. */
export interface AccessAttributes {
  verb: string;
  /** API group; '' for the core group. */
  group: string;
  resource: string;
  namespace?: string;
  name?: string;
}

export interface AccessResult {
  allowed: boolean;
  reason?: string;
}

/** How to reach a cluster: the kubectl-style flags. */
export interface ConnectOptions {
  kubeconfig?: string;
  context?: string;
  /** Per-request timeout in milliseconds (default 10 s). */
  timeoutMs?: number;
}
