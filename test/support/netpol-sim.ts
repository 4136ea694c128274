// A test-side L4 evaluator of Kubernetes NetworkPolicies (networking.k8s.io/v1), written from the
// API's documented semantics: a pod is isolated for ingress when some policy in its namespace
// selects it (podSelector matchLabels; {} selects all) with Ingress in policyTypes; an isolated pod
// admits a connection when some rule of some selecting policy matches both its port (ports empty:
// any; protocol TCP by default) and its source (from empty: any; a peer with podSelector only: pods
// of the policy's namespace; namespaceSelector only: every pod of matching namespaces; both: pods
// matching in matching namespaces). Namespaces carry kubernetes.io/metadata.name.
import type { KubeObject } from '../../src/cluster/types.ts';

/** A pod as NetworkPolicies see it. */
export interface NetPod {
  namespace: string;
  labels: Record<string, string>;
}

type Sel = { matchLabels?: Record<string, string> } | undefined;
const matches = (sel: Sel, labels: Record<string, string>): boolean => Object.entries(sel?.matchLabels ?? {}).every(([k, v]) => labels[k] === v);

/** Whether `to` admits a TCP connection from `from` on `port` under `policies`. */
export function l4Allowed(policies: readonly KubeObject[], from: NetPod, to: NetPod, port: number, nsLabels: (ns: string) => Record<string, string> = (ns) => ({ 'kubernetes.io/metadata.name': ns })): boolean {
  const selecting = policies.filter((p) => {
    const spec = p.spec as { podSelector?: Sel; policyTypes?: string[] };
    return p.kind === 'NetworkPolicy' && p.metadata.namespace === to.namespace && matches(spec.podSelector, to.labels) && (spec.policyTypes ?? ['Ingress']).includes('Ingress');
  });
  if (!selecting.length) return true;
  return selecting.some((p) => {
    const rules = ((p.spec as { ingress?: unknown[] }).ingress ?? []) as { ports?: { port?: number; protocol?: string }[]; from?: { podSelector?: Sel; namespaceSelector?: Sel; ipBlock?: unknown }[] }[];
    return rules.some((r) => {
      const portOk = !r.ports?.length || r.ports.some((x) => (x.protocol ?? 'TCP') === 'TCP' && (x.port === undefined || x.port === port));
      if (!portOk) return false;
      if (!r.from?.length) return true;
      return r.from.some((peer) => {
        if (peer.ipBlock) throw new Error('netpol-sim: ipBlock is not modelled');
        const nsOk = peer.namespaceSelector ? matches(peer.namespaceSelector, nsLabels(from.namespace)) : from.namespace === p.metadata.namespace;
        return nsOk && (!peer.podSelector || matches(peer.podSelector, from.labels));
      });
    });
  });
}
