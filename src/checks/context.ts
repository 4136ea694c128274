import type { AccessAttributes, AccessResult, Cluster, KubeObject, ListOptions, ServerVersion } from '../cluster/types.js';
import { classifyClusterError } from '../cluster/errors.js';
import { DEFAULT_NAMESPACE } from '../constants.js';
import type { SuppressRule } from '../analyzers/index.js';
import type { CheckSession } from './dns-pod.js';
import { parseLabelSelector } from './k8s.js';
import { labelSelectorMatches } from '../util/labels.js';
import type { ListedKind } from './types.js';

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
  /**
   * List, memoised per (apiVersion, kind, options): checks asking for the same list share one
   * request. A kind of {@link LiveContextOptions.shared} is listed once in every namespace, and a
   * list of it in one namespace, or in all by a label selector, is that list filtered, unless the
   * whole list cannot be read (then it is asked for as it is, so a namespace-scoped reader still
   * sees it). A label selector within one namespace is asked for as it is.
   */
  list(apiVersion: string, kind: string, opts?: ListOptions): Promise<KubeObject[]>;
  /** List that treats 404 (the kind's CRD is not installed) as an empty list. */
  listOptional(apiVersion: string, kind: string, opts?: ListOptions): Promise<KubeObject[]>;
  get(apiVersion: string, kind: string, name: string, namespace?: string): Promise<KubeObject | undefined>;
  /** Start reading every shared kind now, all at once, so none waits for the check that needs it to start. */
  prefetch(): void;
  /** The API server's version, memoised. */
  serverVersion(): Promise<ServerVersion>;
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
  /** Kinds the run lists in every namespace anyway (the checks' {@link Check.lists}): every list of them is served from that one list. */
  shared?: readonly ListedKind[];
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
  const shared = new Set((opts.shared ?? []).map((k) => `${k.apiVersion}|${k.kind}`));
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
    list: (apiVersion, kind, o = {}) => {
      const own = () => cluster.list(apiVersion, kind, o);
      const key = `list|${apiVersion}|${kind}|${o.namespace ?? ''}|${o.labelSelector ?? ''}|${o.fieldSelector ?? ''}`;
      // A label selector within one namespace (the controller's pods, a Service's EndpointSlices)
      // selects a handful of objects: one small request that need not wait for the whole list.
      const filtered = (o.namespace === undefined) !== (o.labelSelector === undefined);
      const selector = o.labelSelector === undefined ? {} : parseLabelSelector(o.labelSelector);
      if (!filtered || o.fieldSelector !== undefined || selector === undefined || !shared.has(`${apiVersion}|${kind}`)) return once(key, own);
      const within = (x: KubeObject) => (o.namespace === undefined || x.metadata.namespace === o.namespace) && labelSelectorMatches(selector, x.metadata.labels ?? {});
      return once(key, () => ctx.list(apiVersion, kind).then((all) => all.filter(within), own));
    },
    listOptional: async (apiVersion, kind, o) => {
      try {
        return await ctx.list(apiVersion, kind, o);
      } catch (err) {
        if (classifyClusterError(err) === 'not-found') return [];
        throw err;
      }
    },
    get: (apiVersion, kind, name, namespace) => once(`get|${apiVersion}|${kind}|${namespace ?? ''}|${name}`, () => cluster.get(apiVersion, kind, name, namespace)),
    prefetch: () => {
      // Failures are not kept: the check that reads the kind asks again and reports its own error.
      for (const k of opts.shared ?? []) ctx.list(k.apiVersion, k.kind).catch(() => undefined);
    },
    serverVersion: () => once('version', () => cluster.serverVersion()),
    canI: (a) => once(`can|${a.verb}|${a.group}|${a.resource}|${a.namespace ?? ''}|${a.name ?? ''}`, () => cluster.canI(a)),
  };
  return ctx;
}
