import type { KubeObject } from '../cluster/types.js';
import { ALL_CODES, analyze, type Finding } from '../analyzers/index.js';
import { addWindows, parseClusterName, sideWindow, summarize, type TrafficSummary, type WindowTraffic } from '../metrics/envoy.js';
import { podKey, type PodRead, type TimedReading } from '../metrics/scrape.js';
import { readCanaryConfig, rolloutOf, splitWeights } from '../route/httproute.js';
import { formatSpiffeId } from '../pki/spiffe.js';
import { DEFAULT_TRUST_DOMAIN, LABEL_PROXY_VERSION } from '../constants.js';
import { effectivePhase } from '../route/rollout.js';
import type { ProxyStatusReport } from '../status/proxy-status.js';
import { isMeshed, isRunning, podSelectorOf, podsOf, targetPortsOf } from '../status/workloads.js';
import { labelSelectorMatches } from '../util/labels.js';

/**
 * The dashboard's data, computed from objects (and, live, proxy readings and the controllers'
 * sync state) by pure functions. The server (server.ts) sends it as JSON to the page; the page only
 * draws it. Field names are the contract with web/ (src is the one definition; web imports these
 * types).
 */

/** Health of a node or edge from its success rate: ok >= 99%, warn >= 95%, bad below; unknown without traffic. */
export type Health = 'ok' | 'warn' | 'bad' | 'unknown';

/** Golden metrics of a node or edge over the last window. */
export interface Golden {
  rps: number;
  /** 0..1; null without requests. */
  successRate: number | null;
  p99Ms: number | null;
  /** Share of connections with mTLS (0..1); null without connections. */
  mtls: number | null;
}

/** A graph node: a Service, a workload (Deployment, StatefulSet, DaemonSet) or an ingress Gateway. */
export interface GraphNode {
  /** `kind/namespace/name`, e.g. `svc/shop/catalog`. */
  id: string;
  kind: 'svc' | 'deploy' | 'sts' | 'ds' | 'gateway';
  namespace: string;
  name: string;
  /** Workloads: running pods with a proxy / all running pods. */
  meshed?: { proxies: number; pods: number };
  metrics?: Golden;
  health: Health;
}

/** A graph edge: traffic measured at the caller's proxies, an HTTPRoute split, a Service selecting a workload, or a Gateway route. */
export interface GraphEdge {
  id: string;
  source: string;
  target: string;
  kind: 'traffic' | 'route' | 'selects' | 'ingress';
  /** Route edges: the backend's share of its rule in percent. */
  percent?: number;
  metrics?: Golden;
  health: Health;
}

/** A backend of an HTTPRoute split. */
export interface RouteBackendView {
  name: string;
  weight: number;
  percent: number;
}

/** An HTTPRoute with its split and, for `mesh route canary` routes, the rollout's progress. */
export interface RouteView {
  namespace: string;
  name: string;
  /** `Service/name` or `Gateway/name` of each parentRef. */
  parents: string[];
  backends: RouteBackendView[];
  rollout?: { phase: string; stable?: string; canary?: string; canaryWeight?: number; step?: number; steps?: number[]; message: string; updatedAt?: string };
  /** Whether promote/rollback apply (a route `mesh route canary` made). */
  canary: boolean;
}

/** One proxy and its xDS state (live), or a meshed workload's would-be proxy (offline). */
export interface ProxyView {
  name: string;
  namespace: string;
  pod: string | null;
  controller: string | null;
  /** SYNCED, STALE, NACKED, NOT SENT, NOT CONNECTED, or OFFLINE (computed from manifests). */
  state: string;
  version: string | null;
  proxyVersion: string | null;
  nack: string | null;
}

/** A `mesh check` finding (analyzers) with its code's hint. */
export interface FindingView extends Finding {
  hint: string;
  title: string;
}

/** The certificate an identity holds (live, from the controllers' SDS state), or the identity alone offline. */
export interface CertView {
  identity: string;
  proxies: number;
  /** Earliest notAfter over the identity's proxies; null offline or before issuance. */
  notAfter: string | null;
  renewAt: string | null;
  /** Seconds left at `generatedAt`; null when unknown. */
  secondsLeft: number | null;
}

/** Everything the page shows except time series (sent apart, see {@link MetricsPoint}). */
export interface DashboardData {
  mode: 'live' | 'offline';
  source: string;
  generatedAt: string;
  /** Whether promote/rollback buttons are offered (--allow-actions). */
  actions: boolean;
  namespaces: string[];
  nodes: GraphNode[];
  edges: GraphEdge[];
  routes: RouteView[];
  proxies: ProxyView[];
  findings: FindingView[];
  certificates: CertView[];
  /** When the metrics shown were read (ms since the epoch); null without metrics. The page appends a chart point when it changes. */
  metricsAt: number | null;
  /** How metrics were read ("none offline", a pod scrape, Prometheus). */
  metricsMethod: string;
  /** Problems reading a part (controller unreachable, scrape errors): shown on the page, never fatal. */
  warnings: string[];
}

/** One refresh of the golden metrics per node id, for the service page's time series. */
export interface MetricsPoint {
  /** Milliseconds since the epoch. */
  t: number;
  nodes: Record<string, Golden>;
}

/** Proxy readings of one window: the readings before and after, per pod key (`ns/name`). */
export interface Readings {
  before: ReadonlyMap<string, PodRead | TimedReading>;
  after: ReadonlyMap<string, PodRead | TimedReading>;
}

/** Inputs of {@link buildDashboard} besides the objects. */
export interface BuildOptions {
  mode: 'live' | 'offline';
  source: string;
  actions: boolean;
  now: number;
  readings?: Readings;
  /** When `readings` were taken (default `now`). */
  readingsAt?: number;
  metricsMethod?: string;
  proxyStatus?: ProxyStatusReport;
  /** The controllers' served certificates per proxy id (live). */
  certificates?: readonly { proxyId: string; identity: string; notAfter: string; renewAt: string }[];
  trustDomain?: string;
  warnings?: readonly string[];
  /** The analyzers' findings when the caller keeps them between refreshes (else computed here). */
  findings?: FindingView[];
}

/** The `mesh check` analyzers' findings over the objects, each with its code's title and hint. */
export function findingsOf(objects: readonly KubeObject[]): FindingView[] {
  const codes = new Map(ALL_CODES.map((c) => [c.code, c]));
  return analyze(objects.map((object) => ({ object }))).findings.map((f) => ({ ...f, hint: codes.get(f.code)?.hint ?? '', title: codes.get(f.code)?.title ?? '' }));
}

const WORKLOAD_KINDS: Record<string, 'deploy' | 'sts' | 'ds'> = { Deployment: 'deploy', StatefulSet: 'sts', DaemonSet: 'ds' };

/** Node id of an object of `kind`. */
export function nodeId(kind: GraphNode['kind'], namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}

/** Health from a success rate. */
export function healthOf(g: Golden | undefined): Health {
  if (!g || g.successRate === null) return 'unknown';
  return g.successRate >= 0.99 ? 'ok' : g.successRate >= 0.95 ? 'warn' : 'bad';
}

function golden(s: TrafficSummary): Golden {
  return { rps: s.rps, successRate: s.successRate ?? null, p99Ms: s.latencyMs.p99 ?? null, mtls: s.mtlsShare ?? null };
}

type Labels = Readonly<Record<string, string>>;
const labelsOf = (o: KubeObject): Labels => o.metadata.labels ?? {};
const templateLabels = (w: KubeObject): Labels => ((w.spec ?? {}) as { template?: { metadata?: { labels?: Record<string, string> } } }).template?.metadata?.labels ?? {};
const nsOf = (o: KubeObject): string => o.metadata.namespace ?? 'default';

interface Window {
  seconds: number;
}

/** The window between two readings of one pod, or undefined when either is missing or failed. */
function pair(r: Readings, key: string): { before: TimedReading; after: TimedReading } & Window | undefined {
  const b = r.before.get(key);
  const a = r.after.get(key);
  if (!b || !a || 'error' in b || 'error' in a || a.at <= b.at) return undefined;
  return { before: b, after: a, seconds: (a.at - b.at) / 1000 };
}

/** Inbound traffic of pods on `ports` (all ports when undefined). */
function inboundOf(pods: readonly KubeObject[], r: Readings, ports?: ReadonlySet<number>): WindowTraffic | undefined {
  const ws: WindowTraffic[] = [];
  for (const p of pods) {
    const w = pair(r, podKey(p));
    if (!w) continue;
    for (const [port, side] of w.after.reading.inboundPorts) if (!ports || ports.has(port)) ws.push(sideWindow(w.before.reading.inboundPorts.get(port), side, w.seconds));
  }
  return ws.length ? addWindows(ws) : undefined;
}

/** Outbound traffic of pods, per destination Service node id. */
function outboundOf(pods: readonly KubeObject[], r: Readings): Map<string, WindowTraffic> {
  const per = new Map<string, WindowTraffic[]>();
  for (const p of pods) {
    const w = pair(r, podKey(p));
    if (!w) continue;
    for (const [cluster, side] of w.after.reading.outbound) {
      const c = parseClusterName(cluster);
      if (!c) continue;
      const id = nodeId('svc', c.namespace, c.service);
      let list = per.get(id);
      if (!list) per.set(id, (list = []));
      list.push(sideWindow(w.before.reading.outbound.get(cluster), side, w.seconds));
    }
  }
  return new Map([...per].map(([k, ws]) => [k, addWindows(ws)]));
}


/** HTTPRoute parentRefs as `Kind/namespace/name`. */
function parentRefs(route: KubeObject): { kind: string; namespace: string; name: string }[] {
  const refs = ((route.spec ?? {}) as { parentRefs?: { kind?: string; group?: string; name: string; namespace?: string }[] }).parentRefs ?? [];
  return refs.map((p) => ({ kind: p.kind ?? 'Gateway', namespace: p.namespace ?? nsOf(route), name: p.name }));
}

/** Backend Service names of every rule of a route. */
function backendNames(route: KubeObject): { name: string; namespace: string }[] {
  const rules = ((route.spec ?? {}) as { rules?: { backendRefs?: { name: string; namespace?: string; kind?: string }[] }[] }).rules ?? [];
  return rules.flatMap((r) => (r.backendRefs ?? []).filter((b) => (b.kind ?? 'Service') === 'Service').map((b) => ({ name: b.name, namespace: b.namespace ?? nsOf(route) })));
}

/** A route's view (split weights and rollout state as `mesh route status` reads them). */
export function routeView(route: KubeObject, now: number): RouteView {
  const view: RouteView = {
    namespace: nsOf(route),
    name: route.metadata.name,
    parents: parentRefs(route).map((p) => `${p.kind}/${p.name}`),
    backends: splitWeights(route),
    canary: readCanaryConfig(route) !== undefined,
  };
  const state = rolloutOf(route);
  if (state) {
    const { phase, stalled } = effectivePhase(state, now);
    view.rollout = { phase, stable: state.stable, canary: state.canary, canaryWeight: state.canaryWeight, message: stalled ? `stalled since ${state.updatedAt}` : state.message };
    if (state.step !== undefined) view.rollout.step = state.step + 1;
    if (state.steps) view.rollout.steps = state.steps;
    if (state.updatedAt) view.rollout.updatedAt = state.updatedAt;
  }
  return view;
}

/**
 * Build the dashboard's data. Pure: the same objects and readings give the same data. Nodes are
 * Services, workloads and Gateways; edges are Service -> workload (selects), HTTPRoute splits
 * (parent -> backend, with the percent), Gateway routes (ingress) and, with readings, traffic
 * from a workload's proxies to the Service each outbound cluster names.
 */
export function buildDashboard(objects: readonly KubeObject[], opts: BuildOptions): { data: DashboardData; point?: MetricsPoint } {
  const services = objects.filter((o) => o.kind === 'Service' && o.apiVersion === 'v1');
  const pods = objects.filter((o) => o.kind === 'Pod' && isRunning(o));
  const workloads = objects.filter((o) => WORKLOAD_KINDS[o.kind] !== undefined);
  const gateways = objects.filter((o) => o.kind === 'Gateway');
  const routes = objects.filter((o) => o.kind === 'HTTPRoute');
  const r = opts.readings;
  const nodes = new Map<string, GraphNode>();
  const edges = new Map<string, GraphEdge>();
  const pointNodes: Record<string, Golden> = {};
  const withMetrics = (n: GraphNode, w: WindowTraffic | undefined) => {
    if (w) {
      n.metrics = golden(summarize(w));
      n.health = healthOf(n.metrics);
      pointNodes[n.id] = n.metrics;
    }
    nodes.set(n.id, n);
  };

  const workloadPods = new Map<string, KubeObject[]>();
  for (const w of workloads) {
    const kind = WORKLOAD_KINDS[w.kind]!;
    const id = nodeId(kind, nsOf(w), w.metadata.name);
    const mine = podsOf(w, pods);
    workloadPods.set(id, mine);
    const n: GraphNode = { id, kind, namespace: nsOf(w), name: w.metadata.name, health: 'unknown' };
    if (opts.mode === 'live') n.meshed = { proxies: mine.filter(isMeshed).length, pods: mine.length };
    withMetrics(n, r ? inboundOf(mine, r) : undefined);
    if (r) {
      for (const [target, win] of outboundOf(mine, r)) {
        const metrics = golden(summarize(win));
        edges.set(`${id}>${target}`, { id: `${id}>${target}`, source: id, target, kind: 'traffic', metrics, health: healthOf(metrics) });
      }
    }
  }
  for (const s of services) {
    const id = nodeId('svc', nsOf(s), s.metadata.name);
    const sel = podSelectorOf(s);
    const selected = workloads.filter((w) => nsOf(w) === nsOf(s) && sel !== undefined && Object.keys(sel.matchLabels ?? {}).length + (sel.matchExpressions?.length ?? 0) > 0 && labelSelectorMatches(sel, templateLabels(w)));
    const svcPods = sel ? pods.filter((p) => nsOf(p) === nsOf(s) && labelSelectorMatches(sel, labelsOf(p))) : [];
    withMetrics({ id, kind: 'svc', namespace: nsOf(s), name: s.metadata.name, health: 'unknown' }, r && svcPods.length ? inboundOf(svcPods, r, targetPortsOf(s, svcPods)) : undefined);
    for (const w of selected) {
      const wid = nodeId(WORKLOAD_KINDS[w.kind]!, nsOf(w), w.metadata.name);
      edges.set(`${id}>${wid}`, { id: `${id}>${wid}`, source: id, target: wid, kind: 'selects', health: 'unknown' });
    }
  }
  for (const g of gateways) nodes.set(nodeId('gateway', nsOf(g), g.metadata.name), { id: nodeId('gateway', nsOf(g), g.metadata.name), kind: 'gateway', namespace: nsOf(g), name: g.metadata.name, health: 'unknown' });
  for (const route of routes) {
    const split = new Map(splitWeights(route).map((b) => [b.name, b.percent]));
    for (const parent of parentRefs(route)) {
      const from = parent.kind === 'Service' ? nodeId('svc', parent.namespace, parent.name) : parent.kind === 'Gateway' ? nodeId('gateway', parent.namespace, parent.name) : undefined;
      if (!from || !nodes.has(from)) continue;
      for (const b of backendNames(route)) {
        const to = nodeId('svc', b.namespace, b.name);
        if (!nodes.has(to) || to === from) continue;
        const id = `${from}>${to}`;
        const e: GraphEdge = { id, source: from, target: to, kind: parent.kind === 'Gateway' ? 'ingress' : 'route', health: 'unknown' };
        const percent = split.get(b.name);
        if (percent !== undefined) e.percent = percent;
        edges.set(id, e);
      }
    }
  }

  const namespaces = [...new Set([...objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name), ...[...nodes.values()].map((n) => n.namespace)])].sort();
  const findings = opts.findings ?? findingsOf(objects);
  const data: DashboardData = {
    mode: opts.mode,
    source: opts.source,
    generatedAt: new Date(opts.now).toISOString(),
    actions: opts.actions,
    namespaces,
    nodes: [...nodes.values()].sort((a, b) => a.id.localeCompare(b.id)),
    edges: [...edges.values()].filter((e) => nodes.has(e.source) && nodes.has(e.target)).sort((a, b) => a.id.localeCompare(b.id)),
    routes: routes.map((x) => routeView(x, opts.now)).sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`)),
    proxies: proxyViews(objects, workloads, opts),
    findings,
    certificates: certViews(workloads, opts),
    metricsAt: r ? opts.readingsAt ?? opts.now : null,
    metricsMethod: opts.metricsMethod ?? (opts.mode === 'offline' ? 'none: computed from manifests' : 'none yet'),
    warnings: [...(opts.warnings ?? [])],
  };
  return r ? { data, point: { t: opts.now, nodes: pointNodes } } : { data };
}

function proxyViews(objects: readonly KubeObject[], workloads: readonly KubeObject[], opts: BuildOptions): ProxyView[] {
  if (opts.proxyStatus) {
    const pods = new Map(objects.filter((o) => o.kind === 'Pod').map((p) => [podKey(p), p]));
    return opts.proxyStatus.proxies.map((p) => {
      const pod = p.pod && p.namespace ? pods.get(`${p.namespace}/${p.pod}`) : undefined;
      // The worst state over the types the proxy subscribed to ('-': not subscribed).
      const states = Object.values(p.types).filter((s) => s !== '-');
      const state = !p.connected ? 'NOT CONNECTED' : states.includes('NACKED') ? 'NACKED' : states.includes('STALE') ? 'STALE' : states.includes('NOT SENT') ? 'NOT SENT' : 'SYNCED';
      return {
        name: p.name, namespace: p.namespace ?? '', pod: p.pod, controller: p.controller, state, version: p.snapshotVersion,
        proxyVersion: pod?.metadata.labels?.[LABEL_PROXY_VERSION] ?? null,
        nack: p.nack ? `${p.nack.type} ${p.nack.version}: ${p.nack.message}` : null,
      };
    });
  }
  if (opts.mode !== 'offline') return [];
  // Offline there is no proxy: each workload is the sidecar it would get (its config is computed on demand).
  return workloads.map((w) => ({ name: `${WORKLOAD_KINDS[w.kind]}/${w.metadata.name}`, namespace: nsOf(w), pod: null, controller: null, state: 'OFFLINE', version: 'offline', proxyVersion: null, nack: null }))
    .sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
}

function certViews(workloads: readonly KubeObject[], opts: BuildOptions): CertView[] {
  const by = new Map<string, CertView>();
  if (opts.certificates) {
    for (const c of opts.certificates) {
      const v = by.get(c.identity) ?? { identity: c.identity, proxies: 0, notAfter: null, renewAt: null, secondsLeft: null };
      v.proxies++;
      if (v.notAfter === null || c.notAfter < v.notAfter) {
        v.notAfter = c.notAfter;
        v.renewAt = c.renewAt;
        v.secondsLeft = Math.round((Date.parse(c.notAfter) - opts.now) / 1000);
      }
      by.set(c.identity, v);
    }
  } else if (opts.mode === 'offline') {
    // Offline: the identities the workloads would get; certificates exist only once issued.
    const td = opts.trustDomain ?? DEFAULT_TRUST_DOMAIN;
    for (const w of workloads) {
      const sa = ((w.spec ?? {}) as { template?: { spec?: { serviceAccountName?: string } } }).template?.spec?.serviceAccountName ?? 'default';
      const identity = formatSpiffeId(td, nsOf(w), sa);
      const v = by.get(identity) ?? { identity, proxies: 0, notAfter: null, renewAt: null, secondsLeft: null };
      v.proxies++;
      by.set(identity, v);
    }
  }
  return [...by.values()].sort((a, b) => a.identity.localeCompare(b.identity));
}
