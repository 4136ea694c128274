import type { AccessAttributes, AccessResult, Cluster, KubeObject, ListOptions } from '../cluster/types.js';
import { classifyClusterError } from '../cluster/errors.js';
import { DEFAULT_NAMESPACE } from '../constants.js';
import type { SuppressRule } from '../analyzers/index.js';
import type { CheckSession } from './dns-pod.js';

/** What live checks get: the cluster, settings, and memoised reads shared between checks. */
export interface LiveContext {
  cluster: Cluster;
  /** The mesh's namespace (default mesh-system). */
  namespace: string;
  /** The CLI's version: the control plane and proxies should run it. */
  version: string;
  /** "Now" for certificate expiry (tests pin it). */
  now: Date;
  suppress: readonly SuppressRule[];
  /** Image for the DNS lookup pod (needs `nslookup`). */
  dnsImage: string;
  /** How long the DNS lookup pod may take to run before the check gives up (ms). */
  dnsPodTimeoutMs: number;
  /** Poll interval while waiting for the DNS pod (ms). */
  pollMs: number;
  /** State kept across the rounds of `mesh check --wait` (the DNS lookup pod); absent for a single run. */
  session?: CheckSession;
  /** Whether checks may create objects (the DNS lookup pod, --dns-probe); false keeps `mesh check` read-only. */
  dnsProbe: boolean;
  /** Above this latency (ms) the webhook dry-run warns (default WEBHOOK_SLOW_MS); tests lower it. */
  webhookSlowMs?: number;
  /** List, memoised per (apiVersion, kind, options): checks asking for the same list share one request. */
  list(apiVersion: string, kind: string, opts?: ListOptions): Promise<KubeObject[]>;
  /** List that treats 404 (the kind's CRD is not installed) as an empty list. */
  listOptional(apiVersion: string, kind: string, opts?: ListOptions): Promise<KubeObject[]>;
  get(apiVersion: string, kind: string, name: string, namespace?: string): Promise<KubeObject | undefined>;
  /** SelfSubjectAccessReview, memoised. */
  canI(a: AccessAttributes): Promise<AccessResult>;
}

/** Options of {@link makeLiveContext}. */
export interface LiveContextOptions {
  namespace?: string;
  version: string;
  now?: Date;
  suppress?: readonly SuppressRule[];
  dnsImage?: string;
  dnsPodTimeoutMs?: number;
  pollMs?: number;
  session?: CheckSession;
  dnsProbe?: boolean;
  webhookSlowMs?: number;
}

/** Build the context for one run. Memoised results live as long as the context (one run). */
export function makeLiveContext(cluster: Cluster, opts: LiveContextOptions): LiveContext {
  const memo = new Map<string, Promise<unknown>>();
  const once = <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    let p = memo.get(key) as Promise<T> | undefined;
    if (!p) {
      p = fn();
      memo.set(key, p);
      // A failed read is not cached: the next check (or --wait round) asks again.
      p.catch(() => memo.delete(key));
    }
    return p;
  };
  const ctx: LiveContext = {
    cluster,
    namespace: opts.namespace ?? DEFAULT_NAMESPACE,
    version: opts.version,
    now: opts.now ?? new Date(),
    suppress: opts.suppress ?? [],
    dnsImage: opts.dnsImage ?? 'busybox:1.36',
    dnsPodTimeoutMs: opts.dnsPodTimeoutMs ?? 30_000,
    pollMs: opts.pollMs ?? 1000,
    dnsProbe: opts.dnsProbe === true,
    ...(opts.webhookSlowMs !== undefined ? { webhookSlowMs: opts.webhookSlowMs } : {}),
    ...(opts.session ? { session: opts.session } : {}),
    list: (apiVersion, kind, o = {}) => once(`list|${apiVersion}|${kind}|${o.namespace ?? ''}|${o.labelSelector ?? ''}|${o.fieldSelector ?? ''}`, () => cluster.list(apiVersion, kind, o)),
    listOptional: async (apiVersion, kind, o) => {
      try {
        return await ctx.list(apiVersion, kind, o);
      } catch (err) {
        if (classifyClusterError(err) === 'not-found') return [];
        throw err;
      }
    },
    get: (apiVersion, kind, name, namespace) => once(`get|${apiVersion}|${kind}|${namespace ?? ''}|${name}`, () => cluster.get(apiVersion, kind, name, namespace)),
    canI: (a) => once(`can|${a.verb}|${a.group}|${a.resource}|${a.namespace ?? ''}|${a.name ?? ''}`, () => cluster.canI(a)),
  };
  return ctx;
}
