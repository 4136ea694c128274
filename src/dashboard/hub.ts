import type { Source, SourceWatch } from '../cluster/source.js';
import type { Cluster, KubeObject } from '../cluster/types.js';
import { isMeshed, isRunning } from '../status/workloads.js';
import type { ControllerLocation } from '../status/controller-debug.js';
import type { ProxyStatusReport } from '../status/proxy-status.js';
import type { PodRead, TimedReading } from '../metrics/scrape.js';
import { buildDashboard, findingsOf, type BuildOptions, type DashboardData, type FindingView, type Golden, type MetricsPoint } from './model.js';

/**
 * The dashboard's state: objects from a Source (watched), proxy readings and the controllers' sync
 * state (live, refreshed every `refreshMs` while a page listens), and what the page is sent. The
 * HTTP side (server.ts) reads `current()` and subscribes; it never reads the cluster itself.
 */

/** Where live metrics come from: the proxies through the API server's pod proxy (as `mesh stat`), or Prometheus. */
export type MetricsConfig = { kind: 'pods'; concurrency: number } | { kind: 'prometheus'; url: string; windowSeconds: number };

/** What the hub needs from outside. */
export interface HubOptions {
  mode: 'live' | 'offline';
  source: Source;
  /** Live: the cluster proxies are scraped and controllers asked through. */
  cluster?: Cluster;
  metrics?: MetricsConfig;
  controller?: ControllerLocation;
  /** Promote/rollback offered (--allow-actions). */
  actions: boolean;
  /** Time between metric refreshes (and between the two readings of a window). */
  refreshMs: number;
  /** Points of history kept per node for the time series. */
  historyPoints?: number;
  now?: () => number;
  /** Diagnostics (a failed refresh); the page shows them too. */
  log?: (line: string) => void;
}

/** What a subscriber receives: the whole data after any change (its nodes carry the latest metrics). */
export interface HubUpdate {
  data: DashboardData;
  /** `data` as JSON, serialized once however many pages listen. */
  json(): string;
}

/** One node's metrics at one time: a point of the service page's time series. */
export interface HistoryPoint extends Golden {
  t: number;
}

/** The dashboard's state and its refresh loop; see the module comment. */
export class DashboardHub {
  private readonly opts: HubOptions;
  private objects: KubeObject[] = [];
  private findings: FindingView[] = [];
  private data: DashboardData | undefined;
  private readonly history: MetricsPoint[] = [];
  private readonly listeners = new Set<(u: HubUpdate) => void>();
  private watch: SourceWatch | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private last: Map<string, PodRead | TimedReading> | undefined;
  private readings: BuildOptions['readings'];
  private proxyStatus: ProxyStatusReport | undefined;
  private certificates: BuildOptions['certificates'];
  private warnings: string[] = [];
  private stopped = false;

  constructor(opts: HubOptions) {
    this.opts = opts;
  }

  /** Start watching the source (its first read must succeed: a failure rejects). */
  async start(): Promise<void> {
    this.watch = await this.opts.source.watch((objects) => {
      this.objects = objects;
      this.findings = findingsOf(objects);
      this.rebuild();
    }, (err) => {
      this.opts.log?.(`watch: ${err.message}`);
    });
  }

  /** Stop the watch and the refresh loop (waits for a refresh in flight). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.listeners.clear();
    await this.watch?.stop();
    await this.running;
  }

  /** The data now. */
  current(): DashboardData {
    return this.data ?? this.build().data;
  }

  /** The kept metrics of one node, oldest first (the page asks when a service is opened, then appends live). */
  historyOf(nodeId: string): HistoryPoint[] {
    return this.history.flatMap((p) => (p.nodes[nodeId] ? [{ t: p.t, ...p.nodes[nodeId] }] : []));
  }

  /** The objects the source delivered last (for actions and proxy config). */
  currentObjects(): readonly KubeObject[] {
    return this.objects;
  }

  /** Be told about every change; refreshes run while anyone listens. Returns the unsubscribe. */
  subscribe(fn: (u: HubUpdate) => void): () => void {
    this.listeners.add(fn);
    if (this.listeners.size === 1) this.schedule(0);
    return () => {
      this.listeners.delete(fn);
      if (this.listeners.size === 0 && this.timer) {
        clearTimeout(this.timer);
        this.timer = undefined;
      }
    };
  }

  /** One refresh of metrics and proxy state (live only; offline has nothing to refresh). */
  async refresh(): Promise<void> {
    if (this.opts.mode !== 'live' || !this.opts.cluster) return;
    const cluster = this.opts.cluster;
    const warnings: string[] = [];
    const now = this.opts.now ?? Date.now;
    const tasks: Promise<void>[] = [];
    const metrics = this.opts.metrics;
    if (metrics) tasks.push(this.readMetrics(cluster, metrics, now, warnings).catch((err: Error) => void warnings.push(`metrics: ${err.message}`)));
    if (this.opts.controller) {
      const loc = this.opts.controller;
      tasks.push((async () => {
        const { syncAll } = await import('../status/controller-debug.js');
        const { collectProxyStatus } = await import('../status/proxy-status.js');
        const [report, replicas] = await Promise.all([collectProxyStatus(cluster, { output: 'json', controller: loc }), syncAll(cluster, loc)]);
        this.proxyStatus = report;
        this.certificates = replicas.flatMap((r) => r.syncz?.proxies ?? []).flatMap((p) => (p.certificate && p.identity?.spiffeId ? [{ proxyId: p.id, identity: p.identity.spiffeId, notAfter: p.certificate.notAfter, renewAt: p.certificate.renewAt }] : []));
      })().catch((err: Error) => {
        this.proxyStatus = undefined;
        this.certificates = undefined;
        warnings.push(`proxy status: ${err.message}`);
      }));
    }
    await Promise.all(tasks);
    this.warnings = warnings;
    this.rebuild(true);
  }

  private async readMetrics(cluster: Cluster, m: MetricsConfig, now: () => number, warnings: string[]): Promise<void> {
    const pods = this.objects.filter((o) => o.kind === 'Pod' && isMeshed(o) && isRunning(o));
    if (m.kind === 'pods') {
      const { scrapePods } = await import('../metrics/scrape.js');
      const after = await scrapePods(cluster, pods, m.concurrency, now);
      const failed = [...after.values()].filter((r) => 'error' in r).length;
      if (failed) warnings.push(`${failed} of ${pods.length} proxies did not answer a scrape`);
      if (this.last) this.readings = { before: this.last, after };
      this.last = after;
      this.metricsMethod = `proxies' /stats/prometheus via the API server every ${this.opts.refreshMs / 1000}s (${pods.length} pods)`;
    } else {
      const { PrometheusClient, readingsAt } = await import('../metrics/prometheus-api.js');
      const client = new PrometheusClient(m.url);
      const t = now() / 1000;
      const [before, after] = await Promise.all([readingsAt(client, t - m.windowSeconds, undefined), readingsAt(client, t, undefined)]);
      this.readings = { before, after };
      this.readingsAt = t * 1000;
      this.metricsMethod = `Prometheus ${m.url}: counters at now-${m.windowSeconds}s and now`;
    }
  }

  private metricsMethod: string | undefined;
  private readingsAt: number | undefined;

  private build(withPoint = false): ReturnType<typeof buildDashboard> {
    const now = (this.opts.now ?? Date.now)();
    const built = buildDashboard(this.objects, {
      mode: this.opts.mode,
      source: this.opts.source.description,
      actions: this.opts.actions,
      now,
      findings: this.findings,
      ...(this.readings ? { readings: this.readings, ...(this.readingsAt !== undefined ? { readingsAt: this.readingsAt } : {}) } : {}),
      ...(this.metricsMethod ? { metricsMethod: this.metricsMethod } : {}),
      ...(this.proxyStatus ? { proxyStatus: this.proxyStatus } : {}),
      ...(this.certificates ? { certificates: this.certificates } : {}),
      warnings: this.warnings,
    });
    return withPoint ? built : { data: built.data };
  }

  private rebuild(withPoint = false): void {
    const built = this.build(withPoint);
    this.data = built.data;
    if (built.point) {
      this.history.push(built.point);
      const max = this.opts.historyPoints ?? 150;
      if (this.history.length > max) this.history.splice(0, this.history.length - max);
    }
    let text: string | undefined;
    const update: HubUpdate = { data: built.data, json: () => (text ??= JSON.stringify(built.data)) };
    for (const l of this.listeners) l(update);
  }

  private schedule(ms: number): void {
    if (this.stopped || this.opts.mode !== 'live' || this.timer) return;
    this.timer = setTimeout(() => {
      this.running = this.refresh().finally(() => {
        this.timer = undefined;
        this.running = undefined;
        if (this.listeners.size > 0) this.schedule(this.opts.refreshMs);
      });
    }, ms);
  }
}
