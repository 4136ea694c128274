// Random AuthorizationPolicies and requests for the property tests that hold authorization's
// outputs (Envoy RBAC, NetworkPolicies) to the evaluator (src/model/authz.ts).
import fc from 'fast-check';
import type { AuthzPolicy } from '../../src/model/index.ts';

export const TD = 'cluster.local';
const PRINCIPALS = ['*', 'cluster.local/ns/b/sa/x', 'spiffe://cluster.local/ns/a/sa/y', 'cluster.local/ns/a/sa/*', '*/sa/x', 'other.td/ns/a/sa/x'];
const NAMESPACES = ['a', 'b', '*'];
export const PORTS = [8080, 9090, 7000];
const METHODS = ['GET', 'POST'];
const PATHS = ['/api/*', '/admin', '*', '*.json'];

const subset = <T>(xs: readonly T[]) => fc.subarray([...xs]);
const source = fc.record({ principals: subset(PRINCIPALS), namespaces: subset(NAMESPACES) });
const operation = fc.record({ ports: subset(PORTS), methods: subset(METHODS), paths: subset(PATHS) });
const rule = fc.record({ from: fc.array(source, { maxLength: 2 }), to: fc.array(operation, { maxLength: 2 }) });

/** A policy in namespace a (mostly) or b, selecting app=api, app=other or everything. */
export const policyArb = fc.record({
  namespace: fc.constantFrom('a', 'a', 'b'),
  selector: fc.option(fc.constantFrom({ app: 'api' }, { app: 'other' }), { nil: undefined }),
  action: fc.constantFrom<'ALLOW' | 'DENY'>('ALLOW', 'DENY'),
  rules: fc.array(rule, { maxLength: 3 }),
});

/** Random policies as the model holds them (named p0, p1, ...). */
export const policiesArb = fc.array(policyArb, { maxLength: 3 }).map((ps) => ps.map((p, i): AuthzPolicy => ({ name: `p${i}`, namespace: p.namespace, action: p.action, rules: p.rules, ...(p.selector ? { selector: p.selector } : {}) })));

/** A request: a caller identity (or none), a port, method and path. */
export const requestArb = fc.record({
  principal: fc.constantFrom(undefined, 'spiffe://cluster.local/ns/a/sa/x', 'spiffe://cluster.local/ns/a/sa/y', 'spiffe://cluster.local/ns/b/sa/x', 'spiffe://other.td/ns/a/sa/x'),
  port: fc.constantFrom(...PORTS),
  method: fc.constantFrom('GET', 'POST', 'PUT'),
  path: fc.constantFrom('/', '/api/v1', '/admin', '/admin?debug=1', '/x.json'),
});
