// The Gateway API's mesh (GAMMA) conformance cases, routed through the configuration mesh emits.
// Each table restates one conformance test of kubernetes-sigs/gateway-api
// (conformance/tests/mesh/<name>.go and its manifest): the same routes, the same requests and the
// same expected backend, status, redirect or rewrite. No Envoy runs here, so the requests go
// through test/support/envoy-sim.ts (Envoy's documented matching semantics); the proxyless side is
// cross-checked against @grpc/grpc-js-xds's own route matcher.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { buildModel } from '../../src/model/index.ts';
import { proxylessResources, sidecarResources, type Msg } from '../../src/xds/translate.ts';
import { TYPE, messageType } from '../../src/xds/protos.ts';
import { encodeResource, strictCheck } from '../../src/xds/encode.ts';
import { consistent, makeSnapshot } from '../../src/xds/snapshot.ts';
import type { KubeObject } from '../../src/cluster/types.ts';
import { evaluateRoute, outbound, type SimRequest, type SimResult } from '../support/envoy-sim.ts';
import { validateRules } from '../support/pgv.ts';

const NS = 'gateway-conformance-mesh';
const CONSUMER = 'gateway-conformance-mesh-consumer';
const IPS: Record<string, string> = { echo: '10.96.0.10', 'echo-v1': '10.96.0.11', 'echo-v2': '10.96.0.12', 'echo-v3': '10.96.0.13' };

function service(name: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: NS },
    spec: { clusterIP: IPS[name], selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'http-alt', port: 8080 }] },
  };
}

function route(name: string, rules: unknown[], opts: { namespace?: string; parent?: string; port?: number | null; created?: string } = {}): KubeObject {
  const parentRef: Record<string, unknown> = { group: '', kind: 'Service', name: opts.parent ?? 'echo' };
  if (opts.port !== null) parentRef.port = opts.port ?? 80;
  if (opts.namespace && opts.namespace !== NS) parentRef.namespace = NS;
  const metadata: KubeObject['metadata'] = { name, namespace: opts.namespace ?? NS };
  if (opts.created) metadata.creationTimestamp = opts.created;
  return { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata, spec: { parentRefs: [parentRef], rules } };
}

const base = [service('echo'), service('echo-v1'), service('echo-v2'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: CONSUMER } } as KubeObject];

/** The request as the sidecar of a client in `clientNs` handles it, sent to Service `to` port 80. */
function send(objects: KubeObject[], req: Partial<SimRequest> & { path: string }, opts: { clientNs?: string; to?: string } = {}): SimResult | { kind: 'tcp' } {
  const model = buildModel([...base, ...objects]);
  const res = sidecarResources(model, { id: 'client', kind: 'sidecar', namespace: opts.clientNs ?? NS });
  const to = opts.to ?? 'echo';
  return outbound(res, { ip: IPS[to]!, port: 80 }, { host: to, ...req });
}

/** The backend Service a routed request reaches (one upstream), or the status it gets. */
function outcome(r: ReturnType<typeof send>): string | number {
  if (r.kind === 'route') {
    assert.equal(r.upstreams.length, 1, `one backend expected, got ${JSON.stringify(r.upstreams)}`);
    const u = r.upstreams[0]!;
    if (u.missingStatus) return u.missingStatus;
    return u.cluster.split('||')[1]!.split('.')[0]!;
  }
  if (r.kind === 'not-found' || r.kind === 'direct') return r.status;
  if (r.kind === 'redirect') return r.status;
  throw new Error(`unexpected ${JSON.stringify(r)}`);
}

const matching = [
  route('mesh-matching', [
    { matches: [{ path: { type: 'PathPrefix', value: '/' } }, { headers: [{ name: 'version', value: 'one' }] }], backendRefs: [{ name: 'echo-v1', port: 8080 }] },
    { matches: [{ path: { type: 'PathPrefix', value: '/v2' } }, { headers: [{ name: 'version', value: 'two' }] }], backendRefs: [{ name: 'echo-v2', port: 8080 }] },
  ]),
];
const matchingCases: [Partial<SimRequest> & { path: string }, string][] = [
  [{ path: '/' }, 'echo-v1'],
  [{ path: '/example' }, 'echo-v1'],
  [{ path: '/', headers: { Version: 'one' } }, 'echo-v1'],
  [{ path: '/v2' }, 'echo-v2'],
  [{ path: '/v2/example' }, 'echo-v2'],
  [{ path: '/', headers: { Version: 'two' } }, 'echo-v2'],
  [{ path: '/v2/' }, 'echo-v2'],
  // Not a path segment prefix, so not /v2.
  [{ path: '/v2example' }, 'echo-v1'],
  [{ path: '/foo/v2/example' }, 'echo-v1'],
];

test('MeshHTTPRouteMatching: path segment prefixes and header matches pick the conformance backend', () => {
  for (const [req, want] of matchingCases) assert.equal(outcome(send(matching, req)), want, JSON.stringify(req));
});

const queryRoutes = [
  route('mesh-query-param-matching', [
    { matches: [{ queryParams: [{ name: 'animal', value: 'whale' }] }], backendRefs: [{ name: 'echo-v1', port: 8080 }] },
    { matches: [{ queryParams: [{ name: 'animal', value: 'dolphin' }] }], backendRefs: [{ name: 'echo-v2', port: 8080 }] },
    { matches: [{ path: { type: 'PathPrefix', value: '/path1' }, queryParams: [{ name: 'animal', value: 'whale' }] }], backendRefs: [{ name: 'echo-v1', port: 8080 }] },
    { matches: [{ headers: [{ name: 'version', value: 'one' }], queryParams: [{ name: 'animal', value: 'whale' }] }], backendRefs: [{ name: 'echo-v2', port: 8080 }] },
    {
      matches: [
        { path: { type: 'PathPrefix', value: '/path3' }, queryParams: [{ name: 'animal', value: 'shark' }] },
        { path: { type: 'PathPrefix', value: '/path4' }, headers: [{ name: 'version', value: 'three' }], queryParams: [{ name: 'animal', value: 'kraken' }] },
      ],
      backendRefs: [{ name: 'echo-v1', port: 8080 }],
    },
    { matches: [{ path: { type: 'PathPrefix', value: '/path5' } }], backendRefs: [{ name: 'echo-v1', port: 8080 }] },
    { matches: [{ queryParams: [{ name: 'animal', value: 'hydra' }] }], backendRefs: [{ name: 'echo-v2', port: 8080 }] },
  ]),
];
const queryCases: [Partial<SimRequest> & { path: string }, string | number][] = [
  [{ path: '/?animal=whale' }, 'echo-v1'],
  [{ path: '/?animal=dolphin' }, 'echo-v2'],
  [{ path: '/?animal=whale&otherparam=irrelevant' }, 'echo-v1'],
  [{ path: '/?animal=dolphin&color=yellow' }, 'echo-v2'],
  [{ path: '/?color=blue' }, 404],
  [{ path: '/?animal=dog' }, 404],
  [{ path: '/?animal=whaledolphin' }, 404],
  [{ path: '/' }, 404],
  [{ path: '/path1?animal=whale' }, 'echo-v1'],
  [{ path: '/?animal=whale', headers: { version: 'one' } }, 'echo-v2'],
  [{ path: '/path3?animal=shark' }, 'echo-v1'],
  [{ path: '/path4?animal=kraken', headers: { version: 'three' } }, 'echo-v1'],
  [{ path: '/?animal=shark' }, 404],
  [{ path: '/path4?animal=kraken' }, 404],
  [{ path: '/path5?animal=hydra' }, 'echo-v1'],
];

test('MeshHTTPRouteQueryParamMatching: query matches narrow a rule, and a request no rule matches gets 404', () => {
  for (const [req, want] of queryCases) assert.equal(outcome(send(queryRoutes, req)), want, JSON.stringify(req));
});

test('MeshHTTPRouteRedirectPort / RedirectScheme / RedirectPath: Location and status as the spec says', () => {
  const redirects = [
    route('mesh-redirect', [
      { matches: [{ path: { type: 'PathPrefix', value: '/port' } }], filters: [{ type: 'RequestRedirect', requestRedirect: { port: 8083 } }] },
      { matches: [{ path: { type: 'PathPrefix', value: '/port-and-host' } }], filters: [{ type: 'RequestRedirect', requestRedirect: { hostname: 'example.org', port: 8083 } }] },
      { matches: [{ path: { type: 'PathPrefix', value: '/port-and-status' } }], filters: [{ type: 'RequestRedirect', requestRedirect: { port: 8083, statusCode: 301 } }] },
      { matches: [{ path: { type: 'PathPrefix', value: '/scheme' } }], filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https' } }] },
      { matches: [{ path: { type: 'PathPrefix', value: '/scheme-and-host' } }], filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', hostname: 'example.org' } }] },
      { matches: [{ path: { type: 'PathPrefix', value: '/original-prefix' } }], filters: [{ type: 'RequestRedirect', requestRedirect: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/replacement-prefix' } } }] },
      { matches: [{ path: { type: 'PathPrefix', value: '/full' } }], filters: [{ type: 'RequestRedirect', requestRedirect: { path: { type: 'ReplaceFullPath', replaceFullPath: '/full-path-replacement' } } }] },
      { matches: [{ path: { type: 'PathPrefix', value: '/path-and-status' } }], filters: [{ type: 'RequestRedirect', requestRedirect: { statusCode: 301, path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/replacement-prefix' } } }] },
      { matches: [{ path: { type: 'PathPrefix', value: '/see-other' } }], filters: [{ type: 'RequestRedirect', requestRedirect: { statusCode: 303, hostname: 'example.org' } }] },
    ]),
  ];
  const cases: [string, number, string][] = [
    ['/port', 302, 'http://echo:8083/port'],
    ['/port-and-host', 302, 'http://example.org:8083/port-and-host'],
    ['/port-and-status', 301, 'http://echo:8083/port-and-status'],
    ['/scheme', 302, 'https://echo/scheme'],
    ['/scheme-and-host', 302, 'https://example.org/scheme-and-host'],
    ['/original-prefix/lemon', 302, 'http://echo/replacement-prefix/lemon'],
    ['/full/path/original', 302, 'http://echo/full-path-replacement'],
    ['/path-and-status/orange', 301, 'http://echo/replacement-prefix/orange'],
    ['/see-other', 303, 'http://example.org/see-other'],
  ];
  for (const [path, status, location] of cases) {
    const r = send(redirects, { path });
    assert.equal(r.kind, 'redirect', `${path}: ${JSON.stringify(r)}`);
    if (r.kind === 'redirect') assert.deepEqual([r.status, r.location], [status, location], path);
  }
});

test('MeshHTTPRouteRewritePath and RequestHeaderModifier: the backend sees the rewritten path and edited headers', () => {
  const mods = { set: [{ name: 'X-Header-Set', value: 'set-overwrites-values' }], add: [{ name: 'X-Header-Add', value: 'header-val-1' }, { name: 'X-Header-Add-Append', value: 'header-val-2' }], remove: ['X-Header-Remove'] };
  const rewrites = [
    route('mesh-rewrite-path', [
      { matches: [{ path: { type: 'PathPrefix', value: '/prefix/one' } }], filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/one' } } }], backendRefs: [{ name: 'echo-v1', port: 80 }] },
      { matches: [{ path: { type: 'PathPrefix', value: '/strip-prefix' } }], filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } } }], backendRefs: [{ name: 'echo-v1', port: 80 }] },
      { matches: [{ path: { type: 'PathPrefix', value: '/full/one' } }], filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplaceFullPath', replaceFullPath: '/one' } } }], backendRefs: [{ name: 'echo-v1', port: 80 }] },
      {
        matches: [{ path: { type: 'PathPrefix', value: '/full/rewrite-path-and-modify-headers' } }],
        filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplaceFullPath', replaceFullPath: '/test' } } }, { type: 'RequestHeaderModifier', requestHeaderModifier: mods }],
        backendRefs: [{ name: 'echo-v1', port: 80 }],
      },
      {
        matches: [{ path: { type: 'PathPrefix', value: '/prefix/rewrite-path-and-modify-headers' } }],
        filters: [{ type: 'URLRewrite', urlRewrite: { hostname: 'rewritten.example', path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/prefix' } } }, { type: 'RequestHeaderModifier', requestHeaderModifier: mods }],
        backendRefs: [{ name: 'echo-v1', port: 80 }],
      },
    ]),
  ];
  const cases: [string, string][] = [
    ['/prefix/one/two', '/one/two'],
    ['/prefix/one', '/one'],
    ['/strip-prefix/three', '/three'],
    ['/strip-prefix', '/'],
    ['/full/one/two', '/one'],
    ['/full/one?q=1', '/one?q=1'],
    ['/full/rewrite-path-and-modify-headers/test', '/test'],
    ['/prefix/rewrite-path-and-modify-headers/one', '/prefix/one'],
  ];
  for (const [path, want] of cases) {
    const r = send(rewrites, { path, headers: { 'X-Header-Set': 'some-other-value', 'X-Header-Add-Append': 'append-val-1', 'X-Header-Remove': 'val' } });
    assert.equal(r.kind, 'route', path);
    if (r.kind !== 'route') continue;
    assert.equal(r.path, want, path);
    assert.equal(outcome(r), 'echo-v1');
    if (path.includes('modify-headers')) {
      assert.deepEqual(r.headers['x-header-set'], ['set-overwrites-values']);
      assert.deepEqual(r.headers['x-header-add'], ['header-val-1']);
      assert.deepEqual(r.headers['x-header-add-append'], ['append-val-1', 'header-val-2']);
      assert.equal(r.headers['x-header-remove'], undefined);
    }
    if (path.startsWith('/prefix/rewrite')) assert.equal(r.host, 'rewritten.example');
  }
});

test('MeshConsumerRoute: a consumer route applies to clients in its namespace only, and replaces the producer route there', () => {
  const objects = [
    route('producer', [{ backendRefs: [{ name: 'echo-v2', port: 80 }] }], { parent: 'echo-v1', port: null }),
    route('mesh-echo-add-header', [{ filters: [{ type: 'ResponseHeaderModifier', responseHeaderModifier: { set: [{ name: 'X-Header-Set', value: 'set' }] } }], backendRefs: [{ name: 'echo-v1', namespace: NS, port: 80 }] }], {
      namespace: CONSUMER,
      parent: 'echo-v1',
      port: null,
    }),
  ];
  const consumer = send(objects, { path: '/' }, { clientNs: CONSUMER, to: 'echo-v1' });
  assert.equal(outcome(consumer), 'echo-v1');
  assert.ok(consumer.kind === 'route' && consumer.responseHeaders.add.some((h) => h.name === 'x-header-set' && h.value === 'set' && !h.append));
  const producer = send(objects, { path: '/' }, { clientNs: NS, to: 'echo-v1' });
  assert.equal(outcome(producer), 'echo-v2', 'clients outside the consumer namespace keep the producer route');
  assert.ok(producer.kind === 'route' && producer.responseHeaders.add.length === 0);
});

test('precedence between routes: on equal matches the older route wins, then namespace/name', () => {
  const older = route('zz-older', [{ matches: [{ path: { type: 'PathPrefix', value: '/a' } }], backendRefs: [{ name: 'echo-v1', port: 80 }] }], { created: '2026-01-01T00:00:00Z' });
  const newer = route('aa-newer', [{ matches: [{ path: { type: 'PathPrefix', value: '/a' } }], backendRefs: [{ name: 'echo-v2', port: 80 }] }], { created: '2026-06-01T00:00:00Z' });
  assert.equal(outcome(send([newer, older], { path: '/a/b' })), 'echo-v1');
  const undated = [route('bb', [{ backendRefs: [{ name: 'echo-v2', port: 80 }] }]), route('aa', [{ backendRefs: [{ name: 'echo-v1', port: 80 }] }])];
  assert.equal(outcome(send(undated, { path: '/' })), 'echo-v1');
});

test('what mesh cannot forward fails with 500 instead of widening another rule', () => {
  const objects = [
    route('r', [
      { matches: [{ path: { type: 'PathPrefix', value: '/ext' } }], filters: [{ type: 'ExtensionRef', extensionRef: { group: 'example.io', kind: 'Thing', name: 'x' } }], backendRefs: [{ name: 'echo-v1', port: 80 }] },
      { matches: [{ path: { type: 'PathPrefix', value: '/zero' } }], backendRefs: [{ name: 'echo-v1', port: 80, weight: 0 }] },
      { matches: [{ path: { type: 'PathPrefix', value: '/missing' } }], backendRefs: [{ name: 'nope', port: 80 }] },
      { matches: [{ path: { type: 'PathPrefix', value: '/other-ns' } }], backendRefs: [{ name: 'echo-v1', namespace: 'elsewhere', port: 80 }] },
      { backendRefs: [{ name: 'echo-v2', port: 80 }] },
    ]),
  ];
  assert.equal(outcome(send(objects, { path: '/ext/x' })), 500);
  assert.equal(outcome(send(objects, { path: '/zero' })), 500);
  assert.equal(outcome(send(objects, { path: '/missing' })), 500);
  assert.equal(outcome(send(objects, { path: '/other-ns' })), 500);
  assert.equal(outcome(send(objects, { path: '/elsewhere' })), 'echo-v2');
  const model = buildModel([...base, ...objects]);
  // The unresolved shares name clusters that are absent on purpose; the snapshot is still served.
  for (const kind of ['sidecar', 'grpc'] as const) {
    const res = kind === 'sidecar' ? sidecarResources(model, { id: 'c', kind, namespace: NS }) : proxylessResources(model, { id: 'c', kind, namespace: NS });
    assert.deepEqual(consistent(makeSnapshot('1', res)), [], kind);
  }
  const conds = model.routeConditions.filter((c) => c.route === `${NS}/r`);
  assert.deepEqual(conds.map((c) => [c.type, c.status, c.reason]), [
    ['Accepted', 'True', 'Accepted'],
    ['ResolvedRefs', 'False', 'BackendNotFound'],
    ['PartiallyInvalid', 'True', 'UnsupportedValue'],
  ]);
  assert.match(conds[2]!.message, /rule 1: filter ExtensionRef is not supported/);
  assert.match(conds[1]!.message, /rule 4: backendRef Service elsewhere\/echo-v1 is in another namespace and no ReferenceGrant/);
});

test('a ReferenceGrant lets a route send to a Service in another namespace', () => {
  const other = { ...service('echo-v2'), metadata: { name: 'echo-v2', namespace: 'elsewhere' } };
  const r = route('r', [{ backendRefs: [{ name: 'echo-v2', namespace: 'elsewhere', port: 80 }] }]);
  assert.equal(outcome(send([other, r], { path: '/' })), 500);
  const grant = { apiVersion: 'gateway.networking.k8s.io/v1beta1', kind: 'ReferenceGrant', metadata: { name: 'g', namespace: 'elsewhere' }, spec: { from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: NS }], to: [{ group: '', kind: 'Service' }] } };
  const got = send([other, r, grant as KubeObject], { path: '/' });
  assert.ok(got.kind === 'route' && got.upstreams[0]!.cluster === 'outbound|80||echo-v2.elsewhere.svc.cluster.local');
});

test('a match mesh cannot program refuses the whole route (Accepted=False) rather than dropping the match', () => {
  const bad = route('bad', [
    { matches: [{ path: { type: 'RegularExpression', value: '/(?=x)' } }], backendRefs: [{ name: 'echo-v2', port: 80 }] },
    { backendRefs: [{ name: 'echo-v1', port: 80 }] },
  ]);
  const model = buildModel([...base, bad]);
  assert.equal(model.routes.length, 0);
  const c = model.routeConditions.find((x) => x.type === 'Accepted')!;
  assert.deepEqual([c.status, c.reason], ['False', 'UnsupportedValue']);
  assert.match(c.message, /rule 1 match 1: path regular expression "\/\(\?=x\)" uses lookaround/);
  for (const path of ['/a//b', '/a#b', '/a b']) {
    const m = buildModel([...base, route('p', [{ matches: [{ path: { type: 'PathPrefix', value: path } }], backendRefs: [{ name: 'echo-v1', port: 80 }] }])]);
    assert.equal(m.routes.length, 0, path);
    assert.equal(m.routeConditions[0]!.reason, 'UnsupportedValue', path);
  }
});

// grpc-js-xds's own matcher, to cross-check the evaluator on what proxyless clients receive.
const require = createRequire(import.meta.url);
const grpcRoute = require('@grpc/grpc-js-xds/build/src/route.js') as { getPredicateForMatcher(m: unknown): { apply(method: string, md: unknown): boolean } };
const { Metadata } = require('@grpc/grpc-js') as { Metadata: new () => { add(k: string, v: string): void } };

/** The route configuration as grpc-js-xds decodes it (oneof names set, defaults filled). */
function asGrpcDecodes(rc: Msg): { virtual_hosts: { routes: { name: string; match: unknown }[] }[] } {
  const type = messageType(TYPE.route);
  return type.toObject(type.decode(encodeResource(TYPE.route, rc).value), { oneofs: true, defaults: true, enums: String, longs: String }) as ReturnType<typeof asGrpcDecodes>;
}

test('proxyless gRPC clients get the same routing without the matchers grpc-js rejects, and grpc-js agrees with the evaluator', () => {
  const model = buildModel([...base, ...matching, ...queryRoutes.map((r) => ({ ...r, metadata: { ...r.metadata, name: 'q' }, spec: { ...(r.spec as object), parentRefs: [{ group: '', kind: 'Service', name: 'echo-v2', port: 80 }] } }))]);
  const res = proxylessResources(model, { id: 'g', kind: 'grpc', namespace: NS });
  for (const name of [`echo.${NS}.svc.cluster.local:80`, `echo-v2.${NS}.svc.cluster.local:80`]) {
    const rc = res[TYPE.route][name]!;
    assert.deepEqual(strictCheck('envoy.config.route.v3.RouteConfiguration', rc), []);
    const routes = (rc.virtual_hosts as Msg[])[0]!.routes as Msg[];
    for (const r of routes) {
      const m = r.match as Msg;
      assert.equal(m.path_separated_prefix, undefined, 'grpc-js NACKs path_separated_prefix');
      assert.equal(m.query_parameters, undefined, 'grpc-js ignores query matchers, which would widen the route');
    }
    const decoded = asGrpcDecodes(rc).virtual_hosts[0]!.routes;
    for (const [req] of matchingCases) {
      const md = new Metadata();
      for (const [k, v] of Object.entries(req.headers ?? {})) md.add(k.toLowerCase(), v);
      const byGrpc = decoded.find((r) => grpcRoute.getPredicateForMatcher(r.match).apply(req.path, md))?.name;
      const bySim = evaluateRoute(rc, { host: name, ...req }, { port: 80 });
      assert.equal(byGrpc ?? 'none', bySim.kind === 'not-found' ? 'none' : bySim.route, `${name} ${JSON.stringify(req)}`);
    }
  }
  // The query-only routes of echo-v2 can never match a gRPC call, so only the /path5 rule remains.
  const v2 = res[TYPE.route][`echo-v2.${NS}.svc.cluster.local:80`]!;
  assert.equal(evaluateRoute(v2, { host: 'echo-v2', path: '/pkg.Svc/Method' }, { port: 80 }).kind, 'not-found');
});

// GRPCRoute (conformance/tests/mesh/grpcroute-*.go): the echo Services' gRPC port 7070, calls sent
// as gRPC sends them (POST, `:path` /package.Service/Method, content-type application/grpc).
// MeshGRPCRouteWeight is in the releases (v1.5.0, which mesh pins, to v1.6.1); the header modifier
// test is on the Gateway API's main branch (not yet released) and the mirror test in a proposed
// change (kubernetes-sigs/gateway-api 4398603): restated from there.
const GRPC_SVC = 'gateway_api_conformance.echo_basic.grpcecho.GrpcEcho';
const grpcBase = ['echo', 'echo-v1', 'echo-v2', 'echo-v3'].map((name): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: NS },
  spec: { clusterIP: IPS[name], selector: { app: name }, ports: [{ name: 'grpc', port: 7070, appProtocol: 'grpc' }] },
}));

function grpcRouteOf(name: string, rules: unknown[], opts: { created?: string; parent?: string } = {}): KubeObject {
  const metadata: KubeObject['metadata'] = { name, namespace: NS };
  if (opts.created) metadata.creationTimestamp = opts.created;
  return { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GRPCRoute', metadata, spec: { parentRefs: [{ group: '', kind: 'Service', name: opts.parent ?? 'echo', port: 7070 }], rules } };
}

/** A gRPC call of `method` on `service` through a sidecar of the conformance namespace, to echo:7070. */
function call(objects: KubeObject[], method: string, headers: Record<string, string> = {}, service = GRPC_SVC): ReturnType<typeof send> {
  const model = buildModel([...grpcBase, ...objects]);
  const res = sidecarResources(model, { id: 'client', kind: 'sidecar', namespace: NS });
  return outbound(res, { ip: IPS.echo!, port: 7070 }, { host: 'echo:7070', path: `/${service}/${method}`, method: 'POST', headers: { 'content-type': 'application/grpc', ...headers } });
}

test('MeshGRPCRouteWeight: a 70/30/0 GRPCRoute splits calls to echo-v1 and echo-v2 in that ratio, none to echo-v3', () => {
  const r = call([grpcRouteOf('mesh-grpc-weighted-backends', [{ backendRefs: [{ name: 'echo-v1', port: 7070, weight: 70 }, { name: 'echo-v2', port: 7070, weight: 30 }, { name: 'echo-v3', port: 7070, weight: 0 }] }])], 'Echo');
  assert.equal(r.kind, 'route');
  if (r.kind !== 'route') return;
  assert.deepEqual(r.upstreams.map((u) => [u.cluster, u.weight, u.missingStatus]), [
    [`outbound|7070||echo-v1.${NS}.svc.cluster.local`, 70, undefined],
    [`outbound|7070||echo-v2.${NS}.svc.cluster.local`, 30, undefined],
  ]);
});

test('MeshGRPCRouteRequestHeaderModifier: set, add and remove reach the backend the method and header match pick', () => {
  // The rules of the conformance manifest, told apart by the x-test-case header the test's calls carry.
  const rule = (testCase: string, mods: unknown, backend: string): unknown => ({
    matches: [{ headers: [{ name: 'x-test-case', value: testCase }] }],
    filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: mods }],
    backendRefs: [{ name: backend, port: 7070 }],
  });
  const objects = [
    grpcRouteOf('grpc-request-header-modifier', [
      rule('set', { set: [{ name: 'x-header-set', value: 'set-overwrites-values' }] }, 'echo-v1'),
      rule('add', { add: [{ name: 'x-header-add', value: 'add-appends-values' }] }, 'echo-v1'),
      rule('remove', { remove: ['x-header-remove'] }, 'echo-v1'),
      rule('multi', {
        set: [{ name: 'x-header-set-1', value: 'header-set-1' }, { name: 'x-header-set-2', value: 'header-set-2' }],
        add: [{ name: 'x-header-add-1', value: 'header-add-1' }, { name: 'x-header-add-2', value: 'header-add-2' }],
        remove: ['x-header-remove-1', 'x-header-remove-2'],
      }, 'echo-v2'),
    ]),
  ];
  const cases: [Record<string, string>, string, Record<string, string[] | undefined>][] = [
    [{ 'x-test-case': 'set', 'some-other-header': 'this-header-should-be-set', 'x-header-set': 'this-value-should-be-overwritten' }, 'echo-v1', { 'some-other-header': ['this-header-should-be-set'], 'x-header-set': ['set-overwrites-values'] }],
    [{ 'x-test-case': 'add', 'x-header-add': 'this-value-should-be-appended' }, 'echo-v1', { 'x-header-add': ['this-value-should-be-appended', 'add-appends-values'] }],
    [{ 'x-test-case': 'remove', 'x-header-remove': 'this-should-be-removed' }, 'echo-v1', { 'x-header-remove': undefined }],
    [
      { 'x-test-case': 'multi', 'x-header-set-2': 'set-header-2', 'x-header-add-2': 'add-header-2', 'x-header-remove-2': 'should-be-removed-2' },
      'echo-v2',
      { 'x-header-set-1': ['header-set-1'], 'x-header-set-2': ['header-set-2'], 'x-header-add-1': ['header-add-1'], 'x-header-add-2': ['add-header-2', 'header-add-2'], 'x-header-remove-1': undefined, 'x-header-remove-2': undefined },
    ],
  ];
  for (const [headers, backend, want] of cases) {
    const r = call(objects, 'Echo', headers);
    assert.equal(outcome(r), backend, JSON.stringify(headers));
    if (r.kind !== 'route') continue;
    for (const [name, value] of Object.entries(want)) assert.deepEqual(r.headers[name], value, `${headers['x-test-case']}: ${name}`);
  }
  // A call no rule matches reaches no backend.
  assert.equal(outcome(call(objects, 'Echo', { 'x-test-case': 'other' })), 404);
});

test('MeshGRPCRouteRequestMirror: matching calls reach echo-v1 and are mirrored to echo-v2, with the rule\'s header edits', () => {
  const mirror = { type: 'RequestMirror', requestMirror: { backendRef: { name: 'echo-v2', port: 7070 } } };
  const objects = [
    grpcRouteOf('mesh-grpc-request-mirror', [
      { matches: [{ headers: [{ name: 'x-mirror-only', value: 'true' }] }], filters: [mirror], backendRefs: [{ name: 'echo-v1', port: 7070 }] },
      {
        matches: [{ headers: [{ name: 'x-mirror-and-modify', value: 'true' }] }],
        filters: [
          { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'X-Header-Set', value: 'set-overwrites-values' }], add: [{ name: 'X-Header-Add', value: 'header-val-1' }, { name: 'X-Header-Add-Append', value: 'header-val-2' }], remove: ['X-Header-Remove'] } },
          mirror,
        ],
        backendRefs: [{ name: 'echo-v1', port: 7070 }],
      },
    ]),
  ];
  const v2 = `outbound|7070||echo-v2.${NS}.svc.cluster.local`;
  const only = call(objects, 'Echo', { 'x-mirror-only': 'true' });
  assert.equal(outcome(only), 'echo-v1');
  assert.ok(only.kind === 'route' && only.mirrors.length === 1 && only.mirrors[0] === v2);
  const modify = call(objects, 'Echo', { 'x-mirror-and-modify': 'true', 'X-Header-Remove': 'remove-val', 'X-Header-Add-Append': 'append-val-1' });
  assert.equal(outcome(modify), 'echo-v1');
  assert.ok(modify.kind === 'route' && modify.mirrors[0] === v2);
  if (modify.kind === 'route') {
    assert.deepEqual(modify.headers['x-header-set'], ['set-overwrites-values']);
    assert.deepEqual(modify.headers['x-header-add'], ['header-val-1']);
    assert.deepEqual(modify.headers['x-header-add-append'], ['append-val-1', 'header-val-2']);
    assert.equal(modify.headers['x-header-remove'], undefined);
  }
  assert.equal(outcome(call(objects, 'Echo')), 404, 'a call no rule matches gets 404 (gRPC UNIMPLEMENTED), not a backend');
});

// grpc-js-xds's own decoding and validation of a RouteConfiguration: what it would NACK. The
// package entry sets up its proto loading, and register() its filters (fault injection included).
(require('@grpc/grpc-js-xds') as { register(): void }).register();
const { RouteConfigurationResourceType } = require('@grpc/grpc-js-xds/build/src/xds-resource-type/route-config-resource-type.js') as {
  RouteConfigurationResourceType: { get(): { decode(ctx: unknown, r: { type_url: string; value: Uint8Array }): { value?: ReturnType<typeof asGrpcDecodes>; error?: string } } };
};

/** The route grpc-js-xds picks for a call (by its own matcher), after checking it accepts the configuration. */
function grpcJsPick(rc: Msg, path: string, headers: Record<string, string> = {}): string {
  const any = encodeResource(TYPE.route, rc);
  const got = RouteConfigurationResourceType.get().decode({}, { type_url: TYPE.route, value: any.value });
  assert.ok(got.value, `grpc-js would NACK: ${got.error}`);
  const md = new Metadata();
  for (const [k, v] of Object.entries(headers)) md.add(k.toLowerCase(), v);
  return got.value.virtual_hosts[0]!.routes.find((r) => grpcRoute.getPredicateForMatcher(r.match).apply(path, md))?.name ?? 'none';
}

test('GRPCRoute method matches: exact, service-only, method-only and RE2 matches, in GRPCRoute precedence, for sidecars and grpc-js alike', () => {
  const objects = [
    grpcRouteOf('m', [
      { matches: [{ method: { service: GRPC_SVC, method: 'Echo' } }], backendRefs: [{ name: 'echo-v1', port: 7070 }] },
      { matches: [{ method: { service: GRPC_SVC } }], backendRefs: [{ name: 'echo-v2', port: 7070 }] },
      { matches: [{ method: { method: 'Ping' } }], backendRefs: [{ name: 'echo-v1', port: 7070 }] },
      { matches: [{ method: { type: 'RegularExpression', service: 'other\\.v[0-9]+\\.Store', method: 'Get.*' } }], backendRefs: [{ name: 'echo-v2', port: 7070 }] },
      { matches: [{ method: { service: GRPC_SVC, method: 'Echo' }, headers: [{ name: 'x-canary', value: 'yes' }] }], backendRefs: [{ name: 'echo-v2', port: 7070 }] },
    ]),
  ];
  // [service, method, headers, rule index (m.N.0) or none]
  const cases: [string, string, Record<string, string>, string][] = [
    [GRPC_SVC, 'Echo', {}, 'm.0'],
    [GRPC_SVC, 'Echo', { 'x-canary': 'yes' }, 'm.4'], // more header matches win on equal method matches
    [GRPC_SVC, 'EchoTwo', {}, 'm.1'], // the service alone, not a prefix of the method name
    [`${GRPC_SVC}Extra`, 'Echo', {}, 'none'], // a longer service name is another service
    ['a.b.Anything', 'Ping', {}, 'm.2'],
    ['a.b.Anything', 'PingPong', {}, 'none'],
    [GRPC_SVC, 'Ping', {}, 'm.1'], // an exact service outranks a method-only match
    ['other.v2.Store', 'GetItem', {}, 'm.3'],
    ['other.v2.Store', 'PutItem', {}, 'none'],
    ['xother.v2.Store', 'GetItem', {}, 'none'], // RE2 full match, not a search
  ];
  const model = buildModel([...grpcBase, ...objects]);
  const name = `echo.${NS}.svc.cluster.local:7070`;
  const sidecar = sidecarResources(model, { id: 's', kind: 'sidecar', namespace: NS })[TYPE.route][name]!;
  const grpc = proxylessResources(model, { id: 'g', kind: 'grpc', namespace: NS })[TYPE.route][name]!;
  for (const rc of [sidecar, grpc]) {
    assert.deepEqual(strictCheck('envoy.config.route.v3.RouteConfiguration', rc), []);
    assert.deepEqual(validateRules(TYPE.route, rc), []);
  }
  for (const [service, method, headers, want] of cases) {
    const req = { host: 'echo:7070', path: `/${service}/${method}`, method: 'POST', headers };
    const route = (r: SimResult): string => (r.kind === 'not-found' ? 'none' : r.route.replace(/^[^.]+\./, '').replace(/\.\d+$/, ''));
    assert.equal(route(evaluateRoute(sidecar, req, { port: 7070 })), want, `sidecar ${req.path} ${JSON.stringify(headers)}`);
    assert.equal(route(evaluateRoute(grpc, req, { port: 7070 })), want, `proxyless ${req.path}`);
    assert.equal(grpcJsPick(grpc, req.path, headers).replace(/^[^.]+\./, '').replace(/\.\d+$/, ''), want, `grpc-js ${req.path}`);
  }
});

test('GRPCRoute precedence between routes and with an HTTPRoute on the same parent: the older route wins, the other kind is not attached', () => {
  const older = grpcRouteOf('zz-older', [{ matches: [{ method: { service: GRPC_SVC } }], backendRefs: [{ name: 'echo-v1', port: 7070 }] }], { created: '2026-01-01T00:00:00Z' });
  const newer = grpcRouteOf('aa-newer', [{ matches: [{ method: { service: GRPC_SVC } }], backendRefs: [{ name: 'echo-v2', port: 7070 }] }], { created: '2026-06-01T00:00:00Z' });
  assert.equal(outcome(call([newer, older], 'Echo')), 'echo-v1');
  // An HTTPRoute made after the GRPCRoute on the same Service: refused (Accepted=False), the GRPCRoute keeps routing.
  const http = { ...route('web', [{ backendRefs: [{ name: 'echo-v2', port: 7070 }] }], { port: 7070 }), metadata: { name: 'web', namespace: NS, creationTimestamp: '2026-07-01T00:00:00Z' } };
  const model = buildModel([...grpcBase, older, http]);
  assert.deepEqual(model.routes.map((r) => `${r.kind ?? 'HTTPRoute'} ${r.name}`), ['GRPCRoute zz-older']);
  const refused = model.routeConditions.filter((c) => c.kind === undefined && c.route === `${NS}/web`);
  assert.deepEqual(refused.map((c) => [c.type, c.status, c.reason]), [['Accepted', 'False', 'Conflicted']]);
  assert.match(refused[0]!.message, /GRPCRoute gateway-conformance-mesh\/zz-older is older/);
  assert.equal(outcome(call([older, http], 'Echo')), 'echo-v1');
  // Made before it, the HTTPRoute wins instead and the GRPCRoute is the one refused.
  const first = { ...http, metadata: { ...http.metadata, creationTimestamp: '2025-01-01T00:00:00Z' } };
  const m2 = buildModel([...grpcBase, older, first]);
  assert.deepEqual(m2.routes.map((r) => `${r.kind ?? 'HTTPRoute'} ${r.name}`), ['HTTPRoute web']);
  assert.deepEqual(m2.routeConditions.filter((c) => c.kind === 'GRPCRoute').map((c) => [c.route, c.type, c.status, c.reason]), [[`${NS}/zz-older`, 'Accepted', 'False', 'Conflicted']]);
  // A consumer GRPCRoute in another namespace is another view: no conflict with a producer HTTPRoute.
  const consumer: KubeObject = { ...grpcRouteOf('c', [{ backendRefs: [{ name: 'echo-v1', namespace: NS, port: 7070 }] }]), metadata: { name: 'c', namespace: CONSUMER } };
  (consumer.spec as { parentRefs: Record<string, unknown>[] }).parentRefs[0]!.namespace = NS;
  const m3 = buildModel([...grpcBase, first, consumer]);
  assert.equal(m3.routes.length, 2);
});

test('GRPCRoute: a method match the CRD rejects refuses the route; a filter mesh cannot apply fails the rule instead of widening', () => {
  const bad = buildModel([...grpcBase, grpcRouteOf('bad', [{ matches: [{ method: { service: 'no spaces allowed' } }], backendRefs: [{ name: 'echo-v1', port: 7070 }] }])]);
  assert.equal(bad.routes.length, 0);
  assert.deepEqual(bad.routeConditions.map((c) => [c.kind, c.type, c.status, c.reason]), [['GRPCRoute', 'Accepted', 'False', 'UnsupportedValue']]);
  assert.match(bad.routeConditions[0]!.message, /rule 1 match 1: service "no spaces allowed" is not a valid gRPC service name/);
  const noMethod = buildModel([...grpcBase, grpcRouteOf('x', [{ matches: [{ method: { type: 'Exact' } }], backendRefs: [{ name: 'echo-v1', port: 7070 }] }])]);
  assert.match(noMethod.routeConditions[0]!.message, /needs a service, a method or both/);
  const objects = [
    grpcRouteOf('f', [
      { matches: [{ method: { service: GRPC_SVC, method: 'Echo' } }], filters: [{ type: 'ExtensionRef', extensionRef: { group: 'example.io', kind: 'Thing', name: 'x' } }], backendRefs: [{ name: 'echo-v1', port: 7070 }] },
      { matches: [{ method: { service: GRPC_SVC, method: 'Rewrite' } }], filters: [{ type: 'URLRewrite', urlRewrite: { hostname: 'x' } }], backendRefs: [{ name: 'echo-v1', port: 7070 }] },
      { backendRefs: [{ name: 'echo-v2', port: 7070 }] },
    ]),
  ];
  assert.equal(outcome(call(objects, 'Echo')), 500);
  assert.equal(outcome(call(objects, 'Rewrite')), 500);
  assert.equal(outcome(call(objects, 'Other')), 'echo-v2');
  const conds = buildModel([...grpcBase, ...objects]).routeConditions;
  assert.deepEqual(conds.map((c) => [c.type, c.status, c.reason]), [['Accepted', 'True', 'Accepted'], ['ResolvedRefs', 'True', 'ResolvedRefs'], ['PartiallyInvalid', 'True', 'UnsupportedValue']]);
  assert.match(conds[2]!.message, /rule 2: filter URLRewrite is not supported by mesh on a GRPCRoute/);
});

test('backend-level header filters: each weighted backend gets its own edits, which win over the rule\'s; grpc-js clients refuse the rule', () => {
  const mods = (value: string): unknown[] => [
    { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-backend', value }], remove: ['x-drop'] } },
    { type: 'ResponseHeaderModifier', responseHeaderModifier: { add: [{ name: 'x-served-by', value }] } },
  ];
  const objects = [
    route('split', [
      {
        matches: [{ path: { type: 'PathPrefix', value: '/split' } }],
        filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-backend', value: 'rule' }, { name: 'x-rule', value: 'yes' }] } }],
        backendRefs: [{ name: 'echo-v1', port: 80, weight: 50, filters: mods('v1') }, { name: 'echo-v2', port: 80, weight: 50, filters: mods('v2') }],
      },
      { matches: [{ path: { type: 'PathPrefix', value: '/one' } }], backendRefs: [{ name: 'echo-v1', port: 80, filters: mods('only') }] },
      { matches: [{ path: { type: 'PathPrefix', value: '/unsupported' } }], backendRefs: [{ name: 'echo-v1', port: 80, filters: [{ type: 'URLRewrite', urlRewrite: { hostname: 'x' } }] }] },
      { backendRefs: [{ name: 'echo-v2', port: 80 }] },
    ]),
  ];
  const r = send(objects, { path: '/split/a', headers: { 'x-drop': '1', 'x-keep': '1' } });
  assert.equal(r.kind, 'route');
  if (r.kind !== 'route') return;
  assert.deepEqual(r.upstreams.map((u) => [u.cluster.split('||')[1]!.split('.')[0], u.weight, u.headers['x-backend'], u.headers['x-rule'], u.headers['x-drop'], u.headers['x-keep'], u.responseHeaders.add.map((h) => `${h.name}=${h.value}`)]), [
    ['echo-v1', 50, ['v1'], ['yes'], undefined, ['1'], ['x-served-by=v1']],
    ['echo-v2', 50, ['v2'], ['yes'], undefined, ['1'], ['x-served-by=v2']],
  ]);
  const one = send(objects, { path: '/one' });
  assert.ok(one.kind === 'route' && one.upstreams.length === 1 && one.upstreams[0]!.headers['x-backend']![0] === 'only', 'a single backend with filters is still programmed');
  assert.equal(outcome(send(objects, { path: '/unsupported' })), 500);
  const model = buildModel([...base, ...objects]);
  assert.match(model.routeConditions.find((c) => c.type === 'PartiallyInvalid')!.message, /rule 3: backendRef gateway-conformance-mesh\/echo-v1 filter URLRewrite is not supported/);
  const sidecar = sidecarResources(model, { id: 's', kind: 'sidecar', namespace: NS });
  const grpc = proxylessResources(model, { id: 'g', kind: 'grpc', namespace: NS });
  for (const res of [sidecar, grpc]) {
    for (const [type, byName] of Object.entries(res)) {
      for (const [n, m] of Object.entries(byName)) {
        assert.deepEqual(strictCheck(type.slice(type.lastIndexOf('/') + 1), m), [], n);
        assert.deepEqual(validateRules(type, m), [], n);
      }
    }
  }
  // grpc-js applies no header mutation: the rule ends its calls with UNKNOWN instead of ignoring the filters.
  const rc = grpc[TYPE.route][`echo.${NS}.svc.cluster.local:80`]!;
  const got = evaluateRoute(rc, { host: 'echo', path: '/split/a' }, { port: 80 });
  assert.deepEqual(got.kind === 'abort' ? got.grpcStatus : got, 2);
  assert.equal(grpcJsPick(rc, '/split/a').replace(/\.\d+$/, ''), `${NS}.split.0`);
  assert.equal(evaluateRoute(rc, { host: 'echo', path: '/else' }, { port: 80 }).kind, 'route');
});

test('proxyless: a backendRequest timeout without retries becomes the call deadline, never a zero-retry policy grpc-js would NACK', () => {
  const objects = [route('t', [{ timeouts: { request: '5s', backendRequest: '300ms' }, backendRefs: [{ name: 'echo-v1', port: 80 }] }])];
  const model = buildModel([...base, ...objects]);
  const rc = proxylessResources(model, { id: 'g', kind: 'grpc', namespace: NS })[TYPE.route][`echo.${NS}.svc.cluster.local:80`]!;
  const action = ((rc.virtual_hosts as Msg[])[0]!.routes as Msg[])[0]!.route as Msg;
  assert.equal(action.retry_policy, undefined);
  assert.deepEqual(action.max_stream_duration, { max_stream_duration: { seconds: 0, nanos: 300_000_000 } });
  grpcJsPick(rc, '/x');
  // Sidecars keep Envoy's per-try timeout.
  const sc = sidecarResources(model, { id: 's', kind: 'sidecar', namespace: NS })[TYPE.route][`echo.${NS}.svc.cluster.local:80`]!;
  const sa = ((sc.virtual_hosts as Msg[])[0]!.routes as Msg[])[0]!.route as Msg;
  assert.deepEqual((sa.retry_policy as Msg).per_try_timeout, { seconds: 0, nanos: 300_000_000 });
});

test('three routes on one parent: the kind of the oldest decides, so a newer HTTPRoute stays attached beside the oldest one', () => {
  const at = (o: KubeObject, t: string): KubeObject => ({ ...o, metadata: { ...o.metadata, creationTimestamp: t } });
  const a = at(route('a', [{ matches: [{ path: { type: 'PathPrefix', value: '/a' } }], backendRefs: [{ name: 'echo-v1', port: 7070 }] }], { port: 7070 }), '2026-01-01T00:00:00Z');
  const b = at(grpcRouteOf('b', [{ backendRefs: [{ name: 'echo-v2', port: 7070 }] }]), '2026-02-01T00:00:00Z');
  const c = at(route('c', [{ backendRefs: [{ name: 'echo-v2', port: 7070 }] }], { port: 7070 }), '2026-03-01T00:00:00Z');
  const model = buildModel([...grpcBase, a, b, c]);
  assert.deepEqual(model.routes.map((r) => `${r.kind ?? 'HTTPRoute'} ${r.name}`), ['HTTPRoute a', 'HTTPRoute c']);
  assert.deepEqual(model.routeConditions.filter((x) => x.reason === 'Conflicted').map((x) => `${x.kind} ${x.route}`), [`GRPCRoute ${NS}/b`]);
});
