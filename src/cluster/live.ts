import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions } from 'node:https';
import * as k8s from '@kubernetes/client-node';
import { ExitCode, MeshError, toMeshError } from '../errors.js';
import { ConflictError } from './conflict.js';
import { ClusterUnreachableError } from './errors.js';
import type { AccessAttributes, AccessResult, ApplyOptions, Cluster, ConnectOptions, DeleteOptions, KubeObject, ListOptions, ProxyResponse, ProxyTarget, ServerVersion, TokenReviewAnswer } from './types.js';

/** Load the kubeconfig the way kubectl does, with errors that say which file and context. */
export function loadKubeConfig(opts: ConnectOptions): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
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
  if (err instanceof Error && /HTTP protocol is not allowed/.test(err.message)) {
    return new ClusterUnreachableError('the kubeconfig names a plain-HTTP API server, which the Kubernetes client refuses', {
      hint: 'use an https:// server URL, or set insecure-skip-tls-verify: true for that cluster',
      cause: err,
    });
  }
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

class LiveCluster implements Cluster {
  readonly contextName: string;
  readonly server: string;
  readonly defaultNamespace: string | undefined;
  private readonly objects: k8s.KubernetesObjectApi;
  private readonly timeoutMs: number;
  /** Keep-alive connection options for proxied GETs, built once (credentials resolved on first use). */
  private proxyBase?: Promise<RequestOptions>;

  constructor(private readonly kc: k8s.KubeConfig, timeoutMs: number) {
    this.contextName = kc.getCurrentContext();
    this.server = kc.getCurrentCluster()?.server ?? '';
    this.defaultNamespace = kc.getContextObject(kc.getCurrentContext())?.namespace || undefined;
    this.objects = k8s.KubernetesObjectApi.makeApiClient(kc);
    this.timeoutMs = timeoutMs;
  }

  /**
   * client-node caches discovery per apiVersion, but only once a lookup has finished: 40 parallel
   * requests for one group (install's access reviews) would each fetch /apis/GROUP/VERSION. One
   * lookup in flight per apiVersion fills that cache for all of them; a failed one is forgotten.
   */
  private readonly discovering = new Map<string, Promise<unknown>>();
  private discover(apiVersion: string, kind: string): Promise<unknown> {
    let p = this.discovering.get(apiVersion);
    if (!p) {
      const lookup = this.objects as unknown as { resource(apiVersion: string, kind: string): Promise<unknown> };
      p = lookup.resource(apiVersion, kind);
      this.discovering.set(apiVersion, p);
      p.catch(() => this.discovering.delete(apiVersion));
    }
    return p;
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await withTimeout(fn(), this.timeoutMs, what);
    } catch (err) {
      throw apiError(err);
    }
  }

  /**
   * One request with the object as plain JSON. client-node's typed serializer drops or renames
   * fields its models spell differently (a CRD schema's `enum` becomes `_enum`), which would make
   * applies lossy and diffs noisy, so apply and get go around it. Errors are shaped like
   * client-node's ApiException ({code, body}) so the mapping below stays one.
   */
  private async raw(method: string, obj: KubeObject, action: 'patch' | 'read' | 'create' | 'replace', query: Record<string, string | undefined>, body?: unknown, contentType?: string): Promise<KubeObject> {
    await this.discover(obj.apiVersion, obj.kind);
    const pathOf = (this.objects as unknown as { specUriPath(spec: KubeObject, action: string): Promise<string> }).specUriPath.bind(this.objects);
    const path = await pathOf({ ...obj, metadata: { ...obj.metadata } }, action);
    const qs = Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
    const url = new URL(`${this.server.replace(/\/$/, '')}${path}${qs ? `?${qs}` : ''}`);
    const opts: RequestOptions = { method, headers: { Accept: 'application/json', ...(contentType ? { 'Content-Type': contentType } : {}) } };
    await this.kc.applyToHTTPSOptions(opts);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise<KubeObject>((resolve, reject) => {
      const req = httpsRequest(url, opts, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            try {
              resolve(JSON.parse(text) as KubeObject);
            } catch (err) {
              reject(err as Error);
            }
          } else reject(Object.assign(new Error(`HTTP ${status}`), { code: status, body: text }));
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(payload);
    });
  }

  serverVersion(): Promise<ServerVersion> {
    const api = this.kc.makeApiClient(k8s.VersionApi);
    return this.call('GET /version', async () => {
      const v = await api.getCode();
      return { major: v.major, minor: v.minor, gitVersion: v.gitVersion };
    });
  }

  list(apiVersion: string, kind: string, opts: ListOptions = {}): Promise<KubeObject[]> {
    return this.call(`list ${kind}`, async () => {
      await this.discover(apiVersion, kind);
      const res = await this.objects.list(apiVersion, kind, opts.namespace, undefined, undefined, undefined, opts.fieldSelector, opts.labelSelector);
      return (res.items as unknown as KubeObject[]).map((o) => ({ ...o, apiVersion, kind }));
    });
  }

  async get(apiVersion: string, kind: string, name: string, namespace?: string): Promise<KubeObject | undefined> {
    try {
      return await withTimeout(this.raw('GET', { apiVersion, kind, metadata: { name, namespace } }, 'read', {}), this.timeoutMs, `get ${kind}/${name}`);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw apiError(err);
    }
  }

  async apply(obj: KubeObject, opts: ApplyOptions): Promise<KubeObject> {
    try {
      const res = await withTimeout(
        this.raw('PATCH', obj, 'patch', { fieldManager: opts.fieldManager, force: opts.force ? 'true' : undefined, dryRun: opts.dryRun ? 'All' : undefined }, obj, k8s.PatchStrategy.ServerSideApply),
        this.timeoutMs,
        `apply ${obj.kind}/${obj.metadata.name}`,
      );
      return res;
    } catch (err) {
      const e = err as ApiErrorLike;
      if (e?.code === 409) throw applyConflictError(obj, statusText(e.body) ?? 'conflict');
      throw apiError(err);
    }
  }

  async delete(apiVersion: string, kind: string, name: string, namespace?: string, opts: DeleteOptions = {}): Promise<boolean> {
    try {
      await withTimeout(
        this.discover(apiVersion, kind).then(() => this.objects.delete({ apiVersion, kind, metadata: { name, namespace } }, undefined, undefined, undefined, undefined, opts.propagation ?? 'Background')),
        this.timeoutMs,
        `delete ${kind}/${name}`,
      );
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw apiError(err);
    }
  }

  create(obj: KubeObject): Promise<KubeObject> {
    return this.write('create', obj, () => this.raw('POST', obj, 'create', {}, obj, 'application/json'));
  }

  replace(obj: KubeObject): Promise<KubeObject> {
    if (!obj.metadata.resourceVersion) {
      return Promise.reject(new MeshError(`refusing to replace ${obj.kind} ${obj.metadata.name} without a resourceVersion`, { hint: 'read the object first; a blind replace could overwrite a concurrent change' }));
    }
    return this.write('replace', obj, () => this.raw('PUT', obj, 'replace', {}, obj, 'application/json'));
  }

  /** create/replace: a 409 is a ConflictError (exists, or changed since read), never an overwrite. */
  private async write(verb: string, obj: KubeObject, fn: () => Promise<KubeObject>): Promise<KubeObject> {
    try {
      const res = await withTimeout(fn(), this.timeoutMs, `${verb} ${obj.kind}/${obj.metadata.name}`);
      return { ...res, apiVersion: obj.apiVersion, kind: obj.kind };
    } catch (err) {
      if ((err as ApiErrorLike)?.code === 409) throw new ConflictError(obj.kind, obj.metadata.name, obj.metadata.namespace, statusText((err as ApiErrorLike).body));
      throw apiError(err);
    }
  }

  async hasKind(apiVersion: string, kind: string): Promise<boolean> {
    try {
      // resource() is protected in the typings but is the client's own cached discovery lookup.
      const discovery = this.objects as unknown as { resource(apiVersion: string, kind: string): Promise<unknown> };
      return (await withTimeout(discovery.resource(apiVersion, kind), this.timeoutMs, `discover ${apiVersion}`)) !== undefined;
    } catch (err) {
      // Discovery of an API group that is not served answers 404.
      if (isNotFound(err)) return false;
      throw apiError(err);
    }
  }

  private proxyOptions(): Promise<RequestOptions> {
    this.proxyBase ??= (async () => {
      const opts: import('node:https').RequestOptions = {};
      await this.kc.applyToHTTPSOptions(opts);
      const tls = { ca: opts.ca, cert: opts.cert, key: opts.key, rejectUnauthorized: opts.rejectUnauthorized, servername: opts.servername };
      // Many pods are scraped in parallel: reuse connections instead of a TLS handshake each.
      const agent = this.server.startsWith('https:') ? new HttpsAgent({ keepAlive: true, maxSockets: 64, ...tls }) : new HttpAgent({ keepAlive: true, maxSockets: 64 });
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(opts.headers ?? {})) if (typeof v === 'string') headers[k] = v;
      return { agent, headers, auth: opts.auth };
    })();
    return this.proxyBase;
  }

  async proxyGet(target: ProxyTarget, path: string): Promise<ProxyResponse> {
    const base = await this.proxyOptions();
    // kubectl writes NAME:PORT (and https:NAME:PORT) with literal colons; the API server splits on them.
    const scheme = target.scheme === 'https' ? 'https:' : '';
    const name = `${scheme}${encodeURIComponent(target.pod)}:${encodeURIComponent(String(target.port))}`;
    const url = new URL(`${this.server.replace(/\/$/, '')}/api/v1/namespaces/${encodeURIComponent(target.namespace)}/pods/${name}/proxy${path.startsWith('/') ? path : '/' + path}`);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const what = `GET pods/${target.pod}:${target.port}/proxy${path}`;
    return new Promise<ProxyResponse>((resolve, reject) => {
      const req = send(url, { ...base, method: 'GET', headers: { ...base.headers, Accept: 'text/plain, application/json, */*' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (err) => reject(toMeshError(err)));
      });
      req.setTimeout(this.timeoutMs, () => req.destroy(Object.assign(new Error(`${what} timed out after ${this.timeoutMs} ms`), { code: 'ETIMEDOUT' })));
      req.on('error', (err) => reject(toMeshError(err)));
      req.end();
    });
  }
  podLogs(namespace: string, name: string, container?: string): Promise<string> {
    const api = this.kc.makeApiClient(k8s.CoreV1Api);
    return this.call(`logs ${namespace}/${name}`, async () => {
      const body: unknown = await api.readNamespacedPodLog({ name, namespace, container });
      return typeof body === 'string' ? body : JSON.stringify(body);
    });
  }

  tokenReview(token: string, audiences: string[]): Promise<TokenReviewAnswer> {
    const api = this.kc.makeApiClient(k8s.AuthenticationV1Api);
    // The error path goes through apiError, which never sees the request body (the token).
    return this.call('create TokenReview', async () => {
      const r = await api.createTokenReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences } } });
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
      await this.discover(review.apiVersion, review.kind);
      const res = (await this.objects.create(review as k8s.KubernetesObject)) as { status?: { allowed?: boolean; reason?: string } };
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

/** Connect using client-node. Performs no request: the first call tells if the server answers. */
export function connectLive(opts: ConnectOptions): Cluster {
  return new LiveCluster(loadKubeConfig(opts), opts.timeoutMs ?? 10_000);
}
