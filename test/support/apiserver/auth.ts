// Authentication (bearer tokens -> users, with audiences for TokenReview) and an RBAC-like
// authorizer: allow rules per user or group, plus deny rules tests add to take a verb away.
import { randomBytes, randomUUID } from 'node:crypto';

/** An authenticated user, as TokenReview and SelfSubjectReview report it. */
export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** A PolicyRule, optionally limited to namespaces (like a RoleBinding; absent = cluster-wide). */
export interface Rule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  namespaces?: string[];
  nonResourceURLs?: string[];
}

/** What a request wants to do, as the authorizer sees it. */
export interface Attributes {
  verb: string;
  group?: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  /** Set for non-resource requests (/version, /apis...). */
  path?: string;
}

/** Audience a token carries when it was registered without one (the API server's own). */
export const DEFAULT_AUDIENCE = 'https://kubernetes.default.svc.cluster.local';

interface TokenEntry {
  user: UserInfo;
  audiences: string[];
}

const ALL: Rule = { verbs: ['*'], apiGroups: ['*'], resources: ['*'] };
const ALL_URLS: Rule = { verbs: ['*'], nonResourceURLs: ['*'] };
// system:discovery, system:public-info-viewer and system:basic-user, bound to every authenticated user.
const BASIC: Rule[] = [
  { verbs: ['get'], nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/version', '/version/', '/healthz', '/livez', '/readyz', '/openapi', '/openapi/*'] },
  { verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'] },
  { verbs: ['create'], apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'] },
];

const has = (list: string[] | undefined, v: string) => !list || list.length === 0 ? false : list.includes('*') || list.includes(v);

function ruleMatches(r: Rule, a: Attributes): boolean {
  if (!has(r.verbs, a.verb)) return false;
  if (a.path !== undefined) {
    return (r.nonResourceURLs ?? []).some((u) => u === '*' || u === a.path || (u.endsWith('*') && a.path!.startsWith(u.slice(0, -1))));
  }
  if (!r.resources || !has(r.apiGroups, a.group ?? '')) return false;
  const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource!;
  if (!(r.resources.includes('*') || r.resources.includes(res) || (a.subresource && r.resources.includes(`*/${a.subresource}`)))) return false;
  if (r.resourceNames?.length && (!a.name || !r.resourceNames.includes(a.name))) return false;
  if (r.namespaces && (!a.namespace || !r.namespaces.includes(a.namespace))) return false;
  return true;
}

/** Tokens, users and rules. Mutate freely from tests; requests see changes immediately. */
export class Auth {
  private readonly tokens = new Map<string, TokenEntry>();
  private readonly allowRules = new Map<string, Rule[]>();
  private readonly denyRules: { subject?: string; rule: Rule }[] = [];
  /**
   * Checks a pod-bound ServiceAccount token's pod at review time, as the real API server does:
   * returns why the token is no longer valid (its pod was deleted, or recreated with another UID).
   * The ApiServer sets it; tokens registered directly with a pod that was never created stay valid.
   */
  boundPodCheck: ((namespace: string, pod: string, uid: string | undefined) => string | undefined) | undefined;

  /** Register a bearer token for a user; returns the token (random when not given). */
  addToken(user: UserInfo | string, opts: { token?: string; audiences?: string[] } = {}): string {
    const token = opts.token ?? randomBytes(24).toString('base64url');
    const u = typeof user === 'string' ? { username: user, groups: [] } : user;
    const groups = u.groups.includes('system:authenticated') ? u.groups : [...u.groups, 'system:authenticated'];
    this.tokens.set(token, { user: { uid: randomUUID(), ...u, groups }, audiences: opts.audiences?.length ? opts.audiences : [DEFAULT_AUDIENCE] });
    return token;
  }

  /** Register a ServiceAccount token (`system:serviceaccount:NS:NAME`), e.g. with the mesh CA's audience. */
  addServiceAccountToken(namespace: string, name: string, opts: { audiences?: string[]; token?: string; podName?: string; podUid?: string; uid?: string } = {}): string {
    const extra: Record<string, string[]> = {};
    if (opts.podName) extra['authentication.kubernetes.io/pod-name'] = [opts.podName];
    if (opts.podUid) extra['authentication.kubernetes.io/pod-uid'] = [opts.podUid];
    return this.addToken(
      { username: `system:serviceaccount:${namespace}:${name}`, uid: opts.uid ?? randomUUID(), groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`], ...(opts.podName ? { extra } : {}) },
      opts,
    );
  }

  removeToken(token: string): void {
    this.tokens.delete(token);
  }

  /** The user a token belongs to, or undefined when unknown. */
  authenticate(token: string | undefined): UserInfo | undefined {
    return token === undefined ? undefined : this.tokens.get(token)?.user;
  }

  /** TokenReview: the user and the audiences the token is valid for among those asked (all when none asked). */
  review(token: string, audiences?: string[]): { user: UserInfo; audiences: string[] } | { error: string } {
    const e = this.tokens.get(token);
    if (!e) return { error: 'invalid bearer token' };
    const pod = e.user.extra?.['authentication.kubernetes.io/pod-name']?.[0];
    const ns = /^system:serviceaccount:([^:]+):/.exec(e.user.username)?.[1];
    const invalid = pod && ns ? this.boundPodCheck?.(ns, pod, e.user.extra?.['authentication.kubernetes.io/pod-uid']?.[0]) : undefined;
    if (invalid) return { error: `[invalid bearer token, ${invalid}]` };
    if (!audiences?.length) return { user: e.user, audiences: e.audiences };
    const ok = e.audiences.filter((a) => audiences.includes(a));
    if (ok.length === 0) return { error: `[invalid bearer token, token audiences ${JSON.stringify(e.audiences)} is invalid for the target audiences ${JSON.stringify(audiences)}]` };
    return { user: e.user, audiences: ok };
  }

  /** Grant rules to a user name or a group (`group:NAME`); adds to what it has. */
  allow(subject: string, rules: Rule[]): void {
    this.allowRules.set(subject, [...(this.allowRules.get(subject) ?? []), ...rules]);
  }

  /** Replace all rules of a user or group. */
  setRules(subject: string, rules: Rule[]): void {
    this.allowRules.set(subject, [...rules]);
  }

  /** Deny a request matching `rule` (for `subject`, or everyone when undefined), whatever is allowed. Returns the undo. */
  deny(rule: Rule, subject?: string): () => void {
    const entry = { subject, rule };
    this.denyRules.push(entry);
    return () => {
      const i = this.denyRules.indexOf(entry);
      if (i >= 0) this.denyRules.splice(i, 1);
    };
  }

  /** Drop every deny rule. */
  clearDenies(): void {
    this.denyRules.length = 0;
  }

  private subjects(u: UserInfo): string[] {
    return [u.username, ...u.groups.map((g) => `group:${g}`)];
  }

  /** The allow rules that apply to a user (including the built-in discovery/self-review rules). */
  rulesOf(u: UserInfo): Rule[] {
    const own = this.subjects(u).flatMap((s) => this.allowRules.get(s) ?? []);
    const admin = u.groups.includes('system:masters') ? [ALL, ALL_URLS] : [];
    return [...admin, ...BASIC, ...own];
  }

  /** Allow or deny one request. */
  authorize(u: UserInfo, a: Attributes): boolean {
    const subs = this.subjects(u);
    if (this.denyRules.some((d) => (d.subject === undefined || subs.includes(d.subject)) && ruleMatches(d.rule, a))) return false;
    return this.rulesOf(u).some((r) => ruleMatches(r, a));
  }
}
