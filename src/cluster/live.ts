import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { ExitCode, MeshError, toMeshError } from '../ui/errors.js';
import type { AccessAttributes, AccessResult, ApplyOptions, Cluster, ConnectOptions, DeleteOptions, KubeObject, ListOptions, ProxyTarget, ServerVersion } from './types.js';

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

  async apply(obj: KubeObject, opts: ApplyOptions): Promise<KubeObject> {
    try {
      const res = await withTimeout(
        this.objects.patch(obj as unknown as k8s.KubernetesObject, undefined, opts.dryRun ? 'All' : undefined, opts.fieldManager, opts.force === true, k8s.PatchStrategy.ServerSideApply) as unknown as Promise<KubeObject>,
        this.timeoutMs,
        `apply ${obj.kind}/${obj.metadata.name}`,
      );
      return res;
    } catch (err) {
      const e = err as ApiErrorLike;
      if (e?.code === 409) throw conflictError(obj, statusText(e.body) ?? 'conflict');
      throw apiError(err);
    }
  }

  async delete(apiVersion: string, kind: string, name: string, namespace?: string, opts: DeleteOptions = {}): Promise<boolean> {
    try {
      await withTimeout(
        this.objects.delete({ apiVersion, kind, metadata: { name, namespace } }, undefined, undefined, undefined, undefined, opts.propagation ?? 'Background'),
        this.timeoutMs,
        `delete ${kind}/${name}`,
      );
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw apiError(err);
    }
  }

  canI(attrs: AccessAttributes): Promise<AccessResult> {
    const review = {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      metadata: {},
      spec: { resourceAttributes: { verb: attrs.verb, group: attrs.group, resource: attrs.resource, namespace: attrs.namespace, name: attrs.name } },
    };
    return this.call(`SelfSubjectAccessReview ${attrs.verb} ${attrs.resource}`, async () => {
      const res = (await this.objects.create(review as k8s.KubernetesObject)) as { status?: { allowed?: boolean; reason?: string } };
      return { allowed: res.status?.allowed === true, reason: res.status?.reason };
    });
  }

  create(obj: KubeObject): Promise<KubeObject> {
    return this.call(`create ${obj.kind}/${obj.metadata.name}`, async () => (await this.objects.create(obj as unknown as k8s.KubernetesObject)) as unknown as KubeObject);
  }

  proxyGet(t: ProxyTarget): Promise<string> {
    const api = this.kc.makeApiClient(k8s.CoreV1Api);
    const name = `${t.scheme ?? 'http'}:${t.name}:${t.port}`;
    return this.call(`GET ${t.kind}s/${name}/proxy/${t.path}`, async () => {
      const body: unknown =
        t.kind === 'service'
          ? await api.connectGetNamespacedServiceProxyWithPath({ name, namespace: t.namespace, path: t.path })
          : await api.connectGetNamespacedPodProxyWithPath({ name, namespace: t.namespace, path: t.path });
      // client-node parses JSON bodies even for string-typed responses; hand back text either way.
      return typeof body === 'string' ? body : JSON.stringify(body);
    });
  }

  podLogs(namespace: string, name: string, container?: string): Promise<string> {
    const api = this.kc.makeApiClient(k8s.CoreV1Api);
    return this.call(`logs ${namespace}/${name}`, async () => {
      const body: unknown = await api.readNamespacedPodLog({ name, namespace, container });
      return typeof body === 'string' ? body : JSON.stringify(body);
    });
  }
}

/**
 * A server-side apply conflict: another field manager owns fields we set. The Status message names
 * the manager(s), e.g. 'Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1: .spec.replicas'.
 */
export function conflictError(obj: KubeObject, message: string): MeshError {
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
