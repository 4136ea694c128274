import { LABEL_MANAGED_BY, LABEL_PART_OF, PART_OF } from '../constants.js';

/** managed-by of generated NetworkPolicies: not the install's (`mesh`), so upgrade never prunes what the user applied. */
export const NETWORK_POLICY_MANAGER = 'mesh-network-policies';
import type { KubeObject } from '../cluster/types.js';
import { inboundPortAuthz, type IdMatch, type MeshModel, type Workload } from '../model/index.js';

// NetworkPolicies as defense in depth: for each meshed workload, an Ingress policy that admits at
// L4, port by port, the peers its authorization could allow (read from the same description the
// RBAC translation renders, model/authz.ts), so a bypassed or broken sidecar still leaves the pod
// reachable only by those who could reach it through the proxy. NetworkPolicies select pods by
// labels, not identities, so the peers are over-approximated: never narrower than authorization
// (test/manifests/network-policies.test.ts holds an L4 evaluator of the output to that), often wider.

/** Settings of the generated policies (from the values). */
export interface NetworkPolicyOptions {
  /** The sidecar's inbound capture port: admitted with each Service port (CNIs that see traffic after the redirect). */
  proxyInboundPort: number;
}

/** Labels that differ between pods of one workload (rollouts): never part of a generated selector. */
const VOLATILE_LABELS = new Set(['pod-template-hash', 'controller-revision-hash', 'statefulset.kubernetes.io/pod-name', 'apps.kubernetes.io/pod-index']);

type Peer = { namespaceSelector: { matchLabels: Record<string, string> }; podSelector?: { matchLabels: Record<string, string> } };

function stableLabels(w: Workload): Record<string, string> {
  return Object.fromEntries(Object.entries(w.labels).filter(([k]) => !VOLATILE_LABELS.has(k)).sort(([a], [b]) => a.localeCompare(b)));
}

const nsPeer = (ns: string): Peer => ({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } } });

/**
 * The L4 peers an identity match admits, or 'any': an exact identity is the pods of the input that
 * run as it (else its whole namespace: the pods may be outside the input); a prefix that names a
 * namespace is that namespace; anything wider is any peer.
 */
function peersOf(model: MeshModel, m: IdMatch): Peer[] | 'any' {
  if (m.kind === 'any' || m.kind === 'suffix') return 'any';
  const ns = new RegExp(`^spiffe://${model.trustDomain.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/ns/([^/]+)/`).exec(m.value)?.[1];
  if (ns === undefined) return m.kind === 'exact' ? [] : 'any';
  if (m.kind === 'prefix') return [nsPeer(ns)];
  const pods = model.workloads.filter((w) => w.identity === m.value);
  if (!pods.length) return [nsPeer(ns)];
  const selectors = new Map<string, Peer>();
  for (const w of pods) {
    const labels = stableLabels(w);
    selectors.set(JSON.stringify(labels), { ...nsPeer(w.namespace), podSelector: { matchLabels: labels } });
  }
  return [...selectors.values()];
}

/** The peers admitted on one Service port of a workload: 'any', or a list (empty: nobody). */
export function portPeers(model: MeshModel, w: Workload, port: number): Peer[] | 'any' {
  const authz = inboundPortAuthz(model, w, port);
  // No ALLOW layer: whatever a DENY rule stops, someone may get through, so L4 stays open.
  if (!authz.allow) return 'any';
  const peers = new Map<string, Peer>();
  for (const r of authz.allow.rules) {
    if (!r.permissions.some((p) => !p.ports.length || p.ports.includes(port))) continue;
    for (const m of r.principals) {
      const got = peersOf(model, m);
      if (got === 'any') return 'any';
      for (const p of got) peers.set(JSON.stringify(p), p);
    }
  }
  return [...peers.values()].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

/**
 * One Ingress NetworkPolicy per workload with Service ports (pods of equal stable labels share
 * one), named `mesh-authz-NAME`. Ports no Service exposes are left closed: stricter than the
 * sidecar's passthrough, on purpose. Pure and deterministic.
 */
export function networkPolicies(model: MeshModel, opts: NetworkPolicyOptions): KubeObject[] {
  const groups = new Map<string, Workload>();
  for (const w of model.workloads) {
    if (!w.ports.length) continue;
    const key = `${w.namespace}/${JSON.stringify(stableLabels(w))}`;
    if (!groups.has(key)) groups.set(key, w);
  }
  const names = new Set<string>();
  const out: KubeObject[] = [];
  for (const w of groups.values()) {
    const base = `mesh-authz-${w.labels.app ?? w.labels['app.kubernetes.io/name'] ?? w.name}`.slice(0, 60);
    let name = base;
    for (let i = 2; names.has(`${w.namespace}/${name}`); i++) name = `${base}-${i}`;
    names.add(`${w.namespace}/${name}`);
    const ingress = [...new Set(w.ports.map((p) => p.port))].sort((a, b) => a - b).flatMap((port) => {
      const peers = portPeers(model, w, port);
      if (peers !== 'any' && !peers.length) return [];
      const rule: Record<string, unknown> = { ports: [{ protocol: 'TCP', port }, { protocol: 'TCP', port: opts.proxyInboundPort }] };
      if (peers !== 'any') rule.from = peers;
      return [rule];
    });
    out.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name, namespace: w.namespace, labels: { [LABEL_PART_OF]: PART_OF, [LABEL_MANAGED_BY]: NETWORK_POLICY_MANAGER } },
      spec: { podSelector: { matchLabels: stableLabels(w) }, policyTypes: ['Ingress'], ingress },
    });
  }
  return out.sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
}
