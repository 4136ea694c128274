// GRPCRoute specifics (gateway.networking.k8s.io/v1, standard channel): a method match becomes the
// HTTP/2 path a gRPC call carries (`/pkg.Service/Method`), so the rest of the route machinery
// (rules, filters, backends, status) is the HTTPRoute one in routes.ts.
import { isObject } from '../util/object.js';
import { escapeRegex } from '../util/text.js';
import type { GrpcMethodMatch, RouteMatch } from './types.js';

// The official CRD's patterns (GRPCMethodMatch CEL rules) for Exact matches.
const SERVICE = /^\.?[a-z_][a-z_0-9]*(\.[a-z_][a-z_0-9]*)*$/i;
const METHOD = /^[A-Za-z_][A-Za-z_0-9]*$/;

/** The filters a GRPCRoute rule may carry that mesh applies (GRPCRouteFilterType minus ExtensionRef). */
export const GRPC_FILTERS: readonly string[] = ['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestMirror'];

/**
 * The path match of a GRPCRoute `method` match: Exact service and method is the exact path, a
 * service alone the prefix `/pkg.Service/`, a method alone (or any RegularExpression) an RE2 full
 * match of the path, so the match is never wider than the spec's. Undefined when the match has
 * no method part (it matches every call). Throws on a value the CRD would reject.
 * `regexProblem` is the RE2 check of routes.ts (passed in to keep this module free of cycles).
 */
export function grpcMethodMatch(v: unknown, regexProblem: (pattern: string) => string | undefined): Pick<RouteMatch, 'path' | 'grpc'> {
  if (v === undefined) return {};
  if (!isObject(v)) throw new Error('method match is not an object');
  const type = v.type === undefined ? 'Exact' : v.type;
  if (type !== 'Exact' && type !== 'RegularExpression') throw new Error(`method match type ${String(type)} is not supported (Exact, RegularExpression)`);
  const service = typeof v.service === 'string' && v.service !== '' ? v.service : undefined;
  const method = typeof v.method === 'string' && v.method !== '' ? v.method : undefined;
  if (!service && !method) throw new Error('a method match needs a service, a method or both');
  for (const [what, value] of [['service', service], ['method', method]] as const) {
    if (value === undefined) continue;
    if (value.length > 1024) throw new Error(`${what} is longer than 1024 characters`);
    if (type === 'Exact' && !(what === 'service' ? SERVICE : METHOD).test(value)) throw new Error(`${what} ${JSON.stringify(value)} is not a valid gRPC ${what} name`);
    const p = type === 'RegularExpression' ? regexProblem(value) : undefined;
    if (p) throw new Error(`${what} regular expression ${JSON.stringify(value)} ${p}`);
  }
  const grpc: GrpcMethodMatch = { type };
  if (service) grpc.service = service;
  if (method) grpc.method = method;
  if (type === 'Exact') {
    if (service && method) return { grpc, path: { type: 'Exact', value: `/${service}/${method}` } };
    if (service) return { grpc, path: { type: 'Prefix', value: `/${service}/` } };
    return { grpc, path: { type: 'RegularExpression', value: `/[^/]+/${escapeRegex(method!)}` } };
  }
  const part = (re: string | undefined): string => (re === undefined ? '[^/]+' : `(?:${re})`);
  return { grpc, path: { type: 'RegularExpression', value: `/${part(service)}/${part(method)}` } };
}

/**
 * GRPCRoute precedence of a match, most specific first (the spec: characters of an exact service,
 * then of an exact method, then the number of header matches); a RegularExpression (whose rank the
 * spec leaves to implementations) ranks below any exact match of the same service and method size.
 */
export function grpcMatchRank(m: RouteMatch): number[] {
  const g = m.grpc;
  const exact = g?.type === 'Exact';
  return [exact ? (g.service?.length ?? 0) : 0, exact ? (g.method?.length ?? 0) : 0, g && !exact ? 1 : 0, m.headers.length];
}
