// A test-side answer to "would Envoy let this connection / request through the inbound side?",
// written from Envoy's documented semantics and reading only the JSON-shaped resources mesh emits:
// listener filter chain selection (destination_port, transport_protocol; else the default chain),
// TLS termination (a principal is only known on a chain that terminates mTLS), then the filters in
// order: network/HTTP RBAC (config.rbac.v3: a policy matches when any permission and any principal
// match; ALLOW lets through only on a match, DENY stops on a match; a filter with rules but no
// policies under ALLOW denies everything), tcp_proxy to BlackHoleCluster drops, the router forwards.
// Permissions: any, destination_port, header (":method"), url_path (the path without its query),
// and_rules, or_rules, not_rule. Principals: any, authenticated.principal_name (URI SAN), and_ids,
// or_ids, not_id.
import type { Msg, Resources } from '../../src/xds/translate.ts';
import { TYPE } from '../../src/xds/protos.ts';
import { stringMatches } from './envoy-sim.ts';

/** A connection (and request, on an HTTP chain) arriving at a sidecar's inbound listener. */
export interface RbacSimRequest {
  port: number;
  /** The client certificate's URI SAN when the client speaks mTLS; undefined for plaintext. */
  principal?: string;
  method?: string;
  path?: string;
}

/** What Envoy does: let it through, or stop it (by which filter or cluster). */
export type RbacSimResult = { allowed: true; chain: string } | { allowed: false; chain: string; by: string; policy?: string };

const isMsg = (v: unknown): v is Msg => typeof v === 'object' && v !== null && !Array.isArray(v);
const msgs = (v: unknown): Msg[] => (Array.isArray(v) ? v.filter(isMsg) : []);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : isMsg(v) && typeof v.value === 'number' ? v.value : undefined);

interface Ctx {
  port: number;
  /** Only set when the chain terminated TLS with a client certificate. */
  principal?: string;
  headers?: Record<string, string>;
  path?: string;
}

function permissionMatches(p: Msg, c: Ctx): boolean {
  if (p.any === true) return true;
  if (p.destination_port !== undefined) return num(p.destination_port) === c.port;
  if (isMsg(p.and_rules)) return msgs(p.and_rules.rules).every((r) => permissionMatches(r, c));
  if (isMsg(p.or_rules)) return msgs(p.or_rules.rules).some((r) => permissionMatches(r, c));
  if (isMsg(p.not_rule)) return !permissionMatches(p.not_rule, c);
  if (isMsg(p.header)) {
    // A network filter sees no headers: a header permission cannot match there.
    const v = c.headers?.[String(p.header.name)];
    return v !== undefined && isMsg(p.header.string_match) && stringMatches(p.header.string_match, v);
  }
  if (isMsg(p.url_path)) return c.path !== undefined && isMsg(p.url_path.path) && stringMatches(p.url_path.path, c.path.split('?')[0]!);
  throw new Error(`rbac-sim: unsupported permission ${JSON.stringify(p)}`);
}

function principalMatches(p: Msg, c: Ctx): boolean {
  if (p.any === true) return true;
  if (isMsg(p.authenticated)) {
    if (c.principal === undefined) return false;
    return !isMsg(p.authenticated.principal_name) || stringMatches(p.authenticated.principal_name, c.principal);
  }
  if (isMsg(p.and_ids)) return msgs(p.and_ids.ids).every((r) => principalMatches(r, c));
  if (isMsg(p.or_ids)) return msgs(p.or_ids.ids).some((r) => principalMatches(r, c));
  if (isMsg(p.not_id)) return !principalMatches(p.not_id, c);
  throw new Error(`rbac-sim: unsupported principal ${JSON.stringify(p)}`);
}

/** One RBAC filter's verdict: undefined lets the request on; a string names the policy (or `no policy`) that stopped it. */
export function rbacVerdict(rules: Msg | undefined, c: Ctx): { stop: boolean; policy?: string } {
  if (!rules) return { stop: false };
  const matched = Object.entries(isMsg(rules.policies) ? rules.policies : {}).find(([, pol]) => isMsg(pol) && msgs(pol.permissions).some((x) => permissionMatches(x, c)) && msgs(pol.principals).some((x) => principalMatches(x, c)));
  const action = rules.action ?? 'ALLOW';
  if (action === 'DENY') return matched ? { stop: true, policy: matched[0] } : { stop: false };
  return matched ? { stop: false, policy: matched[0] } : { stop: true };
}

function chainMatches(chain: Msg, port: number, transport: string): boolean {
  const m = isMsg(chain.filter_chain_match) ? chain.filter_chain_match : {};
  const p = num(m.destination_port);
  if (p !== undefined && p !== port) return false;
  return m.transport_protocol === undefined || m.transport_protocol === transport;
}

/** What the sidecar's `inbound` listener does with a connection (and request) to `req.port`. */
export function inboundVerdict(res: Resources, req: RbacSimRequest): RbacSimResult {
  const listener = res[TYPE.listener].inbound;
  if (!listener) throw new Error('rbac-sim: no inbound listener');
  const transport = req.principal !== undefined ? 'tls' : 'raw_buffer';
  // Envoy picks the most specific destination_port first; mesh emits one chain per port and transport.
  const chains = msgs(listener.filter_chains);
  const chain = chains.find((c) => num(isMsg(c.filter_chain_match) ? c.filter_chain_match.destination_port : undefined) === req.port && chainMatches(c, req.port, transport))
    ?? chains.find((c) => chainMatches(c, req.port, transport) && num(isMsg(c.filter_chain_match) ? c.filter_chain_match.destination_port : undefined) === undefined)
    ?? (isMsg(listener.default_filter_chain) ? listener.default_filter_chain : undefined);
  if (!chain) return { allowed: false, chain: '(none)', by: 'no filter chain' };
  const name = String(chain.name ?? '');
  const ctx: Ctx = { port: req.port };
  if (isMsg(chain.transport_socket) && req.principal !== undefined) ctx.principal = req.principal;
  for (const f of msgs(chain.filters)) {
    const tc = isMsg(f.typed_config) ? f.typed_config : {};
    const type = String(tc['@type'] ?? '');
    if (type.endsWith('network.rbac.v3.RBAC')) {
      const v = rbacVerdict(isMsg(tc.rules) ? tc.rules : undefined, ctx);
      if (v.stop) return { allowed: false, chain: name, by: String(f.name), ...(v.policy ? { policy: v.policy } : {}) };
    } else if (type.endsWith('tcp_proxy.v3.TcpProxy')) {
      return tc.cluster === 'BlackHoleCluster' ? { allowed: false, chain: name, by: 'BlackHoleCluster' } : { allowed: true, chain: name };
    } else if (type.endsWith('http_connection_manager.v3.HttpConnectionManager')) {
      const hctx: Ctx = { ...ctx, headers: { ':method': req.method ?? 'GET', ':path': req.path ?? '/' }, path: req.path ?? '/' };
      for (const hf of msgs(tc.http_filters)) {
        const htc = isMsg(hf.typed_config) ? hf.typed_config : {};
        if (String(htc['@type'] ?? '').endsWith('http.rbac.v3.RBAC')) {
          const v = rbacVerdict(isMsg(htc.rules) ? htc.rules : undefined, hctx);
          if (v.stop) return { allowed: false, chain: name, by: String(hf.name), ...(v.policy ? { policy: v.policy } : {}) };
        }
      }
      return { allowed: true, chain: name };
    }
  }
  throw new Error(`rbac-sim: chain ${name} ends without a terminal filter`);
}
