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

const NS = 'gateway-conformance-mesh';
const CONSUMER = 'gateway-conformance-mesh-consumer';
const IPS: Record<string, string> = { echo: '10.96.0.10', 'echo-v1': '10.96.0.11', 'echo-v2': '10.96.0.12' };

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
