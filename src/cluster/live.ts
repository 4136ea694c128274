import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { ExitCode, MeshError, toMeshError } from '../ui/errors.js';
import { ConflictError } from './conflict.js';
import type { ApplyOptions, Cluster, ConnectOptions, KubeObject, ListOptions, ServerVersion, TokenReviewAnswer } from './types.js';

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
    return new MeshError('the kubeconfig names a plain-HTTP API server, which the Kubernetes client refuses', {
      hint: 'use an https:// server URL, or set insecure-skip-tls-verify: true for that cluster',
      exitCode: ExitCode.Cluster,
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
  private readonly objects: k8s.KubernetesObjectApi;
  private readonly timeoutMs: number;

  constructor(private readonly kc: k8s.KubeConfig, timeoutMs: number) {
    this.contextName = kc.getCurrentContext();
    this.server = kc.getCurrentCluster()?.server ?? '';
    this.objects = k8s.KubernetesObjectApi.makeApiClient(kc);
    this.timeoutMs = timeoutMs;
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await withTimeout(fn(), this.timeoutMs, what);
    } catch (err) {
      throw apiError(err);
    }
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
      const res = await this.objects.list(apiVersion, kind, opts.namespace, undefined, undefined, undefined, opts.fieldSelector, opts.labelSelector);
      return (res.items as unknown as KubeObject[]).map((o) => ({ ...o, apiVersion, kind }));
    });
  }

  async get(apiVersion: string, kind: string, name: string, namespace?: string): Promise<KubeObject | undefined> {
    try {
      return await withTimeout(
        this.objects.read({ apiVersion, kind, metadata: { name, namespace } }) as unknown as Promise<KubeObject>,
        this.timeoutMs,
        `get ${kind}/${name}`,
      );
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw apiError(err);
    }
  }

  /** create/replace: a 409 is a ConflictError (exists, or changed since read), never an overwrite. */
  private async guarded(what: string, obj: KubeObject, fn: () => Promise<unknown>): Promise<KubeObject> {
    try {
      return (await withTimeout(fn(), this.timeoutMs, what)) as KubeObject;
    } catch (err) {
      if ((err as ApiErrorLike)?.code === 409) throw new ConflictError(obj.kind, obj.metadata.name, obj.metadata.namespace, statusText((err as ApiErrorLike).body));
      throw apiError(err);
    }
  }

  create(obj: KubeObject): Promise<KubeObject> {
    return this.guarded(`create ${obj.kind}/${obj.metadata.name}`, obj, () => this.objects.create(obj as unknown as k8s.KubernetesObject));
  }

  replace(obj: KubeObject): Promise<KubeObject> {
    return this.guarded(`replace ${obj.kind}/${obj.metadata.name}`, obj, () => this.objects.replace(obj as unknown as k8s.KubernetesObject));
  }

  apply(obj: KubeObject, opts: ApplyOptions): Promise<KubeObject> {
    return this.call(`apply ${obj.kind}/${obj.metadata.name}`, async () => {
      const r = await this.objects.patch(obj as unknown as k8s.KubernetesObject, undefined, opts.dryRun ? 'All' : undefined, opts.fieldManager, opts.force, k8s.PatchStrategy.ServerSideApply);
      return r as unknown as KubeObject;
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
      if (st.error) out.error = st.error;
      return out;
    });
  }
}

/** Connect using client-node. Performs no request: the first call tells if the server answers. */
export function connectLive(opts: ConnectOptions): Cluster {
  return new LiveCluster(loadKubeConfig(opts), opts.timeoutMs ?? 10_000);
}
