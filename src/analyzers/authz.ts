import { MESH_DOMAIN } from '../constants.js';
import { CODES } from './codes.js';
import { inboundPortAuthz, selectedIn, parsePrincipal, policyApplies, templatePods, withPods, type AuthzPolicy } from '../model/index.js';
import { isDns1123Label, isDns1123Subdomain } from '../names.js';
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
  return policiesByName(index).get(`${ns}/${o.object.metadata.name}`);
}

/** `NS/NAME` -> the model's policy (the first of that name, as a search in order finds), per model. */
const byName = new WeakMap<readonly AuthzPolicy[], Map<string, AuthzPolicy>>();
function policiesByName(index: AnalysisIndex): Map<string, AuthzPolicy> {
  let m = byName.get(index.model.authz);
  if (!m) {
    m = new Map();
    for (const p of index.model.authz) {
      const key = `${p.namespace}/${p.name}`;
      if (!m.has(key)) m.set(key, p);
    }
    byName.set(index.model.authz, m);
  }
  return m;
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
      // A selector with labels: only the workloads carrying them can match; none: the whole namespace.
      const candidates = sel && Object.keys(sel).length > 0 ? index.selectedBy(ns, sel) : index.workloadsIn(ns);
      const selected = candidates.filter((w) => policyApplies(policy, ns, w.labels));
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

/** Why a principal can match no caller, or undefined when it can. */
export function principalProblem(p: string, trustDomain: string | undefined): string | undefined {
  if (p === '*') return undefined;
  const inner = p.replace(/^\*/, '').replace(/\*$/, '');
  if (inner.includes('*')) return `principal ${p} has a * inside: only *, PREFIX* and *SUFFIX are wildcards, so it matches no caller`;
  if (p !== inner) return undefined;
  const id = parsePrincipal(p);
  if (!id) return `principal ${p} is not TRUST_DOMAIN/ns/NAMESPACE/sa/SERVICEACCOUNT (or spiffe://...), so it matches no caller`;
  if (!isDns1123Label(id.namespace) || !isDns1123Subdomain(id.serviceAccount)) return `principal ${p} names namespace "${id.namespace}" and service account "${id.serviceAccount}", which Kubernetes would not accept, so it matches no caller`;
  if (trustDomain !== undefined && id.trustDomain !== trustDomain) return `principal ${p} is in trust domain ${id.trustDomain}, not the mesh's ${trustDomain}, so it matches no caller`;
  return undefined;
}

/**
 * Principals and namespaces that can match no caller (MSH0030): a * inside, another shape than
 * TD/ns/NS/sa/SA, names Kubernetes refuses, and (live only, where the trust domain is the mesh's
 * own) another trust domain.
 */
export const authorizationIdentities: Analyzer<AnalysisIndex> = {
  name: 'authorization-identities',
  codes: [CODES.authzBadIdentity],
  analyze(index) {
    const out: Finding[] = [];
    const c = CODES.authzBadIdentity;
    for (const p of authzPolicies(index)) {
      const policy = modelPolicy(index, p);
      if (!policy) continue;
      const push = (message: string) => out.push({ code: c.code, severity: c.severity, message, resource: refOf(p.object), ...where(p) });
      for (const src of policy.rules.flatMap((r) => r.from)) {
        for (const principal of src.principals) {
          const why = principalProblem(principal, index.complete ? index.model.trustDomain : undefined);
          if (why) push(why);
        }
        for (const ns of src.namespaces) if (ns !== '*' && !isDns1123Label(ns)) push(`namespace "${ns}" is not a namespace name (wildcards are * alone), so it matches no caller`);
      }
    }
    return out;
  },
};

/**
 * Rules that never take effect (MSH0031): an ALLOW rule on methods or paths when every port of
 * every selected workload is opaque TCP (the RBAC translation drops it), and ALLOW policies on a
 * workload where a DENY rule matches every request. Read from the same description the RBAC
 * translation renders (model/authz.ts).
 */
export const authorizationEffect: Analyzer<AnalysisIndex> = {
  name: 'authorization-effect',
  codes: [CODES.authzIneffective],
  analyze(index) {
    const out: Finding[] = [];
    const c = CODES.authzIneffective;
    const policies = authzPolicies(index);
    if (!policies.length) return out;
    // Manifests hold Deployments more than Pods: their templates stand in, as for `mesh authz -f`.
    // Only the workloads of the index's model change (building a second model was a sixth of `check -f`).
    const model = index.complete ? index.model : withPods(index.model, templatePods(index.objects.map((s) => s.object)));
    for (const p of policies) {
      const policy = modelPolicy(index, p);
      if (!policy) continue;
      const key = `${policy.namespace}/${policy.name}`;
      const selected = selectedIn(model.workloads, policy.namespace, policy.selector).filter((w) => w.ports.length > 0);
      if (!selected.length) continue;
      const push = (message: string) => out.push({ code: c.code, severity: c.severity, message, resource: refOf(p.object), ...where(p) });
      if (policy.action === 'ALLOW') {
        const kept = new Set<number>();
        const dropped = new Map<number, string>();
        for (const w of selected) {
          for (const port of w.ports) {
            const allow = inboundPortAuthz(model, w, port.port).allow;
            for (const r of allow?.rules ?? []) if (r.policy === key) kept.add(r.rule);
            for (const d of allow?.dropped ?? []) if (d.policy === key) dropped.set(d.rule, d.why);
          }
        }
        policy.rules.forEach((_, i) => {
          if (!kept.has(i) && dropped.has(i)) push(`rule ${i} never allows anything on the workloads it selects: ${dropped.get(i)!}`);
        });
        for (const w of selected) {
          const all = w.ports.every((port) => inboundPortAuthz(model, w, port.port).deny?.rules.some((r) => r.principals.some((m) => m.kind === 'any') && r.permissions.some((x) => !x.ports.length && !x.methods.length && !x.paths.length)));
          if (all) {
            const deny = inboundPortAuthz(model, w, w.ports[0]!.port).deny!.rules.find((r) => r.principals.some((m) => m.kind === 'any'))!;
            push(`DENY policy ${deny.policy} rule ${deny.rule} denies every request to ${w.namespace}/${w.name}, so this ALLOW policy never allows anything there`);
            break;
          }
        }
      }
    }
    return out;
  },
};
