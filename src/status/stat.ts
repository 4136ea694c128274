import { parseDuration } from '../duration.js';
import type { KubeObject } from '../cluster/types.js';
import { ExitCode, MeshError, usageError } from '../errors.js';
import { flagCounts } from '../metrics/response-flags.js';
import { parsePrometheusUrl } from '../metrics/prometheus-api.js';
import { addWindows, emptyWindow, parseClusterName, sideWindow, summarize, type ProxyReading, type WindowTraffic } from '../metrics/envoy.js';
import { DEFAULT_CONCURRENCY, podKey, type PodRead, type TimedReading } from '../metrics/scrape.js';
import type { StatTableRow } from '../ui/render/stat.js';
import { isMeshed, isRunning, parseResourceRef, podsOf, refText, servicesOf, targetPortsOf, type Inventory, type ResourceRef } from './workloads.js';

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
  output: 'table' | 'wide' | 'json' | 'yaml';
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
  output: 'table' | 'wide' | 'json' | 'yaml';
  concurrency: number;
}

/** A duration flag in seconds, within [min, max] seconds (usage error otherwise). */
function duration(flag: string, v: string, min: number, max: number): number {
  const s = parseDuration(v, flag) / 1000;
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
  const prometheusUrl = raw.prometheusUrl !== undefined ? parsePrometheusUrl(raw.prometheusUrl) : undefined;
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

/** One row of `mesh stat -o json`: the table's fields plus the resource kind. Numbers are null when there is nothing to compute them from. */
export interface StatRow extends StatTableRow {
  kind: string;
  /** inbound: what the resource's proxies served; outbound: what a client's proxies sent (with --from/--to). */
  direction: 'inbound' | 'outbound';
}

/** The stable shape of `mesh stat -o json`. */
export interface StatReport {
  method: StatMethod;
  rows: StatRow[];
  /** Why some rows lack numbers: unreachable pods and their errors (first few). */
  warnings: string[];
}

/** A planned row: which pods' readings feed it and which part of each reading counts. */
export interface Plan {
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
      rateLimited: w.rateLimited,
      rps: s.rps,
      successRate: windows.length ? nullable(s.successRate) : null,
      latencyMs: { p50: nullable(s.latencyMs.p50), p95: nullable(s.latencyMs.p95), p99: nullable(s.latencyMs.p99) },
      tcpConnections: s.tcpConnections,
      mtlsShare: windows.length ? nullable(s.mtlsShare) : null,
      errors: flagCounts(w.flags),
    };
  });
}

/** The two sets of readings of one refresh, and how they were taken. */
export interface Readings {
  /** The pods read (every plan's sources, once). */
  pods: readonly KubeObject[];
  before: ReadonlyMap<string, PodRead | TimedReading>;
  after: ReadonlyMap<string, PodRead | TimedReading>;
  method: StatMethod;
}

/**
 * The report of one refresh from its plans and readings: rows, plus warnings for pods that could
 * not be read. Pure. Throws (exit 1) when none of the pods answered: the numbers would all be empty.
 */
export function statReport(opts: Pick<StatOptions, 'source' | 'namespace' | 'from'>, plans: readonly Plan[], readings: Readings): StatReport {
  const { pods, before, after, method } = readings;
  const keys = pods.map(podKey);
  const rows = computeRows(plans, before, after);
  const failures = keys.flatMap((k) => {
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
  return { method, rows, warnings };
}

/** Seconds as the method line says them: "2s", "1.5s", "5m". */
export function fmtSeconds(s: number): string {
  if (s >= 60 && Number.isInteger(s / 60)) return `${s / 60}m`;
  return `${Number(s.toFixed(3))}s`;
}
