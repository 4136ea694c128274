// Test doubles for the route handlers: an in-memory Cluster with the API server's optimistic
// concurrency (resourceVersion, 409 on a stale write), a captured Ui, a clock that runs minutes in
// no time, and scripted metrics.
import { ConflictError } from '../../src/cluster/conflict.ts';
import type { Cluster, KubeObject } from '../../src/cluster/types.ts';
import type { Ui } from '../../src/ui/context.ts';
import { captureUi as sharedCaptureUi } from '../support/ui.ts';
import type { MetricsSource } from '../../src/route/metrics.ts';
import type { BackendStats } from '../../src/route/rollout.ts';
import type { Clock } from '../../src/route/run.ts';

/** An in-memory cluster; `kinds` lists the `apiVersion/kind` pairs it serves. */
export class MemoryCluster implements Cluster {
  readonly contextName = 'memory';
  readonly server = 'memory://';
  readonly objects = new Map<string, KubeObject>();
  private rv = 1;
  writes = 0;
  /** Called before each write; tests use it to slip in a concurrent edit. */
  beforeWrite?: (obj: KubeObject) => void;
  /** Called after every successful write with all objects (a zero-latency watch, for the control plane). */
  afterWrite?: (objects: KubeObject[]) => void;
  constructor(readonly kinds = new Set(['v1/Service', 'gateway.networking.k8s.io/v1/HTTPRoute'])) {}
  private key(apiVersion: string, kind: string, name: string, ns?: string) {
    return `${apiVersion}/${kind}/${ns ?? ''}/${name}`;
  }
  async serverVersion() {
    return { major: '1', minor: '32', gitVersion: 'v1.32.0' };
  }
  async list(apiVersion: string, kind: string, opts: { namespace?: string } = {}) {
    return [...this.objects.values()].filter((o) => o.apiVersion === apiVersion && o.kind === kind && (!opts.namespace || o.metadata.namespace === opts.namespace)).map((o) => structuredClone(o));
  }
  async get(apiVersion: string, kind: string, name: string, ns?: string) {
    const o = this.objects.get(this.key(apiVersion, kind, name, ns));
    return o ? structuredClone(o) : undefined;
  }
  // Route handlers never apply, delete or ask for access reviews: say so if that changes.
  async apply(): Promise<KubeObject> {
    throw new Error('MemoryCluster: apply is not used by route handlers');
  }
  async delete(): Promise<boolean> {
    throw new Error('MemoryCluster: delete is not used by route handlers');
  }
  async canI(): Promise<{ allowed: boolean }> {
    throw new Error('MemoryCluster: canI is not used by route handlers');
  }
  async tokenReview(): Promise<{ authenticated: boolean }> {
    throw new Error('tokenReview is not used by route handlers');
  }
  async podLogs(): Promise<string> {
    throw new Error('MemoryCluster: podLogs is not used by route handlers');
  }
  async hasKind(apiVersion: string, kind: string) {
    return this.kinds.has(`${apiVersion}/${kind}`);
  }
  /** Store directly (test set-up, or "someone else" editing). */
  put(o: KubeObject): KubeObject {
    const c = structuredClone(o);
    c.metadata.resourceVersion = String(++this.rv);
    this.objects.set(this.key(c.apiVersion, c.kind, c.metadata.name, c.metadata.namespace), c);
    return structuredClone(c);
  }
  async create(o: KubeObject) {
    this.beforeWrite?.(o);
    if (!this.kinds.has(`${o.apiVersion}/${o.kind}`)) throw new Error(`no kind ${o.kind}`);
    if (this.objects.has(this.key(o.apiVersion, o.kind, o.metadata.name, o.metadata.namespace))) throw new ConflictError(o.kind, o.metadata.name, o.metadata.namespace, 'already exists');
    this.writes++;
    const out = this.put(o);
    this.afterWrite?.([...this.objects.values()]);
    return out;
  }
  async replace(o: KubeObject) {
    this.beforeWrite?.(o);
    const cur = this.objects.get(this.key(o.apiVersion, o.kind, o.metadata.name, o.metadata.namespace));
    if (!cur || cur.metadata.resourceVersion !== o.metadata.resourceVersion) throw new ConflictError(o.kind, o.metadata.name, o.metadata.namespace, 'stale resourceVersion');
    this.writes++;
    const out = this.put(o);
    this.afterWrite?.([...this.objects.values()]);
    return out;
  }
}

/** A Ui writing to strings (confirmations answered yes, as route handlers never prompt). */
export function captureUi(): { ui: Ui; out: () => string; err: () => string } {
  return sharedCaptureUi({ yes: true });
}

/** A clock whose sleeps return at once and move time forward; `onSleep` runs (and is awaited) before each. */
export function fakeClock(start = Date.parse('2026-01-01T00:00:00Z')): Clock & { t: number; sleeps: number[]; onSleep?: (n: number) => unknown } {
  const c = {
    t: start,
    sleeps: [] as number[],
    onSleep: undefined as ((n: number) => unknown) | undefined,
    now: () => c.t,
    async sleep(ms: number, signal?: AbortSignal) {
      c.sleeps.push(ms);
      await c.onSleep?.(c.sleeps.length);
      await new Promise((r) => setImmediate(r));
      if (signal?.aborted) throw Object.assign(new Error('aborted'), { name: 'AbortError' });
      c.t += ms;
    },
  };
  return c;
}

/** Metrics answering from a script: `stats(service, callNumber)` (1-based per service). */
export function scriptedMetrics(stats: (service: string, call: number) => BackendStats | undefined): MetricsSource & { calls: { ns: string; service: string; windowSec: number }[] } {
  const calls: { ns: string; service: string; windowSec: number }[] = [];
  return {
    describe: 'scripted metrics',
    calls,
    async backendStats(ns, service, windowSec) {
      calls.push({ ns, service, windowSec });
      return stats(service, calls.filter((c) => c.service === service).length);
    },
  };
}

/** A Service with one port. */
export function service(name: string, port = 8080, ns = 'shop'): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec: { selector: { app: name }, ports: [{ name: 'http', port, targetPort: port }] } };
}

/** The HTTPRoute CRD as far as the API server needs it to serve the kind (schema left open). */
export const HTTPROUTE_CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'httproutes.gateway.networking.k8s.io' },
  spec: {
    group: 'gateway.networking.k8s.io',
    scope: 'Namespaced',
    names: { plural: 'httproutes', singular: 'httproute', kind: 'HTTPRoute', listKind: 'HTTPRouteList' },
    versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
  },
};
