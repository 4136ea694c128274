import { KubernetesSource } from '../cluster/live-source.js';
import type { Source } from '../cluster/source.js';
import type { Cluster, KubeObject } from '../cluster/types.js';
import { podKey, scrapePods, scrapePodsTwice, type PodRead, type TimedReading } from '../metrics/scrape.js';
import { fmtSeconds, planRows, statReport, type StatMethod, type StatOptions, type StatReport } from './stat.js';
import { KINDS, loadInventory, type Inventory } from './workloads.js';

/**
 * The fetching half of `mesh stat`: list the workloads, read the proxies (two pod scrapes through
 * the API server, or two Prometheus instants) and hand the readings to the pure core in stat.ts.
 */

/** What `mesh stat` needs from outside: the cluster, and a clock the tests may speed up. */
export interface StatDeps {
  /** Where pods are scraped through (the API server's pod proxy). */
  cluster: Cluster;
  /** Where pods, Services and workloads are read (default: the live source over `cluster`). */
  source?: Source;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Milliseconds since the epoch (default Date.now); readings are stamped with it. */
  now?: () => number;
  /** Stop -w (Ctrl-C). */
  signal?: AbortSignal;
  /** Stop -w after this many refreshes (tests). */
  maxRefreshes?: number;
}

/** Sleep `ms`, ending early (resolved, not rejected) when `signal` aborts. */
export function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** One refresh: the report, and the readings a -w refresh of pod scrapes starts from. */
export interface Collected {
  report: StatReport;
  last: Map<string, PodRead | TimedReading>;
}

/** What one refresh lists before it reads: the inventory and the --from/--to peers' workloads. */
export interface Listed {
  inv: Inventory;
  peers: Map<string, KubeObject[]>;
}

/**
 * List what the rows are planned from, every list in parallel (pods, Services, the targets' kind
 * and the peers' kind). Depends only on the resource, namespace and --from/--to of `opts`.
 */
export async function listStat(opts: Pick<StatOptions, 'resource' | 'namespace' | 'from' | 'to'>, source: Source): Promise<Listed> {
  const peerKinds = [...new Set([opts.from, opts.to].flatMap((ref) => (ref && ref.kind !== 'pod' && ref.kind !== 'svc' && ref.kind !== 'ns' ? [ref.kind] : [])))];
  const [inv, ...lists] = await Promise.all([loadInventory(source, opts.resource, opts.namespace), ...peerKinds.map(async (k) => (await source.list({ kinds: [KINDS[k]], namespace: opts.namespace })).map((o) => o.object))]);
  return { inv, peers: new Map(peerKinds.map((k, i) => [k, lists[i]!])) };
}

/**
 * Plan the rows and take the readings of one refresh (`prev`: the last readings, reused as `before`
 * by pod scrapes; `listed`: the lists when the caller already started them, else they are read).
 */
export async function collectStat(opts: StatOptions, deps: StatDeps, prev: Map<string, PodRead | TimedReading> | undefined, listed?: Promise<Listed>): Promise<Collected> {
  const { cluster } = deps;
  const sleep = deps.sleep ?? defaultSleep;
  const { inv, peers } = await (listed ?? listStat(opts, deps.source ?? new KubernetesSource({ cluster })));
  const plans = planRows(opts, inv, peers);
  const sources = new Map<string, KubeObject>();
  for (const p of plans) for (const pod of p.sources) sources.set(podKey(pod), pod);
  const pods = [...sources.values()];
  let before: Map<string, PodRead | TimedReading>;
  let after: Map<string, PodRead | TimedReading>;
  let method: StatMethod;
  if (opts.source === 'prometheus') {
    const { PrometheusClient, readingsAt } = await import('../metrics/prometheus-api.js');
    const prometheus = new PrometheusClient(opts.prometheusUrl!);
    const now = (deps.now ?? Date.now)() / 1000;
    const namespaces = opts.namespace ? [opts.namespace] : undefined;
    [before, after] = await Promise.all([readingsAt(prometheus, now - opts.windowSeconds, namespaces), readingsAt(prometheus, now, namespaces)]);
    const missing = (m: Map<string, PodRead | TimedReading>) => {
      for (const k of sources.keys()) if (!m.has(k)) m.set(k, { error: 'Prometheus has no Envoy series for this pod' });
    };
    missing(before);
    missing(after);
    method = { source: 'prometheus', intervalSeconds: opts.windowSeconds, prometheusUrl: opts.prometheusUrl, description: `Prometheus ${opts.prometheusUrl}: counters at now-${fmtSeconds(opts.windowSeconds)} and now` };
  } else {
    const now = deps.now ?? Date.now;
    // Rows with --from/--to read the clients' outbound clusters, the others what pods served (planRows).
    const side = opts.from || opts.to ? 'outbound' : 'inbound';
    if (prev) {
      before = prev;
      after = await scrapePods(cluster, pods, opts.concurrency, now, side);
    } else {
      ({ before, after } = await scrapePodsTwice(cluster, pods, opts.concurrency, opts.sampleSeconds * 1000, { now, sleep, signal: deps.signal, side }));
    }
    method = { source: 'pod-proxy', intervalSeconds: opts.sampleSeconds, description: `proxies' /stats/prometheus via the API server, two scrapes ${fmtSeconds(opts.sampleSeconds)} apart (${pods.length} pods, ${opts.concurrency} in parallel)` };
  }
  return { report: statReport(opts, plans, { pods, before, after, method }), last: after };
}
