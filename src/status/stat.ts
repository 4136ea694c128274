import { parseGoDuration } from '../duration.js';
import type { Cluster, KubeObject } from '../cluster/types.js';
import type { Ui } from '../ui/context.js';
import { ExitCode, MeshError, usageError } from '../errors.js';
import { addWindows, emptyWindow, parseClusterName, sideWindow, summarize, type ProxyReading, type WindowTraffic } from '../metrics/envoy.js';
import { DEFAULT_CONCURRENCY, podKey, scrapePods, type PodRead, type TimedReading } from '../metrics/scrape.js';
import { isMeshed, isRunning, KINDS, loadInventory, parseResourceRef, podsOf, refText, servicesOf, targetPortsOf, type Inventory, type ResourceRef } from './workloads.js';

/** Flags of `mesh stat` as commander hands them over (strings, unvalidated). */
export interface RawStatOptions {
  resource?: string;
  namespace?: string;
  allNamespaces: boolean;
  window?: string;
  /** True when --window was given on the command line (not the default). */
  windowExplicit?: boolean;
  sampleInterval?: string;
  from?: string;
  to?: string;
  watch: boolean;
  output: 'table' | 'wide' | 'json';
  prometheusUrl?: string;
  concurrency?: string;
}

/** Validated options of `mesh stat`. */
export interface StatOptions {
  resource: ResourceRef;
  /** -n; undefined means the kubeconfig context's namespace (or "default"), or every namespace with -A. */
  namespace: string | undefined;
  allNamespaces: boolean;
  /** Prometheus: the range read; pod scrapes: the time between the two scrapes. */
  windowSeconds: number;
  sampleSeconds: number;
  source: 'pods' | 'prometheus';
  prometheusUrl?: string;
  from?: ResourceRef;
  to?: ResourceRef;
  watch: boolean;
  output: 'table' | 'wide' | 'json';
  concurrency: number;
}

/** `1m`, `30s`, `1h30m`, `500ms`, `2` (seconds) -> seconds; undefined when malformed. */
export function parseDuration(s: string): number | undefined {
  const t = s.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t);
  const ms = parseGoDuration(t);
  return ms === undefined ? undefined : ms / 1000;
}

function duration(flag: string, v: string, min: number, max: number): number {
  const s = parseDuration(v);
  if (s === undefined) throw usageError(`${flag} "${v}" is not a duration`, 'use e.g. 30s, 1m, 5m, 1h');
  if (s < min || s > max) throw usageError(`${flag} ${v} is out of range`, `use between ${min}s and ${max}s`);
  return s;
}

/** Validate `mesh stat` flags in one place (table-tested). Throws usage errors (exit 2). */
export function validateStatOptions(raw: RawStatOptions): StatOptions {
  if (!raw.resource) throw usageError('name what to show: mesh stat (deploy|sts|ds|pod|svc|ns)[/NAME]', 'e.g. mesh stat deploy -n shop, mesh stat ns -A');
  const resource = parseResourceRef(raw.resource);
  if (raw.allNamespaces && resource.name && resource.kind !== 'ns') throw usageError(`${refText(resource)}: a name cannot be looked up across all namespaces`, 'drop -A and pass -n NAMESPACE');
  if (raw.from && raw.to) throw usageError('--from and --to cannot be used together', '--to shows traffic the named resource sends; --from shows traffic it receives from one source');
  const from = raw.from ? parseResourceRef(raw.from, '--from') : undefined;
  const to = raw.to ? parseResourceRef(raw.to, '--to') : undefined;
  let prometheusUrl: string | undefined;
  if (raw.prometheusUrl !== undefined) {
    let u: URL;
    try {
      u = new URL(raw.prometheusUrl);
    } catch {
      throw usageError(`--prometheus-url "${raw.prometheusUrl}" is not a URL`, 'e.g. http://127.0.0.1:9090');
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw usageError(`--prometheus-url must be http or https, not ${u.protocol}`);
    prometheusUrl = u.toString();
  }
  const windowSeconds = duration('--window', raw.window ?? '1m', 1, 86_400);
  if (!prometheusUrl && raw.windowExplicit && raw.sampleInterval !== undefined) {
    throw usageError('--window and --sample-interval both set without --prometheus-url', 'reading the pods directly, the window is the time between two scrapes: pass one of them');
  }
  // Without Prometheus the window is the time between two scrapes: an explicit --window is waited for.
  const sampleSeconds = raw.sampleInterval !== undefined ? duration('--sample-interval', raw.sampleInterval, 0.1, 3600) : !prometheusUrl && raw.windowExplicit ? windowSeconds : 2;
  const concurrency = raw.concurrency === undefined ? DEFAULT_CONCURRENCY : Number(raw.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) throw usageError(`--concurrency ${raw.concurrency} must be a whole number from 1 to 256`);
  return {
    resource,
    namespace: raw.allNamespaces ? undefined : raw.namespace || undefined,
    allNamespaces: raw.allNamespaces,
    windowSeconds,
    sampleSeconds,
    source: prometheusUrl ? 'prometheus' : 'pods',
    prometheusUrl,
    from,
    to,
    watch: raw.watch,
    output: raw.output,
    concurrency,
  };
}

/** How the numbers were obtained (printed on stderr, and in -o json). */
export interface StatMethod {
  source: 'pod-proxy' | 'prometheus';
  /** Seconds between the two readings. */
  intervalSeconds: number;
  prometheusUrl?: string;
  description: string;
}

/** One row of `mesh stat -o json`. Numbers are null when there is nothing to compute them from. */
export interface StatRow {
  namespace: string;
  kind: string;
  name: string;
  /** inbound: what the resource's proxies served; outbound: what a client's proxies sent (with --from/--to). */
  direction: 'inbound' | 'outbound';
  pods: number;
  meshedPods: number;
  /** Meshed pods whose stats could not be read. */
  unreachablePods: number;
  requests: number;
  failures: number;
  rps: number;
  successRate: number | null;
  latencyMs: { p50: number | null; p95: number | null; p99: number | null };
  tcpConnections: number;
  mtlsShare: number | null;
}

/** The stable shape of `mesh stat -o json`. */
export interface StatReport {
  method: StatMethod;
  rows: StatRow[];
  /** Why some rows lack numbers: unreachable pods and their errors (first few). */
  warnings: string[];
}

/** A planned row: which pods' readings feed it and which part of each reading counts. */
interface Plan {
  namespace: string;
  kind: string;
  name: string;
  direction: 'inbound' | 'outbound';
  pods: KubeObject[];
  sources: KubeObject[];
  pick: (before: ProxyReading | undefined, after: ProxyReading, seconds: number) => WindowTraffic;
}

function inboundPick(ports: Set<number> | undefined) {
  return (before: ProxyReading | undefined, after: ProxyReading, seconds: number): WindowTraffic => {
    const windows: WindowTraffic[] = [];
    for (const [port, side] of after.inboundPorts) if (!ports || ports.has(port)) windows.push(sideWindow(before?.inboundPorts.get(port), side, seconds));
    const w = addWindows(windows);
    if (ports) return w;
    // A whole workload: connections from the inbound listener, which sees TCP as well as HTTP.
    const l = sideWindow(before?.inboundListener, after.inboundListener, seconds);
    return { ...w, cxActive: l.cxActive, cxNew: l.cxNew, tlsNew: l.tlsNew, cxLifetime: l.cxLifetime, tlsLifetime: l.tlsLifetime };
  };
}

function outboundPick(services: readonly KubeObject[]) {
  const wanted = new Set(services.map((s) => `${s.metadata.namespace}/${s.metadata.name}`));
  return (before: ProxyReading | undefined, after: ProxyReading, seconds: number): WindowTraffic => {
    const windows: WindowTraffic[] = [];
    for (const [cluster, side] of after.outbound) {
      const c = parseClusterName(cluster);
      if (c && wanted.has(`${c.namespace}/${c.service}`)) windows.push(sideWindow(before?.outbound.get(cluster), side, seconds));
    }
    return addWindows(windows);
  };
}

function rowName(t: KubeObject): { namespace: string; kind: string; name: string } {
  return t.kind === 'Namespace' ? { namespace: t.metadata.name, kind: 'Namespace', name: t.metadata.name } : { namespace: t.metadata.namespace ?? '', kind: t.kind, name: t.metadata.name };
}

/** Resolve --from/--to into objects of the row's namespace (or a usage error naming what is missing). */
function peerObjects(ref: ResourceRef, ns: string, inv: Inventory, all: Map<string, KubeObject[]>): KubeObject[] {
  if (ref.kind === 'ns') return [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ref.name ?? ns } }];
  const pool = ref.kind === 'pod' ? inv.pods : ref.kind === 'svc' ? inv.services : (all.get(ref.kind) ?? []);
  return pool.filter((o) => o.metadata.namespace === ns && (!ref.name || o.metadata.name === ref.name));
}

/** Plan rows from the inventory: what each row measures and from which proxies. Pure. */
export function planRows(opts: Pick<StatOptions, 'resource' | 'from' | 'to'>, inv: Inventory, peers: Map<string, KubeObject[]>): Plan[] {
  return inv.targets.map((t) => {
    const id = rowName(t);
    const pods = podsOf(t, inv.pods);
    const live = (ps: KubeObject[]) => ps.filter((p) => isMeshed(p) && isRunning(p));
    if (opts.to) {
      const dst = peerObjects(opts.to, id.namespace, inv, peers).flatMap((o) => servicesOf(o, inv));
      return { ...id, direction: 'outbound' as const, pods, sources: live(pods), pick: outboundPick(dst) };
    }
    if (opts.from) {
      const srcPods = peerObjects(opts.from, id.namespace, inv, peers).flatMap((o) => podsOf(o, inv.pods));
      return { ...id, direction: 'outbound' as const, pods, sources: live(srcPods), pick: outboundPick(servicesOf(t, inv)) };
    }
    const ports = t.kind === 'Service' ? targetPortsOf(t, pods) : undefined;
    return { ...id, direction: 'inbound' as const, pods, sources: live(pods), pick: inboundPick(ports) };
  });
}

const nullable = (v: number | undefined): number | null => (v === undefined ? null : v);

/** Turn plans and two sets of readings into rows. Pure. */
export function computeRows(plans: readonly Plan[], before: ReadonlyMap<string, PodRead | TimedReading>, after: ReadonlyMap<string, PodRead | TimedReading>): StatRow[] {
  return plans.map((p) => {
    const windows: WindowTraffic[] = [];
    let unreachable = 0;
    for (const pod of p.sources) {
      const a = after.get(podKey(pod));
      const b = before.get(podKey(pod));
      if (!a || 'error' in a) {
        unreachable++;
        continue;
      }
      const bReading = b && !('error' in b) ? b : undefined;
      // With no earlier reading (a new pod, or one that failed the first scrape) there is no window for it.
      if (!bReading) {
        unreachable++;
        continue;
      }
      windows.push(p.pick(bReading.reading, a.reading, (a.at - bReading.at) / 1000));
    }
    const w = windows.length ? addWindows(windows) : emptyWindow();
    const s = summarize(w);
    return {
      namespace: p.namespace,
      kind: p.kind,
      name: p.name,
      direction: p.direction,
      pods: p.pods.length,
      meshedPods: p.pods.filter(isMeshed).length,
      unreachablePods: unreachable,
      requests: w.requests,
      failures: w.failures,
      rps: s.rps,
      successRate: windows.length ? nullable(s.successRate) : null,
      latencyMs: { p50: nullable(s.latencyMs.p50), p95: nullable(s.latencyMs.p95), p99: nullable(s.latencyMs.p99) },
      tcpConnections: s.tcpConnections,
      mtlsShare: windows.length ? nullable(s.mtlsShare) : null,
    };
  });
}

/** What `runStat` needs from outside: the cluster, and a clock the tests may speed up. */
export interface StatDeps {
  cluster: Cluster;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Milliseconds since the epoch (default Date.now); readings are stamped with it. */
  now?: () => number;
  /** Stop -w (Ctrl-C). */
  signal?: AbortSignal;
  /** Stop -w after this many refreshes (tests). */
  maxRefreshes?: number;
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });
}

interface Collected {
  report: StatReport;
  last: Map<string, PodRead | TimedReading>;
}

async function collect(opts: StatOptions, deps: StatDeps, prev: Map<string, PodRead | TimedReading> | undefined): Promise<Collected> {
  const { cluster } = deps;
  const sleep = deps.sleep ?? defaultSleep;
  const inv = await loadInventory(cluster, opts.resource, opts.namespace);
  const peers = new Map<string, KubeObject[]>();
  for (const ref of [opts.from, opts.to]) {
    if (ref && ref.kind !== 'pod' && ref.kind !== 'svc' && ref.kind !== 'ns') peers.set(ref.kind, await cluster.list(KINDS[ref.kind].apiVersion, KINDS[ref.kind].kind, { namespace: opts.namespace }));
  }
  const plans = planRows(opts, inv, peers);
  const sources = new Map<string, KubeObject>();
  for (const p of plans) for (const pod of p.sources) sources.set(podKey(pod), pod);
  const pods = [...sources.values()];
  let before: Map<string, PodRead | TimedReading>;
  let after: Map<string, PodRead | TimedReading>;
  let method: StatMethod;
  if (opts.source === 'prometheus') {
    const { readingsAt } = await import('../metrics/prometheus-api.js');
    const now = (deps.now ?? Date.now)() / 1000;
    const namespaces = opts.namespace ? [opts.namespace] : undefined;
    [before, after] = await Promise.all([readingsAt(opts.prometheusUrl!, now - opts.windowSeconds, namespaces), readingsAt(opts.prometheusUrl!, now, namespaces)]);
    const missing = (m: Map<string, PodRead | TimedReading>) => {
      for (const k of sources.keys()) if (!m.has(k)) m.set(k, { error: 'Prometheus has no Envoy series for this pod' });
    };
    missing(before);
    missing(after);
    method = { source: 'prometheus', intervalSeconds: opts.windowSeconds, prometheusUrl: opts.prometheusUrl, description: `Prometheus ${opts.prometheusUrl}: counters at now-${fmtSeconds(opts.windowSeconds)} and now` };
  } else {
    const now = deps.now ?? Date.now;
    const started = now();
    before = prev ?? (await scrapePods(cluster, pods, opts.concurrency, now));
    if (!prev) await sleep(Math.max(0, opts.sampleSeconds * 1000 - (now() - started)), deps.signal);
    after = await scrapePods(cluster, pods, opts.concurrency, now);
    method = { source: 'pod-proxy', intervalSeconds: opts.sampleSeconds, description: `proxies' /stats/prometheus via the API server, two scrapes ${fmtSeconds(opts.sampleSeconds)} apart (${pods.length} pods, ${opts.concurrency} in parallel)` };
  }
  const rows = computeRows(plans, before, after);
  const failures = [...sources.keys()].flatMap((k) => {
    const a = after.get(k);
    const b = before.get(k);
    const e = a && 'error' in a ? a.error : b && 'error' in b ? b.error : undefined;
    return e ? [`${k}: ${e}`] : [];
  });
  if (pods.length > 0 && failures.length === pods.length) {
    throw new MeshError(`metrics unreachable: none of the ${pods.length} meshed pods answered (${failures[0]})`, {
      hint: opts.source === 'prometheus'
        ? 'check that Prometheus scrapes the proxies on :15090/stats/prometheus and labels series with namespace and pod'
        : `check the proxies listen on :15090 (kubectl get --raw /api/v1/namespaces/${failures[0]!.split('/')[0]}/pods/${failures[0]!.split('/')[1]!.split(':')[0]}:15090/proxy/stats/prometheus), or use --prometheus-url`,
      exitCode: ExitCode.Failed,
    });
  }
  const warnings: string[] = [];
  if (failures.length) warnings.push(`${failures.length} of ${pods.length} meshed pods could not be read; their rows count only the others`, ...failures.slice(0, 5));
  if (plans.length > 0 && pods.length === 0) {
    const scope = opts.namespace ? `namespace ${opts.namespace}` : 'any namespace';
    warnings.push(opts.from ? `no running meshed pods match --from ${refText(opts.from)} in ${scope}` : `no proxies found: no running meshed pods in ${scope}; inject workloads with "mesh inject" (or label the namespace ${'mesh.dev/inject=enabled'}) and restart them`);
  }
  return { report: { method, rows, warnings }, last: after };
}

function fmtSeconds(s: number): string {
  if (s >= 60 && Number.isInteger(s / 60)) return `${s / 60}m`;
  return `${Number(s.toFixed(3))}s`;
}

/** Format a share in [0,1] as a percentage ("98.50%"), "-" when unknown. */
export function fmtPercent(v: number | null, digits = 2): string {
  return v === null ? '-' : `${(v * 100).toFixed(digits)}%`;
}

/** Format a latency in ms ("4ms", "37.5ms", "1.2s"), "-" when unknown. */
export function fmtLatency(v: number | null): string {
  if (v === null) return '-';
  if (v >= 1000) return `${Number((v / 1000).toFixed(2))}s`;
  return `${Number(v < 10 ? v.toFixed(2) : v.toFixed(1))}ms`;
}

/** Render rows as kubectl-style table text. */
export async function renderStatTable(report: StatReport, opts: { wide: boolean; allNamespaces: boolean }): Promise<string> {
  const { renderTable } = await import('../ui/output.js');
  type R = StatRow;
  const noData = (r: R) => r.meshedPods === 0;
  return renderTable<R>(report.rows, [
    ...(opts.allNamespaces ? [{ header: 'NAMESPACE', value: (r: R) => r.namespace }] : []),
    { header: 'NAME', value: (r) => r.name },
    { header: 'MESHED', value: (r) => `${r.meshedPods}/${r.pods}` },
    { header: 'SUCCESS', value: (r) => fmtPercent(r.successRate) },
    { header: 'RPS', value: (r) => (noData(r) ? '-' : r.rps.toFixed(1)) },
    { header: 'LATENCY_P50', value: (r) => fmtLatency(r.latencyMs.p50) },
    { header: 'LATENCY_P95', value: (r) => fmtLatency(r.latencyMs.p95) },
    { header: 'LATENCY_P99', value: (r) => fmtLatency(r.latencyMs.p99) },
    { header: 'TCP_CONN', value: (r) => (noData(r) ? '-' : String(r.tcpConnections)) },
    { header: 'MTLS', value: (r) => fmtPercent(r.mtlsShare, 0) },
    { header: 'DIRECTION', value: (r) => r.direction, wide: true },
    { header: 'REQUESTS', value: (r) => String(r.requests), wide: true },
    { header: 'FAILED', value: (r) => String(r.failures), wide: true },
    { header: 'UNREACHABLE', value: (r) => String(r.unreachablePods), wide: true },
  ], { wide: opts.wide, emptyMessage: `No resources found${opts.allNamespaces ? '' : ' in this namespace'}.` });
}

/**
 * Run `mesh stat`: plan rows, read the proxies (two pod scrapes or two Prometheus instants),
 * print. With -w, refresh until `deps.signal` aborts (or `maxRefreshes`). Returns the exit code.
 */
export async function runStat(options: StatOptions, ui: Ui, deps: StatDeps): Promise<number> {
  const opts: StatOptions = { ...options, namespace: options.allNamespaces ? undefined : (options.namespace ?? deps.cluster.defaultNamespace ?? 'default') };
  const sleep = deps.sleep ?? defaultSleep;
  let prev: Map<string, PodRead | TimedReading> | undefined;
  for (let i = 0; ; i++) {
    const { report, last } = await collect(opts, deps, opts.source === 'pods' ? prev : undefined);
    prev = last;
    if (opts.output === 'json') {
      ui.out.write(JSON.stringify(report, null, 2) + '\n');
    } else {
      const table = await renderStatTable(report, { wide: opts.output === 'wide', allNamespaces: opts.namespace === undefined });
      if (opts.watch && (ui.out as { isTTY?: boolean }).isTTY) ui.out.write('\x1b[H\x1b[2J');
      else if (opts.watch && i > 0) ui.out.write('\n');
      ui.out.write(table);
    }
    if (i === 0 || opts.watch) {
      const peer = opts.to ? `, traffic sent to ${refText(opts.to)}` : opts.from ? `, traffic received from ${refText(opts.from)}` : '';
      if (i === 0) ui.err.write(ui.color.dim(`method: ${report.method.description}${peer}`) + '\n');
      for (const w of report.warnings) ui.err.write(ui.color.yellow(`warning: ${w}`) + '\n');
    }
    if (!opts.watch || deps.signal?.aborted || (deps.maxRefreshes !== undefined && i + 1 >= deps.maxRefreshes)) break;
    await sleep(opts.sampleSeconds * 1000, deps.signal);
    if (deps.signal?.aborted) break;
  }
  return ExitCode.Ok;
}
