// The Gateway API's base conformance tests for HTTPRoute on a Gateway that mesh claims, routed
// through the configuration mesh emits for the gateway's Envoy. Each table restates one test of
// kubernetes-sigs/gateway-api (conformance/tests/<name>.go with its manifest, and the shared
// conformance/base/manifests.yaml): the same Gateways and routes, the same requests, the same
// expected backend, status, redirect, rewrite and route conditions. No Envoy runs here: requests go
// through test/support/envoy-sim.ts (Envoy's documented listener, filter chain and route matching).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildModel, type MeshModel } from '../../src/model/index.ts';
import { gatewayBindPort, gatewayResources } from '../../src/xds/gateway.ts';
import { TYPE } from '../../src/xds/protos.ts';
import { encodeResource, decodeResource, strictCheck } from '../../src/xds/encode.ts';
import { consistent, makeSnapshot } from '../../src/xds/snapshot.ts';
import type { Resources } from '../../src/xds/translate.ts';
import type { KubeObject } from '../../src/cluster/types.ts';
import { gatewayRequest, type SimRequest } from '../support/envoy-sim.ts';
import { validateRules } from '../support/pgv.ts';

const INFRA = 'gateway-conformance-infra';
const WEB = 'gateway-conformance-web-backend';
const GW = 'gateway.networking.k8s.io/v1';

type O = Record<string, unknown>;
const obj = (apiVersion: string, kind: string, name: string, namespace: string | undefined, rest: O): KubeObject =>
  ({ apiVersion, kind, metadata: namespace ? { name, namespace } : { name }, ...rest }) as KubeObject;

function ns(name: string, labels: Record<string, string>): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
}
function svc(name: string, namespace = INFRA): KubeObject {
  return obj('v1', 'Service', name, namespace, { spec: { clusterIP: '10.96.1.1', selector: { app: name }, ports: [{ name: 'first-port', port: 8080, targetPort: 3000 }] } });
}
const http = (name: string, port = 80, extra: O = {}): O => ({ name, port, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'Same' } }, ...extra });
const cert = { certificateRefs: [{ group: '', kind: 'Secret', name: 'tls-validity-checks-certificate', namespace: INFRA }] };
const https = (name: string, hostname?: string): O => ({ name, port: 443, protocol: 'HTTPS', allowedRoutes: { namespaces: { from: 'Same' } }, tls: cert, ...(hostname ? { hostname } : {}) });
function gateway(name: string, listeners: O[]): KubeObject {
  return obj(GW, 'Gateway', name, INFRA, { spec: { gatewayClassName: 'mesh', listeners } });
}
function route(name: string, spec: { parentRefs: O[]; hostnames?: string[]; rules: O[] }, namespace = INFRA): KubeObject {
  return obj(GW, 'HTTPRoute', name, namespace, { spec });
}
const backend = (name: string, extra: O = {}): O => ({ name, port: 8080, ...extra });
const prefix = (value: string): O => ({ path: { type: 'PathPrefix', value } });

/** conformance/base/manifests.yaml, the parts these tests use. */
const base: KubeObject[] = [
  obj(GW, 'GatewayClass', 'mesh', undefined, { spec: { controllerName: 'mesh.dev/gateway-controller' } }),
  ns(INFRA, { 'gateway-conformance': 'infra' }),
  ns(WEB, { 'gateway-conformance': 'backend' }),
  gateway('same-namespace', [http('http')]),
  gateway('same-namespace-with-https-listener', [https('https'), https('https-with-hostname', 'second-example.org'), https('https-with-wildcard-hostname', '*.wildcard.org'), https('https-with-hostname-matching-wildcard', 'fourth-example.wildcard.org')]),
  gateway('all-namespaces', [{ name: 'http', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } }]),
  gateway('backend-namespaces', [{ name: 'http', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'Selector', selector: { matchLabels: { 'gateway-conformance': 'backend' } } } } }]),
  svc('infra-backend-v1'),
  svc('infra-backend-v2'),
  svc('infra-backend-v3'),
  svc('web-backend', WEB),
  // The certificate's bytes do not matter to the model: only that the Secret holds a TLS pair.
  obj('v1', 'Secret', 'tls-validity-checks-certificate', INFRA, { type: 'kubernetes.io/tls', data: { 'tls.crt': 'Y2VydA==', 'tls.key': 'a2V5' } }),
];

/** A request to a Gateway: its listener port (what the Service exposes), SNI for TLS. */
interface Req extends Partial<SimRequest> {
  path: string;
  port?: number;
  sni?: string;
}

/** What a client sees: the backend Service, a status, or `STATUS LOCATION` for a redirect. */
type Want = string | number;

interface Case {
  name: string;
  objects: KubeObject[];
  requests: [gateway: string, req: Req, want: Want][];
  /** [route, parent key, type, status, reason] among the model's route conditions. */
  conditions?: [string, string, string, string, string][];
  /** [gateway, listener, attachedRoutes]. */
  attached?: [string, string, number][];
}

const models = new WeakMap<KubeObject[], MeshModel>();
function modelOf(objects: KubeObject[]): MeshModel {
  let m = models.get(objects);
  if (!m) models.set(objects, (m = buildModel([...base, ...objects])));
  return m;
}
function resourcesOf(model: MeshModel, gw: string): Resources {
  return gatewayResources(model, { id: `${gw}-pod`, kind: 'gateway', namespace: INFRA, gateway: gw });
}

function outcome(model: MeshModel, gw: string, req: Req): Want {
  const { port = 80, sni, ...rest } = req;
  const r = gatewayRequest(resourcesOf(model, gw), { port: gatewayBindPort(port), ...(sni !== undefined ? { sni } : {}) }, { host: 'gateway.example', ...rest });
  if (r.kind === 'route') {
    const live = r.upstreams.filter((u) => u.weight > 0);
    assert.equal(live.length, 1, `one backend expected, got ${JSON.stringify(r.upstreams)}`);
    const u = live[0]!;
    return u.missingStatus ?? u.cluster.split('||')[1]!.split('.')[0]!;
  }
  if (r.kind === 'redirect') return `${r.status} ${r.location}`;
  if (r.kind === 'refused') return `refused: ${r.why}`;
  if (r.kind === 'abort') return r.httpStatus ?? 0;
  return r.status;
}

const cases: Case[] = [
  {
    name: 'HTTPRouteSimpleSameNamespace',
    objects: [route('gateway-conformance-infra-test', { parentRefs: [{ name: 'same-namespace' }], rules: [{ backendRefs: [backend('infra-backend-v1')] }] })],
    requests: [['same-namespace', { path: '/' }, 'infra-backend-v1']],
    conditions: [['gateway-conformance-infra-test', `${INFRA}/same-namespace`, 'Accepted', 'True', 'Accepted']],
    attached: [['same-namespace', 'http', 1]],
  },
  {
    name: 'HTTPRouteCrossNamespace',
    objects: [route('cross-namespace', { parentRefs: [{ name: 'backend-namespaces', namespace: INFRA }], rules: [{ backendRefs: [backend('web-backend')] }] }, WEB)],
    requests: [['backend-namespaces', { path: '/' }, 'web-backend']],
    conditions: [
      ['cross-namespace', `${INFRA}/backend-namespaces`, 'Accepted', 'True', 'Accepted'],
      ['cross-namespace', `${INFRA}/backend-namespaces`, 'ResolvedRefs', 'True', 'ResolvedRefs'],
    ],
  },
  {
    name: 'HTTPRouteInvalidCrossNamespaceParentRef',
    objects: [route('invalid-cross-namespace-parent-ref', { parentRefs: [{ name: 'same-namespace', namespace: INFRA }], rules: [{ backendRefs: [backend('web-backend')] }] }, WEB)],
    requests: [['same-namespace', { path: '/' }, 404]],
    conditions: [
      ['invalid-cross-namespace-parent-ref', `${INFRA}/same-namespace`, 'Accepted', 'False', 'NotAllowedByListeners'],
      ['invalid-cross-namespace-parent-ref', `${INFRA}/same-namespace`, 'ResolvedRefs', 'True', 'ResolvedRefs'],
    ],
    attached: [['same-namespace', 'http', 0]],
  },
  {
    name: 'HTTPRouteDisallowedKind',
    objects: [
      gateway('tlsroutes-only', [{ name: 'tls', port: 443, protocol: 'TLS', tls: { mode: 'Passthrough' }, allowedRoutes: { namespaces: { from: 'Same' }, kinds: [{ kind: 'TLSRoute' }] } }]),
      route('disallowed-kind', { parentRefs: [{ name: 'tlsroutes-only', namespace: INFRA }], rules: [{ backendRefs: [backend('infra-backend-v1')] }] }),
    ],
    requests: [['tlsroutes-only', { path: '/', port: 443 }, 'refused: no listener on port 8443']],
    conditions: [
      ['disallowed-kind', `${INFRA}/tlsroutes-only`, 'Accepted', 'False', 'NotAllowedByListeners'],
      ['disallowed-kind', `${INFRA}/tlsroutes-only`, 'ResolvedRefs', 'True', 'ResolvedRefs'],
    ],
    attached: [['tlsroutes-only', 'tls', 0]],
  },
  {
    name: 'HTTPRouteExactPathMatching',
    objects: [route('exact-matching', { parentRefs: [{ name: 'same-namespace' }], rules: [
      { matches: [{ path: { type: 'Exact', value: '/one' } }], backendRefs: [backend('infra-backend-v1')] },
      { matches: [{ path: { type: 'Exact', value: '/two' } }], backendRefs: [backend('infra-backend-v2')] },
    ] })],
    requests: [
      ['same-namespace', { path: '/one' }, 'infra-backend-v1'],
      ['same-namespace', { path: '/two' }, 'infra-backend-v2'],
      ['same-namespace', { path: '/' }, 404],
      ['same-namespace', { path: '/one/example' }, 404],
      ['same-namespace', { path: '/two/' }, 404],
      ['same-namespace', { path: '/Two' }, 404],
    ],
  },
  {
    name: 'HTTPRouteMatching',
    objects: [route('matching', { parentRefs: [{ name: 'same-namespace' }], rules: [
      { matches: [prefix('/'), { headers: [{ name: 'version', value: 'one' }] }], backendRefs: [backend('infra-backend-v1')] },
      { matches: [prefix('/v2'), { headers: [{ name: 'version', value: 'two' }] }], backendRefs: [backend('infra-backend-v2')] },
    ] })],
    requests: [
      ['same-namespace', { path: '/' }, 'infra-backend-v1'],
      ['same-namespace', { path: '/example' }, 'infra-backend-v1'],
      ['same-namespace', { path: '/', headers: { Version: 'one' } }, 'infra-backend-v1'],
      ['same-namespace', { path: '/v2' }, 'infra-backend-v2'],
      ['same-namespace', { path: '/v2/example' }, 'infra-backend-v2'],
      ['same-namespace', { path: '/', headers: { Version: 'two' } }, 'infra-backend-v2'],
      ['same-namespace', { path: '/v2example' }, 'infra-backend-v1'],
      ['same-namespace', { path: '/foo/v2/example' }, 'infra-backend-v1'],
    ],
  },
  {
    name: 'HTTPRouteHostnameIntersection',
    objects: [
      gateway('httproute-hostname-intersection', [http('listener-1', 80, { hostname: 'very.specific.com' }), http('listener-2', 80, { hostname: '*.wildcard.io' }), http('listener-3', 80, { hostname: '*.anotherwildcard.io' })]),
      gateway('httproute-hostname-intersection-all', [http('listener-1')]),
      ...(
        [
          ['specific-host-matches-listener-specific-host', ['non.matching.com', '*.nonmatchingwildcard.io', 'very.specific.com'], '/s1', 'infra-backend-v1'],
          ['specific-host-matches-listener-wildcard-host', ['non.matching.com', 'wildcard.io', 'foo.wildcard.io', 'bar.wildcard.io', 'foo.bar.wildcard.io'], '/s2', 'infra-backend-v2'],
          ['wildcard-host-matches-listener-specific-host', ['non.matching.com', '*.specific.com'], '/s3', 'infra-backend-v3'],
          ['wildcard-host-matches-listener-wildcard-host', ['*.anotherwildcard.io'], '/s4', 'infra-backend-v1'],
          ['no-intersecting-hosts', ['specific.but.wrong.com', 'wildcard.io'], '/s5', 'infra-backend-v2'],
        ] as const
      ).map(([name, hostnames, path, to]) => route(name, { parentRefs: [{ name: 'httproute-hostname-intersection', namespace: INFRA }], hostnames: [...hostnames], rules: [{ matches: [prefix(path)], backendRefs: [backend(to)] }] })),
      route('httproute-hostname-intersection-all', { parentRefs: [{ name: 'httproute-hostname-intersection-all', namespace: INFRA }], hostnames: ['first.com', 'sub.first.com', 'second.com', 'sub.second.com'], rules: [{ backendRefs: [backend('infra-backend-v2')] }] }),
    ],
    requests: [
      ...(
        [
          ['very.specific.com', '/s1', 'infra-backend-v1'],
          ['very.specific.com:1234', '/s1', 'infra-backend-v1'],
          ['non.matching.com', '/s1', 404],
          ['foo.nonmatchingwildcard.io', '/s1', 404],
          ['foo.wildcard.io', '/s1', 404],
          ['very.specific.com', '/non-matching-prefix', 404],
          ['foo.wildcard.io', '/s2', 'infra-backend-v2'],
          ['bar.wildcard.io', '/s2', 'infra-backend-v2'],
          ['foo.bar.wildcard.io', '/s2', 'infra-backend-v2'],
          ['non.matching.com', '/s2', 404],
          ['wildcard.io', '/s2', 404],
          ['very.specific.com', '/s2', 404],
          ['foo.wildcard.io', '/non-matching-prefix', 404],
          ['very.specific.com', '/s3', 'infra-backend-v3'],
          ['non.matching.com', '/s3', 404],
          ['foo.specific.com', '/s3', 404],
          ['foo.wildcard.io', '/s3', 404],
          ['foo.anotherwildcard.io', '/s4', 'infra-backend-v1'],
          ['bar.anotherwildcard.io', '/s4', 'infra-backend-v1'],
          ['foo.bar.anotherwildcard.io', '/s4', 'infra-backend-v1'],
          ['anotherwildcard.io', '/s4', 404],
          ['foo.wildcard.io', '/s4', 404],
          ['very.specific.com', '/s4', 404],
          ['specific.but.wrong.com', '/s5', 404],
          ['wildcard.io', '/s5', 404],
        ] as const
      ).map(([host, path, want]): [string, Req, Want] => ['httproute-hostname-intersection', { host, path }, want]),
      ...['first.com', 'sub.first.com', 'second.com', 'sub.second.com'].map((host): [string, Req, Want] => ['httproute-hostname-intersection-all', { host, path: '/' }, 'infra-backend-v2']),
      ['httproute-hostname-intersection-all', { host: 'third.com', path: '/' }, 404],
    ],
    conditions: [
      ['no-intersecting-hosts', `${INFRA}/httproute-hostname-intersection`, 'Accepted', 'False', 'NoMatchingListenerHostname'],
      ['wildcard-host-matches-listener-specific-host', `${INFRA}/httproute-hostname-intersection`, 'Accepted', 'True', 'Accepted'],
    ],
    attached: [['httproute-hostname-intersection', 'listener-1', 2], ['httproute-hostname-intersection', 'listener-2', 1], ['httproute-hostname-intersection', 'listener-3', 1]],
  },
  {
    name: 'HTTPRouteListenerHostnameMatching',
    objects: [
      gateway('httproute-listener-hostname-matching', [http('listener-1', 80, { hostname: 'bar.com' }), http('listener-2', 80, { hostname: 'foo.bar.com' }), http('listener-3', 80, { hostname: '*.bar.com' }), http('listener-4', 80, { hostname: '*.foo.com' })]),
      route('backend-v1', { parentRefs: [{ name: 'httproute-listener-hostname-matching', namespace: INFRA, sectionName: 'listener-1' }], rules: [{ backendRefs: [backend('infra-backend-v1')] }] }),
      route('backend-v2', { parentRefs: [{ name: 'httproute-listener-hostname-matching', namespace: INFRA, sectionName: 'listener-2' }], rules: [{ backendRefs: [backend('infra-backend-v2')] }] }),
      route('backend-v3', { parentRefs: ['listener-3', 'listener-4'].map((sectionName) => ({ name: 'httproute-listener-hostname-matching', namespace: INFRA, sectionName })), rules: [{ backendRefs: [backend('infra-backend-v3')] }] }),
    ],
    requests: (
      [
        ['bar.com', 'infra-backend-v1'],
        ['foo.bar.com', 'infra-backend-v2'],
        ['baz.bar.com', 'infra-backend-v3'],
        ['boo.bar.com', 'infra-backend-v3'],
        ['multiple.prefixes.bar.com', 'infra-backend-v3'],
        ['multiple.prefixes.foo.com', 'infra-backend-v3'],
        ['foo.com', 404],
        ['no.matching.host', 404],
      ] as const
    ).map(([host, want]): [string, Req, Want] => ['httproute-listener-hostname-matching', { host, path: '/' }, want]),
    conditions: [['backend-v3', `${INFRA}/httproute-listener-hostname-matching/listener-4`, 'Accepted', 'True', 'Accepted']],
  },
  {
    name: 'HTTPRouteHTTPSListener',
    objects: [
      route('httproute-https-test', { parentRefs: [{ name: 'same-namespace-with-https-listener' }], hostnames: ['example.org'], rules: [{ backendRefs: [backend('infra-backend-v1')] }] }),
      route('httproute-https-test-no-hostname', { parentRefs: [{ name: 'same-namespace-with-https-listener', sectionName: 'https-with-hostname' }], rules: [{ backendRefs: [backend('infra-backend-v2')] }] }),
    ],
    requests: [
      ['same-namespace-with-https-listener', { port: 443, sni: 'example.org', host: 'example.org', path: '/' }, 'infra-backend-v1'],
      ['same-namespace-with-https-listener', { port: 443, sni: 'unknown-example.org', host: 'unknown-example.org', path: '/' }, 404],
      ['same-namespace-with-https-listener', { port: 443, sni: 'second-example.org', host: 'second-example.org', path: '/' }, 'infra-backend-v2'],
      // TLS only: a plaintext request to the HTTPS port gets no filter chain.
      ['same-namespace-with-https-listener', { port: 443, host: 'example.org', path: '/' }, 'refused: a plaintext connection to a TLS listener'],
    ],
    conditions: [['httproute-https-test', `${INFRA}/same-namespace-with-https-listener`, 'ResolvedRefs', 'True', 'ResolvedRefs']],
  },
  {
    name: 'HTTPRouteRequestHeaderModifier (routing; the header edits are checked below)',
    objects: [route('request-header-modifier', { parentRefs: [{ name: 'same-namespace' }], rules: [
      { matches: [prefix('/set')], filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'X-Header-Set', value: 'set-overwrites-values' }] } }], backendRefs: [backend('infra-backend-v1')] },
      { matches: [prefix('/add')], filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { add: [{ name: 'X-Header-Add', value: 'add-appends-values' }] } }], backendRefs: [backend('infra-backend-v1')] },
      { matches: [prefix('/remove')], filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { remove: ['X-Header-Remove'] } }], backendRefs: [backend('infra-backend-v1')] },
    ] })],
    requests: [['same-namespace', { path: '/set' }, 'infra-backend-v1'], ['same-namespace', { path: '/remove' }, 'infra-backend-v1']],
  },
  {
    name: 'HTTPRouteRedirectPath / RedirectHostAndStatus',
    objects: [route('redirect-path', { parentRefs: [{ name: 'same-namespace' }], rules: [
      { matches: [prefix('/original-prefix')], filters: [{ type: 'RequestRedirect', requestRedirect: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/replacement-prefix' } } }] },
      { matches: [prefix('/full')], filters: [{ type: 'RequestRedirect', requestRedirect: { path: { type: 'ReplaceFullPath', replaceFullPath: '/full-path-replacement' } } }] },
      { matches: [prefix('/path-and-host')], filters: [{ type: 'RequestRedirect', requestRedirect: { hostname: 'example.org', path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/replacement-prefix' } } }] },
      { matches: [prefix('/path-and-status')], filters: [{ type: 'RequestRedirect', requestRedirect: { statusCode: 301, path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/replacement-prefix' } } }] },
      { matches: [prefix('/full-path-and-host')], filters: [{ type: 'RequestRedirect', requestRedirect: { hostname: 'example.org', path: { type: 'ReplaceFullPath', replaceFullPath: '/replacement-full' } } }] },
      { matches: [prefix('/full-path-and-status')], filters: [{ type: 'RequestRedirect', requestRedirect: { statusCode: 301, path: { type: 'ReplaceFullPath', replaceFullPath: '/replacement-full' } } }] },
      { matches: [prefix('/hostname-redirect')], filters: [{ type: 'RequestRedirect', requestRedirect: { hostname: 'example.org' } }] },
      { matches: [prefix('/host-and-status')], filters: [{ type: 'RequestRedirect', requestRedirect: { hostname: 'example.org', statusCode: 301 } }] },
    ] })],
    requests: (
      [
        ['/original-prefix/lemon', '302 http://gateway.example/replacement-prefix/lemon'],
        ['/full/path/original', '302 http://gateway.example/full-path-replacement'],
        ['/path-and-host', '302 http://example.org/replacement-prefix'],
        ['/path-and-status', '301 http://gateway.example/replacement-prefix'],
        ['/full-path-and-host', '302 http://example.org/replacement-full'],
        ['/full-path-and-status', '301 http://gateway.example/replacement-full'],
        ['/hostname-redirect', '302 http://example.org/hostname-redirect'],
        ['/host-and-status', '301 http://example.org/host-and-status'],
      ] as const
    ).map(([path, want]): [string, Req, Want] => ['same-namespace', { path }, want]),
  },
  {
    name: 'HTTPRouteRedirectPortAndScheme',
    objects: [
      gateway('same-namespace-with-http-listener-on-8080', [http('http', 8080)]),
      ...(
        [
          ['http-route-for-listener-on-port-80', 'same-namespace', [['/scheme-nil-and-port-nil', {}], ['/scheme-nil-and-port-80', { port: 80 }], ['/scheme-nil-and-port-8080', { port: 8080 }], ['/scheme-https-and-port-nil', { scheme: 'https' }], ['/scheme-https-and-port-443', { scheme: 'https', port: 443 }], ['/scheme-https-and-port-8443', { scheme: 'https', port: 8443 }]]],
          ['http-route-for-listener-on-port-8080', 'same-namespace-with-http-listener-on-8080', [['/scheme-nil-and-port-nil', {}], ['/scheme-nil-and-port-80', { port: 80 }], ['/scheme-https-and-port-nil', { scheme: 'https' }]]],
          ['http-route-for-listener-on-port-443', 'same-namespace-with-https-listener', [['/scheme-nil-and-port-nil', {}], ['/scheme-nil-and-port-443', { port: 443 }], ['/scheme-nil-and-port-8443', { port: 8443 }], ['/scheme-http-and-port-nil', { scheme: 'http' }], ['/scheme-http-and-port-80', { scheme: 'http', port: 80 }], ['/scheme-http-and-port-8080', { scheme: 'http', port: 8080 }]]],
        ] as const
      ).map(([name, gw, rules]) => route(name, { parentRefs: [{ name: gw }], rules: rules.map(([p, r]) => ({ matches: [prefix(p)], filters: [{ type: 'RequestRedirect', requestRedirect: { hostname: 'example.org', ...r } }] })) })),
    ],
    requests: [
      ...(
        [
          ['/scheme-nil-and-port-nil', '302 http://example.org/scheme-nil-and-port-nil'],
          ['/scheme-nil-and-port-80', '302 http://example.org/scheme-nil-and-port-80'],
          ['/scheme-nil-and-port-8080', '302 http://example.org:8080/scheme-nil-and-port-8080'],
          ['/scheme-https-and-port-nil', '302 https://example.org/scheme-https-and-port-nil'],
          ['/scheme-https-and-port-443', '302 https://example.org/scheme-https-and-port-443'],
          ['/scheme-https-and-port-8443', '302 https://example.org:8443/scheme-https-and-port-8443'],
        ] as const
      ).map(([path, want]): [string, Req, Want] => ['same-namespace', { path }, want]),
      ...(
        [
          ['/scheme-nil-and-port-nil', '302 http://example.org:8080/scheme-nil-and-port-nil'],
          ['/scheme-nil-and-port-80', '302 http://example.org/scheme-nil-and-port-80'],
          ['/scheme-https-and-port-nil', '302 https://example.org/scheme-https-and-port-nil'],
        ] as const
      ).map(([path, want]): [string, Req, Want] => ['same-namespace-with-http-listener-on-8080', { path, port: 8080 }, want]),
      ...(
        [
          ['/scheme-nil-and-port-nil', '302 https://example.org/scheme-nil-and-port-nil'],
          ['/scheme-nil-and-port-443', '302 https://example.org/scheme-nil-and-port-443'],
          ['/scheme-nil-and-port-8443', '302 https://example.org:8443/scheme-nil-and-port-8443'],
          ['/scheme-http-and-port-nil', '302 http://example.org/scheme-http-and-port-nil'],
          ['/scheme-http-and-port-80', '302 http://example.org/scheme-http-and-port-80'],
          ['/scheme-http-and-port-8080', '302 http://example.org:8080/scheme-http-and-port-8080'],
        ] as const
      ).map(([path, want]): [string, Req, Want] => ['same-namespace-with-https-listener', { path, port: 443, sni: 'example.org', host: 'example.org' }, want]),
    ],
  },
];

for (const c of cases) {
  test(`${c.name}: the gateway routes each conformance request as the test expects`, () => {
    const model = modelOf(c.objects);
    for (const [gw, req, want] of c.requests) assert.equal(outcome(model, gw, req), want, `${gw} ${JSON.stringify(req)}`);
    for (const [r, parent, type, status, reason] of c.conditions ?? []) {
      const got = model.gatewayRouteConditions!.find((x) => x.route === `${r.includes('/') ? r : `${c.objects.find((o) => o.metadata.name === r)?.metadata.namespace ?? INFRA}/${r}`}` && x.parent === parent && x.type === type);
      assert.deepEqual(got && [got.status, got.reason], [status, reason], `${r} on ${parent}: ${type} (${got?.message ?? 'absent'})`);
    }
    for (const [gw, listener, n] of c.attached ?? []) {
      const l = model.gateways!.find((g) => g.name === gw)?.listeners.find((x) => x.name === listener);
      assert.equal(l?.attachedRoutes, n, `${gw}/${listener} attachedRoutes`);
    }
  });
}

test('HTTPRouteRequestHeaderModifier and HTTPRouteRewriteHost / RewritePath: the backend sees the edited request', () => {
  const model = modelOf([
    route('request-header-modifier', { parentRefs: [{ name: 'same-namespace' }], rules: [
      { matches: [prefix('/set')], filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'X-Header-Set', value: 'set-overwrites-values' }] } }], backendRefs: [backend('infra-backend-v1')] },
      { matches: [prefix('/add')], filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { add: [{ name: 'X-Header-Add', value: 'add-appends-values' }] } }], backendRefs: [backend('infra-backend-v1')] },
      { matches: [prefix('/remove')], filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { remove: ['X-Header-Remove'] } }], backendRefs: [backend('infra-backend-v1')] },
    ] }),
    route('rewrite-host', { parentRefs: [{ name: 'same-namespace' }], hostnames: ['rewrite.example'], rules: [
      { matches: [prefix('/one')], filters: [{ type: 'URLRewrite', urlRewrite: { hostname: 'one.example.org' } }], backendRefs: [backend('infra-backend-v1')] },
      { filters: [{ type: 'URLRewrite', urlRewrite: { hostname: 'example.org' } }], backendRefs: [backend('infra-backend-v2')] },
    ] }),
    route('rewrite-path', { parentRefs: [{ name: 'same-namespace' }], hostnames: ['rewrite-path.example'], rules: [
      { matches: [prefix('/prefix/one')], filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/one' } } }], backendRefs: [backend('infra-backend-v1')] },
      { matches: [prefix('/strip-prefix')], filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } } }], backendRefs: [backend('infra-backend-v1')] },
      { matches: [prefix('/full/one')], filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplaceFullPath', replaceFullPath: '/one' } } }], backendRefs: [backend('infra-backend-v1')] },
    ] }),
  ]);
  const res = resourcesOf(model, 'same-namespace');
  const send = (req: SimRequest) => {
    const r = gatewayRequest(res, { port: gatewayBindPort(80) }, req);
    assert.equal(r.kind, 'route', JSON.stringify(req));
    return r.kind === 'route' ? r : undefined;
  };
  assert.deepEqual(send({ host: 'gw', path: '/set', headers: { 'X-Header-Set': 'some-other-value', 'Some-Other-Header': 'val' } })?.headers, { 'x-header-set': ['set-overwrites-values'], 'some-other-header': ['val'] });
  assert.deepEqual(send({ host: 'gw', path: '/add', headers: { 'X-Header-Add': 'some-other-value' } })?.headers['x-header-add'], ['some-other-value', 'add-appends-values']);
  assert.equal(send({ host: 'gw', path: '/remove', headers: { 'X-Header-Remove': 'val' } })?.headers['x-header-remove'], undefined);
  assert.deepEqual([send({ host: 'rewrite.example', path: '/one' })?.host, send({ host: 'rewrite.example', path: '/two' })?.host], ['one.example.org', 'example.org']);
  const paths = [['/prefix/one/two', '/one/two'], ['/strip-prefix/three', '/three'], ['/strip-prefix', '/'], ['/full/one/two', '/one']];
  for (const [from, to] of paths) assert.equal(send({ host: 'rewrite-path.example', path: from! })?.path, to, from);
});

test('HTTPRouteWeight: 70/30/0 as weighted clusters, the zero-weight backend never chosen', () => {
  const model = modelOf([route('weighted-backends', { parentRefs: [{ name: 'same-namespace' }], rules: [{ backendRefs: [backend('infra-backend-v1', { weight: 70 }), backend('infra-backend-v2', { weight: 30 }), backend('infra-backend-v3', { weight: 0 })] }] })]);
  const r = gatewayRequest(resourcesOf(model, 'same-namespace'), { port: gatewayBindPort(80) }, { host: 'gw', path: '/' });
  assert.ok(r.kind === 'route');
  assert.deepEqual(r.upstreams.map((u) => [u.cluster.split('||')[1]!.split('.')[0], u.weight, u.missingStatus]), [['infra-backend-v1', 70, undefined], ['infra-backend-v2', 30, undefined]]);
});

test('gateway resources decode against the Envoy protos with no unknown field, satisfy their validate rules, and the snapshot is consistent', () => {
  const model = modelOf(cases.flatMap((c) => c.objects));
  const seen = new Set<string>();
  for (const gw of model.gateways!) {
    const res = resourcesOf(model, gw.name);
    for (const [typeUrl, byName] of Object.entries(res)) {
      for (const [name, msg] of Object.entries(byName)) {
        // Gateways share clusters and endpoints: each distinct resource is checked once.
        const key = `${typeUrl}|${JSON.stringify(msg)}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const typeName = typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
        assert.deepEqual(strictCheck(typeName, msg), [], `${gw.name} ${name}`);
        assert.deepEqual(validateRules(typeName, msg), [], `${gw.name} ${name}: protoc-gen-validate rules`);
        assert.ok(decodeResource(typeUrl, encodeResource(typeUrl, msg).value), name);
      }
    }
    assert.deepEqual(consistent(makeSnapshot('1', res)), [], gw.name);
  }
});

test('HTTPS listeners: one TLS filter chain per listener, by SNI, with its certificate over SDS; the upstream side is mTLS with the gateway identity', () => {
  const model = modelOf([route('r', { parentRefs: [{ name: 'same-namespace-with-https-listener' }], rules: [{ backendRefs: [backend('infra-backend-v1')] }] })]);
  const res = resourcesOf(model, 'same-namespace-with-https-listener');
  const l = res[TYPE.listener].gateway_443!;
  assert.equal(((l.address as O).socket_address as O).port_value, 8443);
  const chains = l.filter_chains as O[];
  assert.deepEqual(chains.map((c) => [(c.filter_chain_match as O | undefined)?.server_names ?? [], JSON.stringify(c.transport_socket).includes('kubernetes://gateway-conformance-infra/tls-validity-checks-certificate')]), [
    [[], true],
    [['second-example.org'], true],
    [['*.wildcard.org'], true],
    [['fourth-example.wildcard.org'], true],
  ]);
  const upstream = JSON.stringify(res[TYPE.cluster]['outbound|8080||infra-backend-v1.gateway-conformance-infra.svc.cluster.local']);
  assert.match(upstream, /"tls_certificate_sds_secret_configs":\[\{"name":"default"/);
  const gw = model.gateways!.find((g) => g.name === 'same-namespace-with-https-listener')!;
  assert.equal(gw.identity, `spiffe://cluster.local/ns/${INFRA}/sa/same-namespace-with-https-listener-mesh`);
});
