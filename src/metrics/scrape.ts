import { setMaxListeners } from 'node:events';
import type { Cluster, KubeObject, ProxyResponse, ProxyTarget } from '../cluster/types.js';
import { ExitCode, MeshError } from '../errors.js';
import type { ProxyReading } from './envoy.js';
import { readEnvoyText } from './envoy-text.js';
import { ENVOY_STATS_FILTER, envoyStatsFilter, type ReadingSide } from './stats-filter.js';

/** Where a sidecar serves its stats (the Prometheus listener of src/xds's sidecar config). */
export const PROXY_METRICS_PORT = 15090;
export const PROXY_METRICS_PATH = '/stats/prometheus';
/**
 * What mesh's own scrapes ask for: only the stats it reads (stats-filter.ts). The sidecar's
 * Prometheus listener routes the `/stats/prometheus` prefix to the admin port unchanged, query
 * included, and the API server's pod proxy passes the query on as it came.
 */
export const PROXY_SCRAPE_PATH = `${PROXY_METRICS_PATH}?filter=${encodeURIComponent(ENVOY_STATS_FILTER)}`;

/** The scrape path for one side of a reading (stats-filter.ts): a sidecar sends only what that side reads. */
export function proxyScrapePath(side: ReadingSide): string {
  return side === 'all' ? PROXY_SCRAPE_PATH : `${PROXY_METRICS_PATH}?filter=${encodeURIComponent(envoyStatsFilter(side))}`;
}
/**
 * Default bound on parallel pod proxy requests: enough to hide 20 ms of API latency for 2,000
 * pods within a second per round (docs/bench.md), and the keep-alive agent's socket count.
 */
export const DEFAULT_CONCURRENCY = 64;

/** One proxy's reading and when it was taken (ms since the epoch, at the answer). */
export interface TimedReading {
  reading: ProxyReading;
  at: number;
}

/** Result of reading one pod: a reading, or why there is none. */
export type PodRead = TimedReading | { error: string };

/** `ns/name` of a pod: the key of every per-pod map here. */
export function podKey(pod: KubeObject): string {
  return `${pod.metadata.namespace ?? ''}/${pod.metadata.name}`;
}

/**
 * Run `fn` over `items` with at most `limit` calls in flight; results keep the input order.
 * The first rejection stops new calls and rejects the whole run.
 */
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i]!, i);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

/** The RBAC error for a 403 from pods/proxy: exit 3, naming the permission and the way around it. */
export function podProxyForbidden(namespace: string, pod: string, body: string): MeshError {
  let detail = '';
  try {
    detail = (JSON.parse(body) as { message?: string }).message ?? '';
  } catch {
    /* not a Status */
  }
  return new MeshError(`not allowed to read proxy metrics through the API server: "get" on "pods/proxy" in namespace ${namespace} is forbidden (pod ${pod})${detail ? `: ${detail}` : ''}`, {
    hint: `ask for RBAC "get" on "pods/proxy" (check with: kubectl auth can-i get pods/proxy -n ${namespace}), or read from Prometheus with --prometheus-url`,
    exitCode: ExitCode.Cluster,
  });
}

/** GET through the API server's pod proxy; a Cluster without that verb is a clear error, not a crash. */
export function proxyGet(cluster: Cluster, target: ProxyTarget, path: string, headers?: Record<string, string>): Promise<ProxyResponse> {
  if (!cluster.proxyGet) throw new MeshError(`this cluster connection (${cluster.contextName}) cannot reach pods through the API server proxy`, { hint: 'run against a live cluster (--context), or use --prometheus-url' });
  return cluster.proxyGet(target, path, headers);
}

/**
 * Fetch and parse one pod's stats (`path`: proxyScrapePath of the side needed). A 403 throws
 * (RBAC is the same for every pod); other failures are returned.
 */
export async function scrapePod(cluster: Cluster, pod: KubeObject, now: () => number = Date.now, path = PROXY_SCRAPE_PATH): Promise<PodRead> {
  const namespace = pod.metadata.namespace ?? 'default';
  const res = await proxyGet(cluster, { namespace, pod: pod.metadata.name, port: PROXY_METRICS_PORT }, path);
  if (res.status === 403) throw podProxyForbidden(namespace, pod.metadata.name, res.body);
  if (res.status !== 200) return { error: `HTTP ${res.status}: ${statusMessage(res.body)}` };
  let reading: ProxyReading;
  try {
    reading = readEnvoyText(res.body, `pod ${namespace}/${pod.metadata.name}`);
  } catch (err) {
    return { error: (err as Error).message };
  }
  return { reading, at: now() };
}

function statusMessage(body: string): string {
  try {
    const m = (JSON.parse(body) as { message?: string }).message;
    if (m) return m;
  } catch {
    /* plain text */
  }
  return body.trim().split('\n')[0]?.slice(0, 200) ?? '';
}

/** Scrape pods in parallel (at most `concurrency` at once), for one side of their readings or all. */
export async function scrapePods(cluster: Cluster, pods: readonly KubeObject[], concurrency: number, now: () => number = Date.now, side: ReadingSide = 'all'): Promise<Map<string, PodRead>> {
  const path = proxyScrapePath(side);
  const reads = await mapBounded(pods, concurrency, (p) => scrapePod(cluster, p, now, path));
  return new Map(pods.map((p, i) => [podKey(p), reads[i]!]));
}

/** How finely scrapePodsTwice schedules second scrapes (ms). */
const WAKE_MS = 10;

/** Clock and sleep of a two-scrape reading (tests pass a fake clock). */
export interface ScrapeClock {
  now: () => number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  signal?: AbortSignal;
  /** The side of the readings needed (default all). */
  side?: ReadingSide;
}

/**
 * Read every pod twice, `intervalMs` apart per pod: each pod's second scrape is due
 * `intervalMs` after its own first answer, so every pod's window is the interval asked for
 * however the rounds are paced, and the whole takes about the interval plus one round. At most
 * `concurrency` requests are in flight (first scrapes go first, as they were queued first); rates
 * divide by each pod's own two timestamps. A 403 rejects the whole and starts nothing more, like
 * scrapePods.
 */
export async function scrapePodsTwice(cluster: Cluster, pods: readonly KubeObject[], concurrency: number, intervalMs: number, clock: ScrapeClock): Promise<{ before: Map<string, PodRead>; after: Map<string, PodRead> }> {
  const before = new Map<string, PodRead>();
  const after = new Map<string, PodRead>();
  const path = proxyScrapePath(clock.side ?? 'all');
  const stop = new AbortController();
  // Every wait listens to it: hundreds of listeners on purpose, not a leak.
  setMaxListeners(0, stop.signal);
  const onAbort = () => stop.abort();
  clock.signal?.addEventListener('abort', onAbort, { once: true });
  let active = 0;
  const waiting: (() => void)[] = [];
  const waits = new Map<number, Promise<void>>();
  /** One scrape within the bound, and when its answer came (a failed read has no `at` of its own). */
  const bounded = async (pod: KubeObject): Promise<{ read: PodRead; answered: number }> => {
    while (active >= concurrency) await new Promise<void>((wake) => waiting.push(wake));
    if (stop.signal.aborted && !clock.signal?.aborted) {
      waiting.shift()?.();
      throw new Error('stopped after another pod failed');
    }
    active++;
    try {
      const read = await scrapePod(cluster, pod, clock.now, path);
      return { read, answered: 'at' in read ? read.at : clock.now() };
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
  const both = async (pod: KubeObject): Promise<void> => {
    const key = podKey(pod);
    const first = await bounded(pod);
    before.set(key, first.read);
    // Pods due within the same WAKE_MS share one wait (answers come in bursts; a wait per pod
    // was thousands of timers and abort listeners). Each still waits at least the interval.
    const due = Math.ceil((first.answered + intervalMs) / WAKE_MS) * WAKE_MS;
    let wait = waits.get(due);
    if (!wait) waits.set(due, (wait = clock.sleep(Math.max(0, due - clock.now()), stop.signal)));
    await wait;
    after.set(key, (await bounded(pod)).read);
  };
  try {
    await Promise.all(pods.map((p) => both(p).catch((err: unknown) => {
      stop.abort();
      throw err;
    })));
  } finally {
    clock.signal?.removeEventListener('abort', onAbort);
  }
  return { before, after };
}
