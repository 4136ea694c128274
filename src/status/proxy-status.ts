import type { Cluster } from '../cluster/types.js';
import type { Ui } from '../ui/context.js';
import { ExitCode } from '../errors.js';
import { syncAll, typeState, XDS_TYPES, type ControllerLocation, type TypeState, type XdsShort } from './controller-debug.js';
import { isMeshed, isRunning } from './workloads.js';

/** Options of `mesh proxy-status`. */
export interface ProxyStatusOptions {
  /** NAME or NAME.NAMESPACE of one pod; all proxies when undefined. */
  pod?: string;
  /** Only this namespace (undefined: all). */
  namespace?: string;
  output: 'table' | 'wide' | 'json' | 'yaml';
  controller: ControllerLocation;
}

/** One proxy in `mesh proxy-status -o json`. */
export interface ProxyStatusRow {
  /** POD.NAMESPACE for sidecars, the node ID otherwise. */
  name: string;
  id: string | null;
  namespace: string | null;
  pod: string | null;
  kind: string | null;
  /** Controller replica (pod) holding the proxy's stream; null when no replica knows it. */
  controller: string | null;
  connected: boolean;
  types: Record<XdsShort, TypeState>;
  snapshotVersion: string | null;
  /** The latest NACK's type and message, when a type is NACKED. */
  nack: { type: XdsShort; version: string; message: string } | null;
}

/** The stable shape of `mesh proxy-status -o json`. */
export interface ProxyStatusReport {
  controllers: { pod: string; reachable: boolean; error: string | null; ready: boolean | null; generation: number | null }[];
  proxies: ProxyStatusRow[];
}

const SHORTS = Object.keys(XDS_TYPES) as XdsShort[];

/** Parse NAME or NAME.NAMESPACE. */
export function parsePodArg(arg: string, namespace: string | undefined): { name: string; namespace: string | undefined } {
  const dot = arg.indexOf('.');
  return dot > 0 ? { name: arg.slice(0, dot), namespace: arg.slice(dot + 1) } : { name: arg, namespace };
}

/**
 * Collect every proxy from every controller replica's /debug/syncz, plus meshed pods no replica
 * knows (NOT CONNECTED). Pure apart from the cluster calls.
 */
export async function collectProxyStatus(cluster: Cluster, opts: ProxyStatusOptions): Promise<ProxyStatusReport> {
  const want = opts.pod ? parsePodArg(opts.pod, opts.namespace) : undefined;
  const ns = want?.namespace ?? opts.namespace;
  const [replicas, pods] = await Promise.all([syncAll(cluster, opts.controller), cluster.list('v1', 'Pod', { namespace: ns })]);
  const rows: ProxyStatusRow[] = [];
  const seen = new Set<string>();
  for (const r of replicas) {
    for (const p of r.syncz?.proxies ?? []) {
      if (ns && p.namespace !== ns) continue;
      if (want && p.pod !== want.name && p.id !== opts.pod) continue;
      // A proxy that reconnected may show an old stream next to the new one: the newest counts.
      const stream = [...p.streams].sort((a, b) => b.streamId - a.streamId)[0];
      const types = Object.fromEntries(SHORTS.map((s) => [s, p.connected && stream ? typeState(stream.types[XDS_TYPES[s]]) : '-'])) as Record<XdsShort, TypeState>;
      let nack: ProxyStatusRow['nack'] = null;
      for (const s of SHORTS) {
        const t = stream?.types[XDS_TYPES[s]];
        if (types[s] === 'NACKED' && t?.lastNack) {
          nack = { type: s, version: t.lastNack.version, message: t.lastNack.message };
          break;
        }
      }
      const name = p.pod && p.namespace ? `${p.pod}.${p.namespace}` : p.id;
      seen.add(name);
      rows.push({ name, id: p.id, namespace: p.namespace ?? null, pod: p.pod ?? null, kind: p.kind, controller: r.pod, connected: p.connected, types, snapshotVersion: p.snapshotVersion ?? null, nack });
    }
  }
  for (const pod of pods) {
    if (!isMeshed(pod) || !isRunning(pod)) continue;
    if (want && pod.metadata.name !== want.name) continue;
    const name = `${pod.metadata.name}.${pod.metadata.namespace}`;
    if (seen.has(name)) continue;
    rows.push({ name, id: null, namespace: pod.metadata.namespace ?? null, pod: pod.metadata.name, kind: null, controller: null, connected: false, types: Object.fromEntries(SHORTS.map((s) => [s, '-'])) as Record<XdsShort, TypeState>, snapshotVersion: null, nack: null });
  }
  rows.sort((a, b) => a.name.localeCompare(b.name) || (a.controller ?? '').localeCompare(b.controller ?? ''));
  return {
    controllers: replicas.map((r) => ({ pod: r.pod, reachable: !r.error, error: r.error ?? null, ready: r.syncz?.ready ?? null, generation: r.syncz?.generation ?? null })),
    proxies: rows,
  };
}

/** Run `mesh proxy-status`; exit 0 (the table says what is wrong), 1 when a named pod has no proxy at all. */
export async function runProxyStatus(opts: ProxyStatusOptions, ui: Ui, cluster: Cluster): Promise<number> {
  const report = await collectProxyStatus(cluster, opts);
  for (const c of report.controllers) if (!c.reachable) ui.err.write(ui.color.yellow(`warning: controller replica ${c.pod} did not answer /debug/syncz: ${c.error}; proxies connected to it are missing`) + '\n');
  if (opts.output === 'json' || opts.output === 'yaml') {
    const { renderData } = await import('../ui/output.js');
    ui.out.write(renderData(report, opts.output));
  } else {
    const { renderTable } = await import('../ui/output.js');
    type R = ProxyStatusRow;
    const paint = (s: TypeState) => (s === 'SYNCED' ? s : s === 'NACKED' ? ui.color.red(s) : s === '-' ? s : ui.color.yellow(s));
    ui.out.write(renderTable<R>(report.proxies, [
      { header: 'NAME', value: (r) => r.name },
      { header: 'CONTROLLER', value: (r) => r.controller ?? (r.connected ? '' : ui.color.red('NOT CONNECTED')) },
      ...SHORTS.map((s) => ({ header: s, value: (r: R) => paint(r.types[s]) })),
      { header: 'KIND', value: (r) => r.kind ?? '-', wide: true },
      { header: 'VERSION', value: (r) => r.snapshotVersion ?? '-', wide: true },
      { header: 'NACK', value: (r) => (r.nack ? `${r.nack.type}: ${r.nack.message}` : ''), wide: true },
    ], { wide: opts.output === 'wide', emptyMessage: 'No proxies found: no injected pods are running and no proxy is connected to the controller.' }));
    for (const r of report.proxies) if (r.nack && opts.output !== 'wide') ui.err.write(ui.color.red(`${r.name}: ${r.nack.type} version ${r.nack.version} was NACKed: ${r.nack.message}`) + '\n');
  }
  if (opts.pod && report.proxies.length === 0) {
    ui.err.write(`error: no proxy for pod ${opts.pod}: the pod is not meshed, not running, or not in this namespace\n  hint: check "kubectl get pod ${parsePodArg(opts.pod, opts.namespace).name}" and -n\n`);
    return ExitCode.Failed;
  }
  return ExitCode.Ok;
}
