import { LABEL_PROXY_VERSION, PROXY_CONTAINER } from '../constants.js';
import type { Source } from '../cluster/source.js';
import type { KubeObject } from '../cluster/types.js';
import { usageError } from '../errors.js';

// The one kubectl TYPE/NAME parser lives in cluster/ so that route/ (below status/) reads it too.
export { KINDS, parseResourceRef, type ResourceKind, type ResourceRef } from '../cluster/resource-ref.js';
import { KINDS, type ResourceRef } from '../cluster/resource-ref.js';
import { labelSelectorMatches, type LabelSelector } from '../util/labels.js';

/** Short text of a reference: `deploy/web`. */
export function refText(r: ResourceRef): string {
  return r.name ? `${r.kind}/${r.name}` : r.kind;
}

/** The pod selector of a workload or Service; undefined when it selects nothing (a Service without selector). */
export function podSelectorOf(obj: KubeObject): LabelSelector | undefined {
  const spec = (obj.spec ?? {}) as { selector?: LabelSelector | Record<string, string> };
  if (obj.kind === 'Service') {
    const sel = spec.selector as Record<string, string> | undefined;
    return sel && Object.keys(sel).length > 0 ? { matchLabels: sel } : undefined;
  }
  return (spec.selector as LabelSelector | undefined) ?? undefined;
}

/** Pods (same namespace) selected by a workload, Service, pod (itself) or namespace (all of it). */
export function podsOf(obj: KubeObject, pods: readonly KubeObject[]): KubeObject[] {
  if (obj.kind === 'Namespace') return pods.filter((p) => p.metadata.namespace === obj.metadata.name);
  if (obj.kind === 'Pod') return pods.filter((p) => p.metadata.namespace === obj.metadata.namespace && p.metadata.name === obj.metadata.name);
  const sel = podSelectorOf(obj);
  if (!sel) return [];
  return pods.filter((p) => p.metadata.namespace === obj.metadata.namespace && labelSelectorMatches(sel, p.metadata.labels ?? {}));
}

/** Whether a pod runs a mesh proxy: the injector's proxy-version label or its sidecar container. */
export function isMeshed(pod: KubeObject): boolean {
  if (pod.metadata.labels?.[LABEL_PROXY_VERSION] !== undefined) return true;
  const spec = (pod.spec ?? {}) as { containers?: { name: string }[]; initContainers?: { name: string }[] };
  return [...(spec.containers ?? []), ...(spec.initContainers ?? [])].some((c) => c.name === PROXY_CONTAINER);
}

/** Whether a pod can answer: not finished or pending (pods without a phase, as in files, count as running). */
export function isRunning(pod: KubeObject): boolean {
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  return phase === undefined || phase === 'Running';
}

/** The objects one command works on, listed once. */
export interface Inventory {
  pods: KubeObject[];
  services: KubeObject[];
  /** Objects of the asked kind (namespaces for `ns`). */
  targets: KubeObject[];
}

/**
 * Read pods, Services and the objects of `kind` in `namespace` (all namespaces when undefined)
 * from `source`, in parallel. A named object that does not exist is a usage error naming it.
 */
export async function loadInventory(source: Source, ref: ResourceRef, namespace: string | undefined): Promise<Inventory> {
  const { apiVersion, kind } = KINDS[ref.kind];
  const read = async (k: { apiVersion: string; kind: string }): Promise<KubeObject[]> => (await source.list({ kinds: [k], namespace })).map((o) => o.object);
  const targetsP: Promise<KubeObject[]> =
    ref.kind === 'ns'
      ? ref.name
        ? Promise.resolve([{ apiVersion, kind, metadata: { name: ref.name } }])
        : namespace
          ? Promise.resolve([{ apiVersion, kind, metadata: { name: namespace } }])
          : read({ apiVersion, kind })
      : ref.kind === 'pod' || ref.kind === 'svc'
        ? Promise.resolve([])
        : read({ apiVersion, kind });
  const [pods, services, listed] = await Promise.all([read(KINDS.pod), read(KINDS.svc), targetsP]);
  let targets = ref.kind === 'pod' ? pods : ref.kind === 'svc' ? services : listed;
  if (ref.name && ref.kind !== 'ns') {
    targets = targets.filter((t) => t.metadata.name === ref.name);
    if (targets.length === 0) throw usageError(`${KINDS[ref.kind].kind} "${ref.name}" not found in namespace ${namespace ?? '(all)'}`, 'check the name and -n (kubectl get ' + ref.kind + ' -n NAMESPACE)');
  }
  return { pods, services, targets: [...targets].sort((a, b) => (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') || a.metadata.name.localeCompare(b.metadata.name)) };
}

/**
 * Services a reference stands for, as a traffic destination: a Service itself; the Services
 * selecting a workload's or pod's pods; every Service of a namespace.
 */
export function servicesOf(target: KubeObject, inv: Inventory): KubeObject[] {
  const ns = target.kind === 'Namespace' ? target.metadata.name : target.metadata.namespace;
  const inNs = inv.services.filter((s) => s.metadata.namespace === ns);
  if (target.kind === 'Service') return inNs.filter((s) => s.metadata.name === target.metadata.name);
  if (target.kind === 'Namespace') return inNs;
  const pods = podsOf(target, inv.pods);
  return inNs.filter((s) => {
    const sel = podSelectorOf(s);
    return sel !== undefined && pods.some((p) => labelSelectorMatches(sel, p.metadata.labels ?? {}));
  });
}

/** The pod ports a Service sends to (numeric targetPorts, named ones resolved on the pods). */
export function targetPortsOf(svc: KubeObject, pods: readonly KubeObject[]): Set<number> {
  const ports = ((svc.spec ?? {}) as { ports?: { port: number; targetPort?: number | string }[] }).ports ?? [];
  const out = new Set<number>();
  for (const p of ports) {
    const t = p.targetPort ?? p.port;
    if (typeof t === 'number' || /^\d+$/.test(String(t))) {
      out.add(Number(t));
      continue;
    }
    for (const pod of pods) {
      const containers = ((pod.spec ?? {}) as { containers?: { ports?: { name?: string; containerPort: number }[] }[] }).containers ?? [];
      for (const c of containers) for (const cp of c.ports ?? []) if (cp.name === t) out.add(cp.containerPort);
    }
  }
  return out;
}
