import { MESH_DOMAIN } from '../constants.js';
import { CODES } from './codes.js';
import { parsePrincipal, policyApplies, type AuthzPolicy } from '../model/index.js';
import { refOf, where, type AnalysisIndex } from './lookup.js';
import type { Analyzer, Finding, SourcedObject } from './types.js';

/** Our AuthorizationPolicy objects (mesh.dev/*). */
export function authzPolicies(index: AnalysisIndex): SourcedObject[] {
  return (index.kinds.get('AuthorizationPolicy') ?? []).filter((s) => s.object.apiVersion.startsWith(`${MESH_DOMAIN}/`));
}

/**
 * A policy as the model reads it (the same reading the xDS translation uses), or undefined when
 * the model skipped it (its warning says why).
 */
export function modelPolicy(index: AnalysisIndex, o: SourcedObject): AuthzPolicy | undefined {
  const ns = o.object.metadata.namespace ?? 'default';
  return index.model.authz.find((p) => p.namespace === ns && p.name === o.object.metadata.name);
}

/**
 * AuthorizationPolicies that select no workload (MSH0007) or name service accounts that do not exist
 * (MSH0008). Offline, a service account counts as unknown only when its namespace is in the input
 * (declared ServiceAccounts and those workloads run as), since the rest of the cluster is unseen.
 */
export const authorization: Analyzer<AnalysisIndex> = {
  name: 'authorization',
  codes: [CODES.authzNoWorkload, CODES.authzUnknownAccount],
  analyze(index) {
    const out: Finding[] = [];
    for (const p of authzPolicies(index)) {
      const policy = modelPolicy(index, p);
      if (!policy) continue;
      const ns = policy.namespace;
      const sel = policy.selector;
      const selected = index.workloadsIn(ns).filter((w) => policyApplies(policy, ns, w.labels));
      if (selected.length === 0) {
        const what = sel ? `selector ${Object.entries(sel).map(([k, v]) => `${k}=${v}`).join(',')}` : 'the whole namespace';
        out.push({ code: CODES.authzNoWorkload.code, severity: CODES.authzNoWorkload.severity, message: `${what} matches no workload in namespace ${ns}, so the policy applies to nothing`, resource: refOf(p.object), ...where(p) });
      }
      for (const principal of policy.rules.flatMap((r) => r.from.flatMap((f) => f.principals))) {
        const id = parsePrincipal(principal);
        if (!id) continue;
        const known = index.complete || index.namespaces.has(id.namespace);
        if (known && !index.serviceAccounts.has(`${id.namespace}/${id.serviceAccount}`) && id.serviceAccount !== 'default') {
          out.push({ code: CODES.authzUnknownAccount.code, severity: CODES.authzUnknownAccount.severity, message: `principal ${principal} names service account ${id.namespace}/${id.serviceAccount}, which does not exist, so this rule matches no caller`, resource: refOf(p.object), ...where(p) });
        }
      }
    }
    return out;
  },
};
