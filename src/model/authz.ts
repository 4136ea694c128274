import type { AuthzPolicy, AuthzSource } from './types.js';

// The one reading of AuthorizationPolicy semantics, shared by the xDS translation (which turns
// policies into Envoy RBAC) and the analyzers (which reason about who may call whom): which
// workloads a policy applies to and which callers a `from` clause names.

/** Whether `p` applies to a workload in `namespace` with `labels`: same namespace, and its selector matches or it has none. */
export function policyApplies(p: AuthzPolicy, namespace: string, labels: Readonly<Record<string, string>>): boolean {
  return p.namespace === namespace && (!p.selector || Object.entries(p.selector).every(([k, v]) => labels[k] === v));
}

const PRINCIPAL = /^(?:spiffe:\/\/)?([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/;

/**
 * The parts of a principal written `TD/ns/NS/sa/SA` or `spiffe://TD/ns/NS/sa/SA`; undefined when
 * it has wildcards or another shape (it then names no single service account).
 */
export function parsePrincipal(p: string): { trustDomain: string; namespace: string; serviceAccount: string } | undefined {
  if (p.includes('*')) return undefined;
  const m = PRINCIPAL.exec(p);
  return m ? { trustDomain: m[1]!, namespace: m[2]!, serviceAccount: m[3]! } : undefined;
}

/** The SPIFFE ID a (non-wildcard) principal matches exactly: `TD/ns/NS/sa/SA` gains its `spiffe://`. */
export function principalId(p: string): string {
  return p.startsWith('spiffe://') ? p : `spiffe://${p}`;
}

/** Whether a `from` clause names the caller running as `namespace`/`serviceAccount` (by principal or by namespace, not by `*`). */
export function namesCaller(src: AuthzSource, namespace: string, serviceAccount: string): boolean {
  return src.namespaces.includes(namespace) || src.principals.some((p) => {
    const id = parsePrincipal(p);
    return id !== undefined && id.namespace === namespace && id.serviceAccount === serviceAccount;
  });
}
