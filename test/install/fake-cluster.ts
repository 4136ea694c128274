import type { AccessAttributes, AccessResult, ApplyOptions, Cluster, DeleteOptions, KubeObject, ListOptions, ProxyResponse, ServerVersion } from '../../src/cluster/types.ts';
import { MeshError } from '../../src/errors.ts';
import { clusterDnsObjects } from '../support/cluster-dns.ts';

/**
 * An in-memory Cluster for the install engine's unit tests: server-side apply replaces the fields
 * sent (no field-level merge), resourceVersion changes only when content changes, CRDs become
 * Established and Deployments roll out unless told otherwise. The test API server covers the real
 * HTTP behaviour; this covers orchestration quickly and lets tests inject faults. It starts with
 * cluster DNS (kube-dns with a ready endpoint), as install's pre-install checks require, unless
 * `{ dns: false }`.
 */
export class FakeCluster implements Cluster {
  readonly contextName = 'fake';
  readonly server = 'https://fake.invalid';
  readonly objects = new Map<string, KubeObject>();
  /** Field manager recorded per object (the last applier). */
  readonly managers = new Map<string, string>();
  private rv = 1;
  version: ServerVersion = { major: '1', minor: '31', gitVersion: 'v1.31.0' };
  denied: ((a: AccessAttributes) => boolean) | undefined;
  crdsEstablish = true;
  deploymentsReady = true;
  /** Called before every apply; throw to inject a fault. */
  beforeApply: ((o: KubeObject, n: number) => void) | undefined;
  applies = 0;
  readonly log: string[] = [];

  constructor(opts: { dns?: boolean } = {}) {
    if (opts.dns !== false) for (const o of clusterDnsObjects()) this.seed(o, 'kube-controller-manager');
  }

  static key(apiVersion: string, kind: string, name: string, namespace?: string): string {
    const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
    return `${group}/${kind}/${namespace ?? ''}/${name}`;
  }

  async serverVersion(): Promise<ServerVersion> {
    return this.version;
  }

  async list(apiVersion: string, kind: string, opts: ListOptions = {}): Promise<KubeObject[]> {
    const sel = (opts.labelSelector ?? '').split(',').filter(Boolean).map((s) => s.split('='));
    return [...this.objects.values()]
      .filter((o) => o.kind === kind && (opts.namespace === undefined || o.metadata.namespace === opts.namespace))
      .filter((o) => sel.every(([k, v]) => (v === undefined ? k! in (o.metadata.labels ?? {}) : o.metadata.labels?.[k!] === v)))
      .map((o) => structuredClone(o));
  }

  async get(apiVersion: string, kind: string, name: string, namespace?: string): Promise<KubeObject | undefined> {
    const o = this.objects.get(FakeCluster.key(apiVersion, kind, name, namespace));
    return o ? structuredClone(o) : undefined;
  }

  async apply(obj: KubeObject, opts: ApplyOptions): Promise<KubeObject> {
    this.beforeApply?.(obj, this.applies);
    this.applies++;
    const k = FakeCluster.key(obj.apiVersion, obj.kind, obj.metadata.name, obj.metadata.namespace);
    const prev = this.objects.get(k);
    const owner = this.managers.get(k);
    if (prev && owner && owner !== opts.fieldManager && !opts.force) {
      throw new MeshError(`${obj.kind}/${obj.metadata.name} has fields owned by another field manager ("${owner}")`, { hint: '--force-conflicts' });
    }
    const { status: _s, ...content } = structuredClone(obj);
    const same = prev && JSON.stringify(strip(prev)) === JSON.stringify(strip(content as KubeObject));
    const next: KubeObject = same ? prev : { ...content, metadata: { ...content.metadata, resourceVersion: String(++this.rv), generation: (prev?.metadata.generation ?? 0) + 1 }, status: prev?.status } as KubeObject;
    if (obj.kind === 'CustomResourceDefinition' && this.crdsEstablish) next.status = { conditions: [{ type: 'Established', status: 'True' }] };
    if (obj.kind === 'Deployment') {
      const replicas = (next.spec as { replicas?: number }).replicas ?? 1;
      const ready = this.deploymentsReady ? replicas : 0;
      next.status = { observedGeneration: next.metadata.generation, replicas, updatedReplicas: replicas, readyReplicas: ready, availableReplicas: ready };
    }
    if (!opts.dryRun) {
      this.objects.set(k, next);
      this.managers.set(k, opts.fieldManager);
      if (!same) this.log.push(`apply ${k}`);
    }
    return structuredClone(next);
  }

  async delete(apiVersion: string, kind: string, name: string, namespace?: string, _opts?: DeleteOptions): Promise<boolean> {
    const k = FakeCluster.key(apiVersion, kind, name, namespace);
    this.log.push(`delete ${k}`);
    return this.objects.delete(k);
  }

  // create/replace/hasKind: verbs main's Cluster has (added by another branch); kept here so this
  // fake still satisfies the interface after the merge.
  async create(obj: KubeObject): Promise<KubeObject> {
    const k = FakeCluster.key(obj.apiVersion, obj.kind, obj.metadata.name, obj.metadata.namespace);
    if (this.objects.has(k)) throw new MeshError(`${obj.kind} ${obj.metadata.name} already exists`);
    const o = { ...structuredClone(obj), metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } };
    this.objects.set(k, o);
    return structuredClone(o);
  }

  async replace(obj: KubeObject): Promise<KubeObject> {
    const k = FakeCluster.key(obj.apiVersion, obj.kind, obj.metadata.name, obj.metadata.namespace);
    const cur = this.objects.get(k);
    if (!cur || cur.metadata.resourceVersion !== obj.metadata.resourceVersion) throw new MeshError(`${obj.kind} ${obj.metadata.name} changed since it was read`);
    const o = { ...structuredClone(obj), metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } };
    this.objects.set(k, o);
    return structuredClone(o);
  }

  async hasKind(_apiVersion: string, _kind: string): Promise<boolean> {
    return true;
  }

  async canI(attrs: AccessAttributes): Promise<AccessResult> {
    return { allowed: !this.denied?.(attrs) };
  }

  /** Put an object in as another manager (as if kubectl had created it). */
  // Verbs other branches added to Cluster; install never calls them.
  async proxyGet(): Promise<ProxyResponse> {
    throw new Error('not used');
  }
  async tokenReview(): Promise<{ authenticated: boolean }> {
    throw new Error('tokenReview is not used by install');
  }
  async podLogs(): Promise<string> {
    throw new Error('not used');
  }

  seed(obj: KubeObject, manager: string): void {
    const k = FakeCluster.key(obj.apiVersion, obj.kind, obj.metadata.name, obj.metadata.namespace);
    this.objects.set(k, { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } });
    this.managers.set(k, manager);
  }
}

function strip(o: KubeObject): unknown {
  const { status: _s, metadata, ...rest } = o;
  const { resourceVersion: _r, generation: _g, ...meta } = metadata;
  return { ...rest, metadata: meta };
}
