import { DEFAULT_TRUST_DOMAIN, EGRESS_BLOCKED_CLUSTER } from '../constants.js';
import { KubernetesSource } from '../cluster/live-source.js';
import type { Cluster, KubeObject } from '../cluster/types.js';
import type { Ui } from '../ui/context.js';
import { ExitCode, MeshError, usageError } from '../errors.js';
import { parseClusterName } from '../metrics/envoy.js';
import { flagCounts, formatFlagCounts, type FlagCount } from '../metrics/response-flags.js';
import { formatSpiffeId } from '../pki/spiffe.js';
import { DEFAULT_CONCURRENCY, podKey, scrapePods, type PodRead } from '../metrics/scrape.js';
import { parsePrometheusUrl } from '../metrics/prometheus-api.js';
import { DEFAULT_CONTROLLER, syncAll, type ControllerLocation } from './controller-debug.js';
import { isMeshed, isRunning, KINDS, loadInventory, parseResourceRef, podsOf, podSelectorOf, refText, type ResourceRef } from './workloads.js';
import { labelSelectorMatches } from '../util/labels.js';

/** Validated options of `mesh edges`. */
export interface EdgesOptions {
  resource: ResourceRef;
  /** -n; undefined means the kubeconfig context's namespace (or "default"), or all with -A. */
  namespace: string | undefined;
  allNamespaces: boolean;
  output: 'table' | 'wide' | 'json' | 'yaml';
  trustDomain: string;
  concurrency: number;
  /** Where the controller's /debug/syncz is (the identities proxies actually hold); default mesh-system:15014. */
  controller?: ControllerLocation;
  /** Read the proxies' counters from this Prometheus (its latest samples) instead of scraping the pods. */
  prometheusUrl?: string;
}

/** Validate `mesh edges` flags (table-tested with stat's). */
export function validateEdgesOptions(raw: { resource?: string; namespace?: string; allNamespaces: boolean; output: 'table' | 'wide' | 'json' | 'yaml'; trustDomain?: string; prometheusUrl?: string }): EdgesOptions {
  if (!raw.resource) throw usageError('name what to show: mesh edges (deploy|sts|ds|pod|svc|ns)', 'e.g. mesh edges deploy -n shop');
  const resource = parseResourceRef(raw.resource);
  if (resource.name) throw usageError(`mesh edges takes a kind, not ${refText(resource)}`, 'edges are shown between all resources of the kind in the namespace: mesh edges deploy -n shop');
  const td = raw.trustDomain ?? DEFAULT_TRUST_DOMAIN;
  if (!/^[a-z0-9.-]+$/.test(td)) throw usageError(`--trust-domain "${td}" is not a trust domain`, 'lower-case letters, digits, dots and dashes, e.g. cluster.local');
  const out: EdgesOptions = { resource, namespace: raw.allNamespaces ? undefined : raw.namespace || undefined, allNamespaces: raw.allNamespaces, output: raw.output, trustDomain: td, concurrency: DEFAULT_CONCURRENCY };
  if (raw.prometheusUrl !== undefined) out.prometheusUrl = parsePrometheusUrl(raw.prometheusUrl);
  return out;
}

/** One edge of `mesh edges -o json`: traffic since the client proxies started. */
export interface Edge {
  src: string;
  srcNamespace: string;
  dst: string;
  dstNamespace: string;
  /**
   * SPIFFE IDs of the client and server pods: the certificate the controller issued to each pod's
   * proxy (from /debug/syncz), else the one the CA would issue for its ServiceAccount.
   */
  clientIds: string[];
  serverIds: string[];
  /** Where the IDs come from: every pod's issued certificate, every pod's ServiceAccount, or both. */
  identitySource: 'certificates' | 'serviceaccounts' | 'mixed';
  /** yes: every connection used mTLS; no: none did; partial otherwise. */
  secured: 'yes' | 'no' | 'partial';
  mtlsShare: number | null;
  requests: number;
  connections: number;
  /** Failures by Envoy response flag since the client proxies started, in words (metrics/response-flags.ts). */
  errors: FlagCount[];
}

/** The SPIFFE ID the CA issues for a pod's ServiceAccount (the only identity it will sign for that pod). */
function derivedId(td: string, pod: KubeObject): string {
  const sa = ((pod.spec ?? {}) as { serviceAccountName?: string }).serviceAccountName || 'default';
  return formatSpiffeId(td, pod.metadata.namespace ?? 'default', sa);
}

/**
 * The identities proxies hold, by "ns/pod": the SPIFFE ID of the certificate each replica's SDS
 * served (authenticated streams only). Empty, with the reason, when the sync status is unreadable.
 */
async function issuedIds(cluster: Cluster, loc: ControllerLocation): Promise<{ ids: Map<string, string>; warning?: string }> {
  const ids = new Map<string, string>();
  try {
    for (const r of await syncAll(cluster, loc)) {
      for (const p of r.syncz?.proxies ?? []) {
        const id = p.identity?.authenticated ? p.identity.spiffeId : undefined;
        if (p.namespace && p.pod && id && (p.certificate ?? p.identity?.certificate)) ids.set(`${p.namespace}/${p.pod}`, id);
      }
    }
    return { ids };
  } catch (err) {
    return { ids, warning: `identities are derived from ServiceAccounts: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** The pods' latest counters as Prometheus holds them: the same readings one scrape of each pod gives. */
async function prometheusReads(url: string, pods: readonly KubeObject[], namespace: string | undefined, now: () => number): Promise<Map<string, PodRead>> {
  const { PrometheusClient, readingsAt } = await import('../metrics/prometheus-api.js');
  const got: Map<string, PodRead> = await readingsAt(new PrometheusClient(url), now() / 1000, namespace ? [namespace] : undefined);
  for (const p of pods) if (!got.has(podKey(p))) got.set(podKey(p), { error: 'Prometheus has no Envoy series for this pod' });
  return got;
}

/** The destination edges name for calls outboundTrafficPolicy registry-only refused (their errors say BLOCKED). */
export const BLOCKED_DESTINATION = 'blocked-by-registry-only';

/** The resource (of the shown kind) a pod belongs to, or the pod name when none does. */
function ownerOf(pod: KubeObject, targets: readonly KubeObject[], kind: ResourceRef['kind']): string {
  if (kind === 'pod') return pod.metadata.name;
  if (kind === 'ns') return pod.metadata.namespace ?? '';
  const t = targets.find((x) => x.metadata.namespace === pod.metadata.namespace && (() => {
    const sel = podSelectorOf(x);
    return sel !== undefined && labelSelectorMatches(sel, pod.metadata.labels ?? {});
  })());
  return t ? t.metadata.name : `pod/${pod.metadata.name}`;
}

/**
 * Who talks to whom: every meshed pod's outbound clusters with traffic, mapped to the destination
 * Service's pods and grouped by resource. One scrape: counts are since each proxy started.
 */
export async function collectEdges(cluster: Cluster, options: EdgesOptions, deps: { now?: () => number } = {}): Promise<{ edges: Edge[]; warnings: string[] }> {
  const opts: EdgesOptions = { ...options, namespace: options.allNamespaces ? undefined : (options.namespace ?? cluster.defaultNamespace ?? 'default') };
  const source = new KubernetesSource({ cluster });
  const inv = await loadInventory(source, opts.resource, opts.namespace);
  // Destinations may sit in other namespaces: resolve them against everything when they do.
  const kind = KINDS[opts.resource.kind];
  const all = async (k: { apiVersion: string; kind: string }): Promise<KubeObject[]> => (await source.list({ kinds: [k] })).map((o) => o.object);
  const [allPods, allServices, allTargets] = opts.namespace === undefined ? [inv.pods, inv.services, inv.targets] : await Promise.all([
    all(KINDS.pod), all(KINDS.svc),
    opts.resource.kind === 'pod' || opts.resource.kind === 'ns' ? Promise.resolve([]) : all(kind),
  ]);
  const targetsAll = opts.resource.kind === 'pod' ? allPods : opts.resource.kind === 'svc' ? allServices : allTargets;
  const sources = inv.pods.filter((p) => isMeshed(p) && isRunning(p));
  const warnings: string[] = [];
  if (sources.length === 0) {
    warnings.push(`no proxies found: no running meshed pods in ${opts.namespace ? `namespace ${opts.namespace}` : 'any namespace'}; inject workloads with "mesh inject" and restart them`);
    return { edges: [], warnings };
  }
  const [reads, issued] = await Promise.all([opts.prometheusUrl ? prometheusReads(opts.prometheusUrl, sources, opts.namespace, deps.now ?? Date.now) : scrapePods(cluster, sources, opts.concurrency, Date.now, 'outbound'), issuedIds(cluster, opts.controller ?? DEFAULT_CONTROLLER)]);
  if (issued.warning) warnings.push(issued.warning);
  /** A pod's identity, counted on `e` as issued (a certificate the controller reports) or derived. */
  const idOf = (pod: KubeObject, e: { cert: number; sa: number }): string => {
    const id = issued.ids.get(`${pod.metadata.namespace}/${pod.metadata.name}`);
    if (id) e.cert++;
    else e.sa++;
    return id ?? derivedId(opts.trustDomain, pod);
  };
  const failed = [...reads].filter(([, r]) => 'error' in r);
  if (failed.length === sources.length) {
    const [k, r] = failed[0]!;
    throw new MeshError(`metrics unreachable: none of the ${sources.length} meshed pods answered (${k}: ${'error' in r ? r.error : ''})`, { hint: 'check the proxies listen on :15090/stats/prometheus', exitCode: ExitCode.Failed });
  }
  if (failed.length) warnings.push(`${failed.length} of ${sources.length} meshed pods could not be read: ${failed.slice(0, 3).map(([k]) => k).join(', ')}`);
  const edges = new Map<string, Edge & { flags: Record<string, number>; tls: number; clients: Set<string>; servers: Set<string>; cert: number; sa: number }>();
  for (const pod of sources) {
    const r = reads.get(podKey(pod));
    if (!r || 'error' in r) continue;
    const src = ownerOf(pod, opts.resource.kind === 'svc' ? inv.services : inv.targets, opts.resource.kind);
    for (const [name, side] of r.reading.outbound) {
      if (side.requests === 0 && side.cxTotal === 0 && side.cxActive === 0 && Object.keys(side.flags).length === 0) continue;
      // Calls registry-only refused: an edge to no Service, so they show where they were headed from.
      const c = name === EGRESS_BLOCKED_CLUSTER ? { namespace: pod.metadata.namespace ?? '', service: BLOCKED_DESTINATION } : parseClusterName(name);
      if (!c) continue;
      const svc = allServices.find((s) => s.metadata.namespace === c.namespace && s.metadata.name === c.service);
      const dstPods = svc ? podsOf(svc, allPods) : [];
      const srcName = src;
      const dstNames = opts.resource.kind === 'svc' ? [c.service] : [...new Set(dstPods.map((p) => ownerOf(p, targetsAll, opts.resource.kind)))];
      for (const dst of dstNames.length ? dstNames : [name === EGRESS_BLOCKED_CLUSTER ? BLOCKED_DESTINATION : `svc/${c.service}`]) {
        const key = `${pod.metadata.namespace}/${srcName}>${c.namespace}/${dst}`;
        let e = edges.get(key);
        if (!e) {
          e = { src: srcName, srcNamespace: pod.metadata.namespace ?? '', dst, dstNamespace: c.namespace, clientIds: [], serverIds: [], identitySource: 'serviceaccounts', secured: 'no', mtlsShare: null, requests: 0, connections: 0, errors: [], flags: {}, tls: 0, clients: new Set(), servers: new Set(), cert: 0, sa: 0 };
          edges.set(key, e);
        }
        e.requests += side.requests / dstNames.length || 0;
        e.connections += side.cxTotal;
        e.tls += side.tls;
        for (const [f, n] of Object.entries(side.flags)) e.flags[f] = (e.flags[f] ?? 0) + n / Math.max(1, dstNames.length);
        e.clients.add(idOf(pod, e));
        for (const p of dstPods) if (opts.resource.kind === 'svc' || ownerOf(p, targetsAll, opts.resource.kind) === dst) e.servers.add(idOf(p, e));
      }
    }
  }
  const out: Edge[] = [...edges.values()].map(({ flags, tls, clients, servers, cert, sa, ...e }) => {
    const share = e.connections > 0 ? Math.min(1, tls / e.connections) : null;
    const identitySource = cert && sa ? 'mixed' : cert ? 'certificates' : 'serviceaccounts';
    return { ...e, clientIds: [...clients].sort(), serverIds: [...servers].sort(), identitySource, mtlsShare: share, secured: share === 1 ? 'yes' : share === null || share === 0 ? 'no' : 'partial', requests: Math.round(e.requests), errors: flagCounts(flags) };
  });
  out.sort((a, b) => a.srcNamespace.localeCompare(b.srcNamespace) || a.src.localeCompare(b.src) || a.dstNamespace.localeCompare(b.dstNamespace) || a.dst.localeCompare(b.dst));
  return { edges: out, warnings };
}

/** Run `mesh edges`; returns the exit code. */
export async function runEdges(options: EdgesOptions, ui: Ui, cluster: Cluster): Promise<number> {
  const opts: EdgesOptions = { ...options, namespace: options.allNamespaces ? undefined : (options.namespace ?? cluster.defaultNamespace ?? 'default') };
  const { edges, warnings } = await collectEdges(cluster, opts);
  for (const w of warnings) ui.err.write(ui.color.yellow(`warning: ${w}`) + '\n');
  const { renderData, renderTable } = await import('../ui/output.js');
  if (opts.output === 'json' || opts.output === 'yaml') {
    ui.out.write(renderData({ edges }, opts.output));
    return ExitCode.Ok;
  }
  ui.out.write(renderTable<Edge>(edges, [
    { header: 'SRC', value: (e) => e.src },
    { header: 'DST', value: (e) => e.dst },
    { header: 'SRC_NS', value: (e) => e.srcNamespace },
    { header: 'DST_NS', value: (e) => e.dstNamespace },
    { header: 'SECURED', value: (e) => (e.secured === 'yes' ? '√' : e.secured === 'no' ? ui.color.red('no') : ui.color.yellow(`partial (${Math.round((e.mtlsShare ?? 0) * 100)}%)`)) },
    { header: 'CLIENT_ID', value: (e) => e.clientIds.join(','), wide: true },
    { header: 'SERVER_ID', value: (e) => e.serverIds.join(',') || '-', wide: true },
    { header: 'REQUESTS', value: (e) => String(e.requests), wide: true },
    { header: 'ERRORS', value: (e) => formatFlagCounts(e.errors), wide: true },
  ], { wide: opts.output === 'wide', emptyMessage: `No edges found${opts.namespace ? ` in namespace ${opts.namespace}` : ''}.` }));
  return ExitCode.Ok;
}
