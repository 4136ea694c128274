import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions } from 'node:https';
import type { Duplex } from 'node:stream';
import { createSecureContext } from 'node:tls';
import type * as k8s from '@kubernetes/client-node';
import { KubeConfig } from './kubeconfig-lib.js';
import { ExitCode, MeshError, toMeshError } from '../errors.js';
import { ConflictError } from './conflict.js';
import { ClusterUnreachableError } from './errors.js';
import { listPages } from './paging.js';
import type { AccessAttributes, AccessResult, ApplyOptions, Cluster, ConnectOptions, DeleteOptions, KubeObject, ListOptions, ProxyResponse, ProxyTarget, ServerVersion, TokenReviewAnswer } from './types.js';

/**
 * Load the kubeconfig the way kubectl does, with errors that say which file and context. The
 * class defaults to the bundled KubeConfig (kubeconfig-lib.ts); code handing the result to
 * client-node's own clients (informers, typed APIs) passes the package's class.
 */
export function loadKubeConfig(opts: ConnectOptions, Config: new () => k8s.KubeConfig = KubeConfig): k8s.KubeConfig {
  const kc = new Config();
  const explicit = opts.kubeconfig ?? process.env.KUBECONFIG;
  try {
    if (explicit) {
      const first = explicit.split(':').find((p) => p !== '') ?? explicit;
      if (!existsSync(first)) {
        throw new MeshError(`kubeconfig ${first} does not exist`, { hint: 'check --kubeconfig or $KUBECONFIG', exitCode: ExitCode.Cluster });
      }
      if (explicit.includes(':')) kc.loadFromDefault();
      else kc.loadFromFile(explicit);
    } else if (existsSync(join(homedir(), '.kube', 'config'))) {
      kc.loadFromFile(join(homedir(), '.kube', 'config'));
    } else if (process.env.KUBERNETES_SERVICE_HOST) {
      kc.loadFromCluster();
    } else {
      throw new MeshError('no kubeconfig found', { hint: 'pass --kubeconfig, set $KUBECONFIG, or create ~/.kube/config', exitCode: ExitCode.Cluster });
    }
  } catch (err) {
    if (err instanceof MeshError) throw err;
    throw new MeshError(`cannot read kubeconfig: ${(err as Error).message}`, { hint: 'check the file is valid kubeconfig YAML', exitCode: ExitCode.Cluster, cause: err });
  }
  if (opts.context) {
    if (!kc.getContextObject(opts.context)) {
      const known = kc.getContexts().map((c) => c.name);
      throw new MeshError(`context "${opts.context}" is not in the kubeconfig`, { hint: known.length ? `known contexts: ${known.join(', ')}` : 'the kubeconfig has no contexts', exitCode: ExitCode.Cluster });
    }
    kc.setCurrentContext(opts.context);
  }
  if (!kc.getCurrentCluster()) {
    throw new MeshError('the kubeconfig has no current context', { hint: 'pass --context or run "kubectl config use-context NAME"', exitCode: ExitCode.Cluster });
  }
  return kc;
}

/** How long a kept-alive connection to the API server may sit idle before it is closed. */
const IDLE_CONNECTION_MS = 2000;

/** client-node's PatchStrategy.ServerSideApply, the content type of a server-side apply. */
const SERVER_SIDE_APPLY = 'application/apply-patch+yaml';

interface ApiErrorLike {
  code?: number | string;
  body?: unknown;
}

function isNotFound(err: unknown): boolean {
  const e = err as ApiErrorLike;
  return e?.code === 404;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`${what} timed out after ${ms} ms`), { code: 'ETIMEDOUT' })), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Turn a client-node ApiException (code = HTTP status, body = Status JSON) into a MeshError. */
function apiError(err: unknown): MeshError {
  const e = err as ApiErrorLike;
  if (typeof e?.code === 'number') {
    return toMeshError(Object.assign(new Error(statusText(e.body) ?? `HTTP ${e.code}`), { statusCode: e.code, body: e.body }));
  }
  return toMeshError(err);
}

function statusText(body: unknown): string | undefined {
  try {
    const b = typeof body === 'string' ? (JSON.parse(body) as { message?: string }) : (body as { message?: string });
    return b?.message;
  } catch {
    return undefined;
  }
}

/** One entry of an APIResourceList (discovery): what the path of a kind is. */
interface ApiResource {
  name: string;
  kind: string;
  namespaced: boolean;
}

/**
 * A failed GET /version as client-node's VersionApi reported it: node-fetch words a connection
 * failure "request to URL failed, reason: ..." (same code), and a 401 carries no body.
 */
function versionApiError(err: unknown, url: string): unknown {
  const e = err as ApiErrorLike & { message?: string };
  if (e?.code === 401) return { code: 401 };
  if (typeof e?.code === 'string') return Object.assign(new Error(`request to ${url} failed, reason: ${e.message}`), { code: e.code, errno: e.code, type: 'system' });
  return err;
}

/** Agent options alike: the same keys, Buffers (CA, certificate, key) with the same bytes. */
function sameOptions(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    const x = a[k];
    const y = b[k];
    if (Buffer.isBuffer(x) && Buffer.isBuffer(y) ? !x.equals(y) : x !== y) return false;
  }
  return true;
}

/**
 * Sockets the pod proxy agent may open: the largest --concurrency of stat and the dashboard, so
 * the callers' own bound is the one that holds (each keeps one request per socket in flight).
 */
const PROXY_MAX_SOCKETS = 256;

/** The pod proxy's request options, built once per cluster connection. */
interface ProxyBase {
  send: typeof httpsRequest;
  /** agent, host, port, credentials and headers of every proxied GET. */
  options: RequestOptions & { headers: Record<string, string> };
  /** The server URL's own path (a cluster behind a path-routing proxy), without a trailing slash. */
  prefix: string;
  /** proxySuffix's cache. */
  paths: Map<string, string | null>;
}

/** The path of a kind's API group version: /api/v1 or /apis/GROUP/VERSION. */
function groupVersionPath(apiVersion: string): string {
  return apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
}

/**
 * The Cluster of a real API server. Typed calls (version, logs, TokenReview) go through
 * client-node's generated clients; objects of any kind go through one JSON request helper and our
 * own discovery, using only client-node's public KubeConfig API for credentials.
 */
class LiveCluster implements Cluster {
  readonly contextName: string;
  readonly server: string;
  readonly defaultNamespace: string | undefined;
  private readonly timeoutMs: number;
  /**
   * client-node refuses an http:// server unless the kubeconfig skips TLS verification (its typed
   * clients throw); object requests refuse it the same way, so every call says the same thing.
   */
  private readonly refusesPlainHttp: boolean;
  /** Keep-alive connection options for proxied GETs, built once (credentials resolved on first use). */
  private proxyBase?: Promise<ProxyBase>;

  constructor(private readonly kc: k8s.KubeConfig, timeoutMs: number) {
    this.contextName = kc.getCurrentContext();
    const cluster = kc.getCurrentCluster();
    this.server = cluster?.server ?? '';
    this.defaultNamespace = kc.getContextObject(kc.getCurrentContext())?.namespace || undefined;
    this.refusesPlainHttp = this.server.startsWith('http:') && cluster?.skipTLSVerify !== true;
    this.timeoutMs = timeoutMs;
  }

  /** Any failure as a MeshError; every failure of a refused plain-HTTP server says why. */
  private toError(err: unknown): MeshError {
    if (this.refusesPlainHttp && typeof (err as ApiErrorLike)?.code !== 'number') {
      return new ClusterUnreachableError('the kubeconfig names a plain-HTTP API server, which the Kubernetes client refuses', {
        hint: 'use an https:// server URL, or set insecure-skip-tls-verify: true for that cluster',
        cause: err,
      });
    }
    return apiError(err);
  }

  /**
   * Discovery, one APIResourceList per apiVersion, shared by every request: 40 parallel requests
   * for one group (install's access reviews) make one lookup. A failed lookup is forgotten, and a
   * kind missing from a cached list is looked up again (its CRD may have been created since).
   */
  private readonly discovery = new Map<string, Promise<ApiResource[]>>();
  private async resource(apiVersion: string, kind: string): Promise<ApiResource | undefined> {
    const find = (list: ApiResource[]) => list.find((r) => r.kind === kind && !r.name.includes('/'));
    const cached = this.discovery.get(apiVersion);
    if (cached) {
      const hit = find(await cached);
      if (hit) return hit;
      if (this.discovery.get(apiVersion) !== cached) return find(await this.discovery.get(apiVersion)!);
    }
    const p = this.request<{ resources?: ApiResource[] }>('GET', groupVersionPath(apiVersion), {}).then((l) => l.resources ?? []);
    this.discovery.set(apiVersion, p);
    p.catch(() => {
      if (this.discovery.get(apiVersion) === p) this.discovery.delete(apiVersion);
    });
    return find(await p);
  }

  /**
   * The URL path of an object (or, for 'create' and 'list', its collection). A namespaced kind
   * without a namespace means the context's namespace, except for 'list' (all namespaces). A kind
   * the server does not serve fails with statusCode 404 (not the ApiException `code`, so get and
   * delete report it instead of answering "no such object").
   */
  private async objectPath(apiVersion: string, kind: string, meta: { name?: string; namespace?: string }, action: 'one' | 'create' | 'list'): Promise<string> {
    const r = await this.resource(apiVersion, kind);
    if (!r) throw Object.assign(new Error(`the server does not serve ${kind} in ${apiVersion}`), { statusCode: 404 });
    const parts = [groupVersionPath(apiVersion)];
    const namespace = meta.namespace ?? (action === 'list' ? undefined : (this.defaultNamespace ?? 'default'));
    if (r.namespaced && namespace) parts.push('namespaces', encodeURIComponent(namespace));
    parts.push(r.name);
    if (action === 'one') parts.push(encodeURIComponent(meta.name ?? ''));
    return parts.join('/');
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await withTimeout(fn(), this.timeoutMs, what);
    } catch (err) {
      throw this.toError(err);
    }
  }

  /**
   * One request with plain JSON in and out. client-node's typed serializer drops or renames
   * fields its models spell differently (a CRD schema's `enum` becomes `_enum`) and turns
   * timestamps into Dates, which would make applies lossy and diffs noisy, so objects go around
   * it. Errors are shaped like client-node's ApiException ({code, body}) so the mapping stays one.
   */
  private async request<T>(method: string, path: string, query: Record<string, string | undefined>, body?: unknown, contentType?: string, parse: (text: string) => T = JSON.parse): Promise<T> {
    if (this.refusesPlainHttp) throw new Error('plain-HTTP API server refused');
    const qs = Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
    const url = new URL(`${this.server.replace(/\/$/, '')}${path}${qs ? `?${qs}` : ''}`);
    const opts: RequestOptions = { method, headers: { Accept: 'application/json', ...(contentType ? { 'Content-Type': contentType } : {}) } };
    await this.kc.applyToHTTPSOptions(opts);
    this.shareAgent(opts);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
    const attempt = (again: boolean): Promise<T> => new Promise<T>((resolve, reject) => {
      let answered = false;
      const req = send(url, opts, (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            try {
              resolve(parse(text));
            } catch (err) {
              reject(err as Error);
            }
          } else reject(Object.assign(new Error(`HTTP ${status}`), { code: status, body: text }));
        });
        res.on('error', reject);
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        // A kept-alive connection the server closed meanwhile fails before the server read
        // anything: send once more, on a new connection (node's documented pattern).
        if (again && req.reusedSocket && !answered && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) resolve(attempt(false));
        else reject(err);
      });
      req.end(payload);
    });
    return attempt(true);
  }

  /** The keep-alive agent requests share, with the TLS options it was made from. */
  private shared?: { tls: Record<string, unknown>; agent: HttpsAgent };

  /**
   * client-node gives every request a new https.Agent: a new TLS context and a new connection (a
   * full handshake) per request, most of the CPU of a command that makes a hundred (install).
   * Requests with the same TLS options (credentials are per request, in headers) share one
   * keep-alive agent made from those options instead. A proxy's agent (a subclass) stays as given.
   */
  private shareAgent(opts: RequestOptions): void {
    const given = opts.agent;
    if (!(given instanceof HttpsAgent) || Object.getPrototypeOf(given) !== HttpsAgent.prototype) return;
    const tls = { ...given.options } as Record<string, unknown>;
    // An idle connection is closed after 2 s: reuse is for bursts (install's hundred requests), so a
    // long wait (a rollout step) never meets a connection a load balancer dropped in silence.
    if (!this.shared || !sameOptions(this.shared.tls, tls)) this.shared = { tls, agent: new HttpsAgent({ ...tls, keepAlive: true, timeout: IDLE_CONNECTION_MS }) };
    opts.agent = this.shared.agent;
  }

  /** A request for one object (or its collection, for create) of `obj`'s kind. */
  private async raw(method: string, obj: KubeObject, action: 'one' | 'create', query: Record<string, string | undefined>, body?: unknown, contentType?: string): Promise<KubeObject> {
    const path = await this.objectPath(obj.apiVersion, obj.kind, obj.metadata, action);
    return this.request<KubeObject>(method, path, query, body, contentType);
  }

  /** client-node's typed clients, loaded on first use (kubeconfig-lib.ts says why). */
  private library?: Promise<{ k8s: typeof import('@kubernetes/client-node'); kc: k8s.KubeConfig }>;

  /**
   * The whole client-node package and this cluster's kubeconfig as an object of its KubeConfig
   * class: the same clusters, users and contexts, already loaded (no second read or path change).
   */
  private typed(): Promise<{ k8s: typeof import('@kubernetes/client-node'); kc: k8s.KubeConfig }> {
    this.library ??= import('@kubernetes/client-node').then((lib) => {
      const { clusters, users, contexts, currentContext } = this.kc;
      // Unbundled (tests, a bare tsc) it is already the package's class: keep its state (exec tokens).
      if (this.kc instanceof lib.KubeConfig) return { k8s: lib, kc: this.kc };
      const kc = new lib.KubeConfig();
      kc.loadFromOptions({ clusters, users, contexts, currentContext });
      return { k8s: lib, kc };
    });
    return this.library;
  }

  /**
   * GET /version with the JSON helper: install, check and inject ask it first, and client-node's
   * VersionApi would load the whole package for it. Its failures read as the VersionApi's did: a
   * connection failure in node-fetch's words, a 401 without the Status body.
   */
  serverVersion(): Promise<ServerVersion> {
    return this.call('GET /version', async () => {
      const v = await this.request<ServerVersion>('GET', '/version', {}).catch((err: unknown) => {
        throw versionApiError(err, `${this.server.replace(/\/$/, '')}/version`);
      });
      return { major: v.major, minor: v.minor, gitVersion: v.gitVersion };
    });
  }

  list(apiVersion: string, kind: string, opts: ListOptions = {}): Promise<KubeObject[]> {
    return this.call(`list ${kind}`, async () => {
      const path = await this.objectPath(apiVersion, kind, { namespace: opts.namespace }, 'list');
      const items = await listPages((page) => this.request('GET', path, { fieldSelector: opts.fieldSelector, labelSelector: opts.labelSelector, ...page }, undefined, undefined, (text) => text));
      return items.map((o) => ({ ...o, apiVersion, kind }));
    });
  }

  async get(apiVersion: string, kind: string, name: string, namespace?: string): Promise<KubeObject | undefined> {
    try {
      return await withTimeout(this.raw('GET', { apiVersion, kind, metadata: { name, namespace } }, 'one', {}), this.timeoutMs, `get ${kind}/${name}`);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw this.toError(err);
    }
  }

  async apply(obj: KubeObject, opts: ApplyOptions): Promise<KubeObject> {
    try {
      const res = await withTimeout(
        this.raw('PATCH', obj, 'one', { fieldManager: opts.fieldManager, force: opts.force ? 'true' : undefined, dryRun: opts.dryRun ? 'All' : undefined }, obj, SERVER_SIDE_APPLY),
        this.timeoutMs,
        `apply ${obj.kind}/${obj.metadata.name}`,
      );
      return res;
    } catch (err) {
      const e = err as ApiErrorLike;
      if (e?.code === 409) throw applyConflictError(obj, statusText(e.body) ?? 'conflict');
      throw this.toError(err);
    }
  }

  async delete(apiVersion: string, kind: string, name: string, namespace?: string, opts: DeleteOptions = {}): Promise<boolean> {
    try {
      const path = await withTimeout(this.objectPath(apiVersion, kind, { name, namespace }, 'one'), this.timeoutMs, `delete ${kind}/${name}`);
      await withTimeout(this.request('DELETE', path, { propagationPolicy: opts.propagation ?? 'Background' }), this.timeoutMs, `delete ${kind}/${name}`);
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw this.toError(err);
    }
  }

  create(obj: KubeObject): Promise<KubeObject> {
    return this.write('create', obj, () => this.raw('POST', obj, 'create', {}, obj, 'application/json'));
  }

  replace(obj: KubeObject): Promise<KubeObject> {
    if (!obj.metadata.resourceVersion) {
      return Promise.reject(new MeshError(`refusing to replace ${obj.kind} ${obj.metadata.name} without a resourceVersion`, { hint: 'read the object first; a blind replace could overwrite a concurrent change' }));
    }
    return this.write('replace', obj, () => this.raw('PUT', obj, 'one', {}, obj, 'application/json'));
  }

  replaceStatus(obj: KubeObject): Promise<KubeObject> {
    if (!obj.metadata.resourceVersion) {
      return Promise.reject(new MeshError(`refusing to replace the status of ${obj.kind} ${obj.metadata.name} without a resourceVersion`, { hint: 'read the object first' }));
    }
    return this.write('replace status of', obj, async () => {
      const path = await this.objectPath(obj.apiVersion, obj.kind, obj.metadata, 'one');
      return this.request<KubeObject>('PUT', `${path}/status`, {}, obj, 'application/json');
    });
  }

  /** create/replace: a 409 is a ConflictError (exists, or changed since read), never an overwrite. */
  private async write(verb: string, obj: KubeObject, fn: () => Promise<KubeObject>): Promise<KubeObject> {
    try {
      const res = await withTimeout(fn(), this.timeoutMs, `${verb} ${obj.kind}/${obj.metadata.name}`);
      return { ...res, apiVersion: obj.apiVersion, kind: obj.kind };
    } catch (err) {
      if ((err as ApiErrorLike)?.code === 409) throw new ConflictError(obj.kind, obj.metadata.name, obj.metadata.namespace, statusText((err as ApiErrorLike).body));
      throw this.toError(err);
    }
  }

  async hasKind(apiVersion: string, kind: string): Promise<boolean> {
    try {
      return (await withTimeout(this.resource(apiVersion, kind), this.timeoutMs, `discover ${apiVersion}`)) !== undefined;
    } catch (err) {
      // Discovery of an API group that is not served answers 404.
      if (isNotFound(err)) return false;
      throw this.toError(err);
    }
  }

  private proxyOptions(): Promise<ProxyBase> {
    this.proxyBase ??= (async () => {
      const opts: import('node:https').RequestOptions = {};
      await this.kc.applyToHTTPSOptions(opts);
      const server = new URL(this.server);
      const https = server.protocol === 'https:';
      // Many pods are scraped in parallel: reuse connections instead of a TLS handshake each. One
      // TLS context for all of them: given the CA, certificate and key, tls.connect would parse
      // them into a new context per connection (64 connections at once: about 40 ms of CPU).
      // The socket's idle timeout is the request timeout: set once per connection, where
      // req.setTimeout re-armed it (a timer and listeners) on every request.
      const kept = { keepAlive: true, maxSockets: PROXY_MAX_SOCKETS, timeout: this.timeoutMs };
      const agent = https
        ? new HttpsAgent({ ...kept, secureContext: createSecureContext({ ca: opts.ca, cert: opts.cert, key: opts.key }), rejectUnauthorized: opts.rejectUnauthorized, servername: opts.servername })
        : new HttpAgent(kept);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(opts.headers ?? {})) if (typeof v === 'string') headers[k] = v;
      headers.Accept = 'text/plain, application/json, */*';
      // What `new URL` and http.request would make of the server URL, once instead of per request.
      const hostname = server.hostname.startsWith('[') ? server.hostname.slice(1, -1) : server.hostname;
      const port = server.port ? Number(server.port) : https ? 443 : 80;
      return { send: https ? httpsRequest : httpRequest, options: { agent, hostname, port, auth: opts.auth, headers }, prefix: server.pathname.replace(/\/$/, ''), paths: new Map() };
    })();
    return this.proxyBase;
  }

  /**
   * `path` as the request path after `/proxy`, percent-encoded and normalised as `new URL` does,
   * computed once per path (a scrape sends the same one to every pod); undefined when its dot
   * segments would climb out of the pod's proxy path (then the whole URL is built per request).
   */
  private static proxySuffix(base: ProxyBase, path: string): string | undefined {
    let suffix = base.paths.get(path);
    if (suffix === undefined) {
      const u = new URL(`http://h/proxy${path.startsWith('/') ? path : '/' + path}`);
      suffix = u.pathname === '/proxy' || u.pathname.startsWith('/proxy/') ? `${u.pathname.slice('/proxy'.length)}${u.search}` : null;
      // Bounded: callers send a handful of distinct paths.
      if (base.paths.size < 64) base.paths.set(path, suffix);
    }
    return suffix ?? undefined;
  }

  async proxyGet(target: ProxyTarget, path: string, headers: Record<string, string> = {}): Promise<ProxyResponse> {
    const base = await this.proxyOptions();
    // kubectl writes NAME:PORT (and https:NAME:PORT) with literal colons; the API server splits on them.
    const scheme = target.scheme === 'https' ? 'https:' : '';
    const name = `${scheme}${encodeURIComponent(target.pod)}:${encodeURIComponent(String(target.port))}`;
    const proxyPath = `/api/v1/namespaces/${encodeURIComponent(target.namespace)}/pods/${name}/proxy`;
    const suffix = LiveCluster.proxySuffix(base, path);
    let requestPath = `${base.prefix}${proxyPath}${suffix ?? ''}`;
    if (suffix === undefined) {
      const u = new URL(`${this.server.replace(/\/$/, '')}${proxyPath}${path.startsWith('/') ? path : '/' + path}`);
      requestPath = `${u.pathname}${u.search}`;
    }
    let hasHeaders = false;
    for (const _ in headers) {
      hasHeaders = true;
      break;
    }
    const options: RequestOptions = { ...base.options, path: requestPath, headers: hasHeaders ? { ...headers, ...base.options.headers } : base.options.headers };
    return new Promise<ProxyResponse>((resolve, reject) => {
      const req = base.send(options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        // Most answers are one chunk: decode it without copying it into a new buffer first.
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString('utf8') }));
        res.on('error', (err) => reject(toMeshError(err)));
      });
      // Emitted when the connection sat idle for the agent's timeout while this request was on it.
      req.on('timeout', () => req.destroy(Object.assign(new Error(`GET pods/${target.pod}:${target.port}/proxy${path} timed out after ${this.timeoutMs} ms`), { code: 'ETIMEDOUT' })));
      req.on('error', (err) => reject(toMeshError(err)));
      req.end();
    });
  }
  async portForward(target: { namespace: string; pod: string; port: number }, socket: Duplex): Promise<void> {
    const what = `port-forward to pod ${target.namespace}/${target.pod}:${target.port}`;
    let ws: { close(): void } | null;
    try {
      const { k8s, kc } = await this.typed();
      const opened = await new k8s.PortForward(kc).portForward(target.namespace, target.pod, [target.port], socket, null, socket);
      ws = typeof opened === 'function' ? opened() : opened;
    } catch (err) {
      throw new MeshError(`cannot ${what}: ${err instanceof Error ? err.message : String(err)}`, {
        hint: `port-forwarding needs RBAC "create" on "pods/portforward" (kubectl auth can-i create pods/portforward -n ${target.namespace})`,
        exitCode: ExitCode.Cluster,
        cause: err,
      });
    }
    socket.once('close', () => ws?.close());
  }

  podLogs(namespace: string, name: string, container?: string): Promise<string> {
    return this.call(`logs ${namespace}/${name}`, async () => {
      const { k8s, kc } = await this.typed();
      const body: unknown = await kc.makeApiClient(k8s.CoreV1Api).readNamespacedPodLog({ name, namespace, container });
      return typeof body === 'string' ? body : JSON.stringify(body);
    });
  }

  tokenReview(token: string, audiences: string[]): Promise<TokenReviewAnswer> {
    // The error path goes through apiError, which never sees the request body (the token).
    return this.call('create TokenReview', async () => {
      const { k8s, kc } = await this.typed();
      const r = await kc.makeApiClient(k8s.AuthenticationV1Api).createTokenReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences } } });
      const st = r.status ?? {};
      const out: TokenReviewAnswer = { authenticated: st.authenticated === true };
      if (st.user?.username) out.username = st.user.username;
      if (st.audiences) out.audiences = st.audiences;
      if (st.user?.extra) out.extra = st.user.extra;
      if (st.error) out.error = st.error;
      return out;
    });
  }

  canI(attrs: AccessAttributes): Promise<AccessResult> {
    const review = {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      metadata: {},
      spec: { resourceAttributes: { verb: attrs.verb, group: attrs.group, resource: attrs.resource, namespace: attrs.namespace, name: attrs.name } },
    };
    return this.call(`SelfSubjectAccessReview ${attrs.verb} ${attrs.resource}`, async () => {
      const path = await this.objectPath(review.apiVersion, review.kind, {}, 'create');
      const res = await this.request<{ status?: { allowed?: boolean; reason?: string } }>('POST', path, {}, review, 'application/json');
      return { allowed: res.status?.allowed === true, reason: res.status?.reason };
    });
  }
}

/**
 * A server-side apply conflict: another field manager owns fields we set. The Status message names
 * the manager(s), e.g. 'Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1: .spec.replicas'.
 */
export function applyConflictError(obj: KubeObject, message: string): MeshError {
  const managers = [...message.matchAll(/conflict with "([^"]+)"/g)].map((m) => m[1]!);
  const unique = [...new Set(managers)];
  const ref = obj.metadata.namespace ? `${obj.kind}/${obj.metadata.namespace}/${obj.metadata.name}` : `${obj.kind}/${obj.metadata.name}`;
  const fields = [...message.matchAll(/: (\.[^\n,]+)/g)].map((m) => m[1]).slice(0, 3);
  return new MeshError(
    `${ref} has fields owned by another field manager${unique.length ? ` (${unique.map((m) => `"${m}"`).join(', ')})` : ''}${fields.length ? `: ${fields.join(', ')}` : ''}`,
    { hint: 'someone changed it outside mesh; re-run with --force-conflicts to take the fields over', exitCode: ExitCode.Failed },
  );
}

/**
 * Connect using client-node's KubeConfig (by default the bundled one: kubeconfig-lib.ts; tests
 * pass either class). Performs no request: the first call tells if the server answers.
 */
export function connectLive(opts: ConnectOptions, Config: new () => k8s.KubeConfig = KubeConfig): Cluster {
  return new LiveCluster(loadKubeConfig(opts, Config), opts.timeoutMs ?? 10_000);
}
