import { actionRules, type ActionRules, type IdMatch, type PermissionMatch, type PortAuthz } from '../model/authz.js';
import type { AuthzPolicy } from '../model/types.js';

// Envoy RBAC rendered from the model's description of a port's authorization (model/authz.ts):
// nothing here decides who may call whom, it only spells the description in Envoy's terms, so
// `mesh authz check` (which evaluates the same description) explains what proxies enforce.

/** An Envoy message as plain JSON-shaped data (as in translate.ts). */
type Msg = { [key: string]: unknown };

const RBAC_HTTP = 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC';
const RBAC_NET = 'type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC';

/** The RBAC filter type URLs the translation emits (for EMBEDDED_TYPES). */
export const RBAC_TYPES: readonly string[] = [RBAC_HTTP, RBAC_NET];

function principal(m: IdMatch): Msg {
  if (m.kind === 'any') return { any: true };
  return { authenticated: { principal_name: { [m.kind]: m.value } } };
}

function anyOf(rules: Msg[]): Msg {
  return rules.length === 1 ? rules[0]! : { or_rules: { rules } };
}

function permission(p: PermissionMatch): Msg {
  const parts: Msg[] = [];
  if (p.ports.length) parts.push(anyOf(p.ports.map((port) => ({ destination_port: port }))));
  if (p.methods.length) parts.push(anyOf(p.methods.map((m) => ({ header: { name: ':method', string_match: { exact: m } } }))));
  if (p.paths.length) parts.push(anyOf(p.paths.map((m) => ({ url_path: { path: { [m.kind]: m.value } } }))));
  if (!parts.length) return { any: true };
  return parts.length === 1 ? parts[0]! : { and_rules: { rules: parts } };
}

/** envoy.config.rbac.v3.RBAC of one action layer; policy names are `NS.NAME.RULE`. A layer without rules allows (or denies) nothing. */
export function rbacRules(layer: ActionRules): Msg {
  const policies: Record<string, Msg> = {};
  for (const r of layer.rules) {
    policies[`${r.policy.replace('/', '.')}.${r.rule}`] = { permissions: r.permissions.map(permission), principals: r.principals.map(principal) };
  }
  return { action: layer.action, policies };
}

/** envoy.config.rbac.v3.RBAC for the policies of one action, or undefined when none applies (no default deny). */
export function rbacConfig(trustDomain: string, policies: AuthzPolicy[], action: 'ALLOW' | 'DENY', http: boolean): Msg | undefined {
  const layer = actionRules(trustDomain, policies, action, http);
  return layer ? rbacRules(layer) : undefined;
}

/**
 * The RBAC filters of one inbound chain, DENY before ALLOW (Envoy runs filters in order, and a
 * DENY match must win). `http`: HTTP filters for the HCM; else network filters before tcp_proxy.
 */
export function rbacFilters(authz: PortAuthz, http: boolean, statPrefix: string): Msg[] {
  const out: Msg[] = [];
  for (const layer of [authz.deny, authz.allow]) {
    if (!layer) continue;
    const name = `envoy.filters.${http ? 'http' : 'network'}.rbac.${layer.action.toLowerCase()}`;
    out.push(http ? { name, typed_config: { '@type': RBAC_HTTP, rules: rbacRules(layer) } } : { name, typed_config: { '@type': RBAC_NET, stat_prefix: statPrefix, rules: rbacRules(layer) } });
  }
  return out;
}
