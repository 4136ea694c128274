import type { AuthzOperation, AuthzPolicy, AuthzSource } from './types.js';

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

// ---------------------------------------------------------------------------------------------
// What a set of policies means for one inbound port, described once. The xDS translation renders
// this description as Envoy RBAC (src/xds/rbac.ts) and `decide` below evaluates it for `mesh authz
// check`, so the explanation users read and the config proxies enforce cannot drift apart. A
// property test (test/model/authz-property.test.ts) holds the two to the same answers.
// ---------------------------------------------------------------------------------------------

/** How a caller's identity (the URI SAN of its certificate) is compared: Envoy's `principal_name` StringMatcher. */
export type IdMatch = { kind: 'any' } | { kind: 'exact' | 'prefix' | 'suffix'; value: string };

/** How a request path is compared (Envoy `url_path`: the path without its query string). */
export interface PathMatch {
  kind: 'exact' | 'prefix' | 'suffix';
  value: string;
}

/** One `to` clause as enforced: every non-empty list must match (ports OR'd, methods OR'd, paths OR'd); all empty matches everything. */
export interface PermissionMatch {
  ports: number[];
  methods: string[];
  paths: PathMatch[];
}

/** One policy rule as enforced: matches when any principal and any permission match. */
export interface RuleMatch {
  action: 'ALLOW' | 'DENY';
  /** `NS/NAME` of the policy. */
  policy: string;
  /** Index of the rule in the policy's spec.rules. */
  rule: number;
  principals: IdMatch[];
  permissions: PermissionMatch[];
}

/** A rule that can never match on this port, and why (kept so an explanation can say so). */
export interface DroppedRule {
  policy: string;
  rule: number;
  why: string;
}

/** The policies of one action on one port, as enforced (one Envoy RBAC filter). */
export interface ActionRules {
  action: 'ALLOW' | 'DENY';
  rules: RuleMatch[];
  dropped: DroppedRule[];
  /** `NS/NAME` of the policies of this action that apply (an ALLOW policy without rules still turns allow-listing on). */
  policies: string[];
  /** ALLOW only: present because the namespace denies by default, not (only) because of ALLOW policies. */
  defaultDeny?: boolean;
}

/** The authorization of one inbound port: DENY rules are checked first, then ALLOW rules; a layer left out is not enforced. */
export interface PortAuthz {
  deny?: ActionRules;
  allow?: ActionRules;
}

/** `*` anything; `X*` prefix; `*X` suffix; else exact (Istio's wildcard forms for principals and paths). */
function wildcard(v: string, normalise: (s: string) => string): IdMatch {
  if (v === '*') return { kind: 'any' };
  if (v.length > 1 && v.endsWith('*')) return { kind: 'prefix', value: normalise(v.slice(0, -1)) };
  if (v.length > 1 && v.startsWith('*')) return { kind: 'suffix', value: v.slice(1) };
  return { kind: 'exact', value: normalise(v) };
}

/** The identities a `from` clause admits: principals (with their wildcards) and whole namespaces of the trust domain. */
export function sourceMatches(trustDomain: string, src: AuthzSource): IdMatch[] {
  const ids: IdMatch[] = src.principals.map((p) => wildcard(p, principalId));
  for (const ns of src.namespaces) ids.push(ns === '*' ? { kind: 'any' } : { kind: 'prefix', value: `spiffe://${trustDomain}/ns/${ns}/` });
  return ids;
}

function pathMatch(p: string): PathMatch {
  const m = wildcard(p, (s) => s);
  return m.kind === 'any' ? { kind: 'prefix', value: '/' } : m;
}

/**
 * One `to` clause on a port (`http`: the port is HTTP-aware), or a reason it can never match: on
 * an opaque port the HTTP fields cannot be checked, so an ALLOW on them never matches while a DENY
 * ignores them (fail closed).
 */
function operationMatch(op: AuthzOperation, http: boolean, action: 'ALLOW' | 'DENY'): PermissionMatch | string {
  if (op.invalidPorts && action === 'ALLOW') return 'its ports are not ports from 1 to 65535';
  const httpFields = op.methods.length > 0 || op.paths.length > 0;
  if (httpFields && !http && action === 'ALLOW') return 'it names methods or paths, which an opaque (TCP) port cannot check';
  return { ports: [...op.ports], methods: http ? [...op.methods] : [], paths: http ? op.paths.map(pathMatch) : [] };
}

/**
 * The rules of `policies` of one action on one port: undefined when none of that action applies
 * (and, for ALLOW, the namespace does not deny by default). An ALLOW layer with no rule that can
 * match allows nothing.
 */
export function actionRules(trustDomain: string, policies: readonly AuthzPolicy[], action: 'ALLOW' | 'DENY', http: boolean, defaultDeny = false): ActionRules | undefined {
  const selected = policies.filter((p) => p.action === action);
  const byDefault = action === 'ALLOW' && defaultDeny;
  if (!selected.length && !byDefault) return undefined;
  const out: ActionRules = { action, rules: [], dropped: [], policies: selected.map((p) => `${p.namespace}/${p.name}`) };
  if (byDefault) out.defaultDeny = true;
  for (const p of selected) {
    const policy = `${p.namespace}/${p.name}`;
    p.rules.forEach((r, rule) => {
      const ops = r.to.length ? r.to.map((op) => operationMatch(op, http, action)) : [{ ports: [], methods: [], paths: [] }];
      const permissions = ops.filter((x): x is PermissionMatch => typeof x !== 'string');
      const principals = r.from.length ? r.from.flatMap((src) => sourceMatches(trustDomain, src)) : [{ kind: 'any' as const }];
      if (!permissions.length) out.dropped.push({ policy, rule, why: ops.find((x): x is string => typeof x === 'string') ?? 'no operation can match' });
      else if (!principals.length) out.dropped.push({ policy, rule, why: 'its from clauses name no principal or namespace' });
      else out.rules.push({ action, policy, rule, principals, permissions });
    });
  }
  return out;
}

/** The authorization of one inbound port of a workload under the policies that apply to it. */
export function portAuthz(trustDomain: string, policies: readonly AuthzPolicy[], http: boolean, defaultDeny: boolean): PortAuthz {
  const out: PortAuthz = {};
  const deny = actionRules(trustDomain, policies, 'DENY', http);
  const allow = actionRules(trustDomain, policies, 'ALLOW', http, defaultDeny);
  if (deny) out.deny = deny;
  if (allow) out.allow = allow;
  return out;
}

/** A request as authorization sees it. */
export interface AuthzRequest {
  /** The caller's SPIFFE ID from its client certificate; undefined for a plaintext (unauthenticated) caller. */
  principal?: string;
  /** Destination port on the workload (the container port the connection arrives at). */
  port: number;
  /** HTTP method and path (without query); only read on HTTP-aware ports. */
  method?: string;
  path?: string;
}

/** The answer and who gave it. */
export interface AuthzDecision {
  allowed: boolean;
  /** `policy`: a rule matched; `default`: no rule matched and this is the default; `mtls`: refused before authorization. */
  by: 'policy' | 'default' | 'mtls';
  /** `NS/NAME` and rule index of the deciding rule, when a rule decided. */
  policy?: string;
  rule?: number;
  /** One sentence a user can act on. */
  reason: string;
}

function idMatches(m: IdMatch, principal: string | undefined): boolean {
  if (m.kind === 'any') return true;
  if (principal === undefined) return false;
  if (m.kind === 'exact') return principal === m.value;
  return m.kind === 'prefix' ? principal.startsWith(m.value) : principal.endsWith(m.value);
}

function pathMatches(m: PathMatch, path: string): boolean {
  return m.kind === 'exact' ? path === m.value : m.kind === 'prefix' ? path.startsWith(m.value) : path.endsWith(m.value);
}

/** Whether a permission holds for a request (a missing method or path matches no list that needs one). */
export function permissionMatches(p: PermissionMatch, req: AuthzRequest): boolean {
  if (p.ports.length && !p.ports.includes(req.port)) return false;
  if (p.methods.length && (req.method === undefined || !p.methods.includes(req.method))) return false;
  const path = req.path?.split('?')[0];
  if (p.paths.length && (path === undefined || !p.paths.some((m) => pathMatches(m, path)))) return false;
  return true;
}

/** The first rule (in order) of a layer that matches the request. */
export function firstMatch(layer: ActionRules, req: AuthzRequest): RuleMatch | undefined {
  return layer.rules.find((r) => r.principals.some((m) => idMatches(m, req.principal)) && r.permissions.some((p) => permissionMatches(p, req)));
}

/**
 * Decide a request under a port's authorization, as Envoy's RBAC filters do: a matching DENY rule
 * denies; else, when an ALLOW layer exists, only a matching ALLOW rule allows; else allowed.
 */
export function decide(authz: PortAuthz, req: AuthzRequest): AuthzDecision {
  const denied = authz.deny && firstMatch(authz.deny, req);
  if (denied) return { allowed: false, by: 'policy', policy: denied.policy, rule: denied.rule, reason: `DENY policy ${denied.policy} rule ${denied.rule} matches` };
  if (!authz.allow) return { allowed: true, by: 'default', reason: authz.deny ? 'no DENY rule matches and no ALLOW policy applies' : 'no AuthorizationPolicy applies to this workload' };
  const allowed = firstMatch(authz.allow, req);
  if (allowed) return { allowed: true, by: 'policy', policy: allowed.policy, rule: allowed.rule, reason: `ALLOW policy ${allowed.policy} rule ${allowed.rule} matches` };
  const why = authz.allow.policies.length
    ? `no rule of the ALLOW policies (${authz.allow.policies.join(', ')}) matches${authz.allow.defaultDeny ? ', and the namespace denies by default' : ''}`
    : 'the namespace denies by default and no ALLOW policy applies';
  return { allowed: false, by: 'default', reason: why };
}

/**
 * Rules of a port that match the caller and port of `req` but only some requests (they name
 * methods or paths): when there are any, the decision for one request does not hold for all.
 */
export function requestDependentRules(authz: PortAuthz, req: AuthzRequest): RuleMatch[] {
  const layers = [authz.deny, authz.allow].filter((l): l is ActionRules => l !== undefined);
  return layers.flatMap((l) => l.rules.filter((r) => r.principals.some((m) => idMatches(m, req.principal)) && r.permissions.some((p) => (p.methods.length > 0 || p.paths.length > 0) && (!p.ports.length || p.ports.includes(req.port)))));
}
