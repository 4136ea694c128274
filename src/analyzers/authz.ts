import { MESH_DOMAIN } from '../constants.js';
import { CODES } from './codes.js';
import { arr, isObj, refOf, selects, where, type AnalysisIndex } from './lookup.js';
import type { Analyzer, Finding, SourcedObject } from './types.js';

/** Our AuthorizationPolicy objects (mesh.dev/*). */
export function authzPolicies(index: AnalysisIndex): SourcedObject[] {
  return (index.kinds.get('AuthorizationPolicy') ?? []).filter((s) => s.object.apiVersion.startsWith(`${MESH_DOMAIN}/`));
}

/** The matchLabels of a policy's selector, or undefined (the whole namespace). */
export function policySelector(o: SourcedObject): Record<string, string> | undefined {
  const spec = isObj(o.object.spec) ? o.object.spec : {};
  if (!isObj(spec.selector) || !isObj(spec.selector.matchLabels)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(spec.selector.matchLabels)) if (typeof v === 'string') out[k] = v;
  return Object.keys(out).length ? out : undefined;
}

/** Principals of every `from` of a policy: `TD/ns/NS/sa/SA` or `spiffe://TD/ns/NS/sa/SA`. */
export function policyPrincipals(o: SourcedObject): string[] {
  const spec = isObj(o.object.spec) ? o.object.spec : {};
  const out: string[] = [];
  for (const rule of arr(spec.rules)) {
    for (const f of arr(rule.from)) {
      const src = isObj(f.source) ? f.source : f;
      if (Array.isArray(src.principals)) for (const p of src.principals) if (typeof p === 'string') out.push(p);
    }
  }
  return out;
}

/** Namespaces named by every `from` of a policy. */
export function policyNamespaces(o: SourcedObject): string[] {
  const spec = isObj(o.object.spec) ? o.object.spec : {};
  const out: string[] = [];
  for (const rule of arr(spec.rules)) {
    for (const f of arr(rule.from)) {
      const src = isObj(f.source) ? f.source : f;
      if (Array.isArray(src.namespaces)) for (const n of src.namespaces) if (typeof n === 'string') out.push(n);
    }
  }
  return out;
}

const PRINCIPAL = /^(?:spiffe:\/\/)?[^/]+\/ns\/([^/]+)\/sa\/([^/]+)$/;

/** `{ns, sa}` of a principal, or undefined when it has wildcards or another shape. */
export function parsePrincipal(p: string): { ns: string; sa: string } | undefined {
  if (p.includes('*')) return undefined;
  const m = PRINCIPAL.exec(p);
  return m ? { ns: m[1]!, sa: m[2]! } : undefined;
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
      const ns = p.object.metadata.namespace ?? 'default';
      const sel = policySelector(p);
      const inNs = index.workloadsIn(ns);
      const selected = sel ? inNs.filter((w) => selects(sel, w.labels)) : inNs;
      if (selected.length === 0) {
        const what = sel ? `selector ${Object.entries(sel).map(([k, v]) => `${k}=${v}`).join(',')}` : 'the whole namespace';
        out.push({ code: CODES.authzNoWorkload.code, severity: CODES.authzNoWorkload.severity, message: `${what} matches no workload in namespace ${ns}, so the policy applies to nothing`, resource: refOf(p.object), ...where(p) });
      }
      for (const principal of policyPrincipals(p)) {
        const id = parsePrincipal(principal);
        if (!id) continue;
        const known = index.complete || index.namespaces.has(id.ns);
        if (known && !index.serviceAccounts.has(`${id.ns}/${id.sa}`) && id.sa !== 'default') {
          out.push({ code: CODES.authzUnknownAccount.code, severity: CODES.authzUnknownAccount.severity, message: `principal ${principal} names service account ${id.ns}/${id.sa}, which does not exist, so this rule matches no caller`, resource: refOf(p.object), ...where(p) });
        }
      }
    }
    return out;
  },
};
