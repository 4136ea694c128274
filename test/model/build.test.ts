import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildModel, portProtocol, reachableServices, policiesFor, updateEndpoints } from '../../src/model/index.ts';
import type { KubeObject } from '../../src/cluster/types.ts';

const svc = (ns: string, name: string, ports: Record<string, unknown>[], extra: Record<string, unknown> = {}, annotations?: Record<string, string>): KubeObject => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns, ...(annotations ? { annotations } : {}) },
  spec: { clusterIP: '10.0.0.1', selector: { app: name }, ports, ...extra },
});
const slice = (ns: string, service: string, eps: { ip: string; ready?: boolean; pod?: string }[], ports: { name: string; port: number }[]): KubeObject => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: `${service}-abc`, namespace: ns, labels: { 'kubernetes.io/service-name': service } },
  addressType: 'IPv4', ports,
  endpoints: eps.map((e) => ({ addresses: [e.ip], conditions: e.ready === undefined ? {} : { ready: e.ready }, ...(e.pod ? { targetRef: { kind: 'Pod', name: e.pod, namespace: ns } } : {}) })),
});
const pod = (ns: string, name: string, labels: Record<string, string>, sa?: string, annotations?: Record<string, string>): KubeObject => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, labels, ...(annotations ? { annotations } : {}) },
  spec: { ...(sa ? { serviceAccountName: sa } : {}), containers: [{ name: 'app', ports: [{ name: 'web', containerPort: 9090 }] }] },
  status: { podIP: '10.1.0.5' },
});

test('portProtocol: appProtocol wins, then the name prefix, else tcp', () => {
  const cases: [string | undefined, string | undefined, string][] = [
    ['http-web', undefined, 'http'], ['grpc', undefined, 'grpc'], ['grpc-api', undefined, 'grpc'], ['tcp-db', undefined, 'tcp'],
    ['web', 'kubernetes.io/h2c', 'http2'], ['http', 'grpc', 'grpc'], ['metrics', undefined, 'tcp'], [undefined, undefined, 'tcp'], ['https', undefined, 'tls'],
  ];
  for (const [name, app, want] of cases) assert.equal(portProtocol(name, app), want, `${name}/${app}`);
});

test('buildModel: route durations read the one grammar; bad ones are warnings naming the field, and ignored', () => {
  // [timeouts.request, retry annotation perTryTimeout, want timeoutMs, want perTryTimeoutMs, warning]
  const cases: [unknown, unknown, number | undefined, number | undefined, RegExp | undefined][] = [
    ['10s', '250ms', 10_000, 250, undefined],
    ['1m30s', '1.5s', 90_000, 1500, undefined],
    ['0s', undefined, 0, undefined, undefined],
    ['10', undefined, undefined, undefined, /^timeouts\.request 10: add a unit, e.g\. 10s or 10m; ignored$/],
    ['1.5s', undefined, undefined, undefined, /^timeouts\.request "1\.5s" is not a Gateway API duration; ignored$/],
    ['abc', undefined, undefined, undefined, /^timeouts\.request "abc" is not a duration; ignored$/],
    [undefined, 500, undefined, undefined, /^retry perTryTimeout 500 is not a duration string: add a unit, e\.g\. "500ms" or "500s"; ignored$/],
    [undefined, '2', undefined, undefined, /^retry perTryTimeout 2: add a unit/],
  ];
  for (const [request, perTry, timeoutMs, perTryMs, warning] of cases) {
    const route: KubeObject = {
      apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute',
      metadata: { name: 'r', namespace: 'shop', annotations: { 'mesh.dev/retry': JSON.stringify(perTry === undefined ? {} : { perTryTimeout: perTry }) } },
      spec: { parentRefs: [{ kind: 'Service', name: 'a' }], rules: [{ backendRefs: [{ name: 'a', port: 80 }], ...(request === undefined ? {} : { timeouts: { request } }) }] },
    };
    const m = buildModel([svc('shop', 'a', [{ name: 'http', port: 80 }]), route]);
    const rule = m.routes[0]!.rules[0]!;
    const label = JSON.stringify([request, perTry]);
    assert.equal(rule.timeoutMs, timeoutMs, label);
    assert.equal(rule.retry!.perTryTimeoutMs, perTryMs, label);
    if (warning) assert.match(m.warnings.map((w) => w.message).join('\n'), warning, label);
    else assert.deepEqual(m.warnings, [], label);
  }
});

test('buildModel: services, ports, endpoints with readiness and identities', () => {
  const m = buildModel([
    svc('shop', 'catalog', [{ name: 'grpc', port: 8080, targetPort: 'web' }, { name: 'tcp-db', port: 5432 }, { name: 'dns', port: 53, protocol: 'UDP' }]),
    slice('shop', 'catalog', [{ ip: '10.1.0.6', ready: false }, { ip: '10.1.0.5', pod: 'catalog-1' }], [{ name: 'grpc', port: 9090 }]),
    pod('shop', 'catalog-1', { app: 'catalog' }, 'catalog-sa'),
  ], { trustDomain: 'example.org' });
  assert.equal(m.services.length, 1);
  const s = m.services[0]!;
  assert.equal(s.fqdn, 'catalog.shop.svc.cluster.local');
  assert.deepEqual(s.ports.map((p) => [p.port, p.protocol]), [[5432, 'tcp'], [8080, 'grpc']], 'UDP ports are not proxied');
  const eps = m.endpoints['shop/catalog']!;
  assert.deepEqual(eps.map((e) => [e.address, e.ready, e.ports.grpc]), [['10.1.0.5', true, 9090], ['10.1.0.6', false, 9090]]);
  assert.equal(eps[0]!.identity, 'spiffe://example.org/ns/shop/sa/catalog-sa');
  const w = m.workloads[0]!;
  assert.equal(w.identity, 'spiffe://example.org/ns/shop/sa/catalog-sa');
  assert.deepEqual(w.ports, [{ port: 5432, protocol: 'tcp', service: 'shop/catalog', servicePort: 5432 }, { port: 9090, protocol: 'grpc', service: 'shop/catalog', servicePort: 8080 }], 'named targetPort resolves to the container port');
});

test('buildModel: is deterministic whatever the input order', () => {
  const objs = [svc('b', 'x', [{ name: 'http', port: 80 }]), svc('a', 'y', [{ name: 'http', port: 80 }]), svc('a', 'x', [{ name: 'http', port: 80 }])];
  const m1 = buildModel(objs);
  const m2 = buildModel([...objs].reverse());
  assert.deepEqual(m1, m2);
  assert.deepEqual(m1.services.map((s) => `${s.namespace}/${s.name}`), ['a/x', 'a/y', 'b/x']);
});

test('buildModel: HTTPRoute attached to a Service with matches, weights, timeouts, retry and fault', () => {
  const route: KubeObject = {
    apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute',
    metadata: { name: 'catalog', namespace: 'shop', annotations: { 'mesh.dev/retry': '{"attempts":3,"retryOn":"unavailable","perTryTimeout":"200ms"}', 'mesh.dev/fault': '{"abort":{"percent":20,"grpcStatus":14}}' } },
    spec: {
      parentRefs: [{ group: '', kind: 'Service', name: 'catalog', port: 8080 }, { kind: 'Gateway', name: 'ignored' }],
      rules: [
        { matches: [{ headers: [{ name: 'X-Canary', value: 'true' }] }], backendRefs: [{ name: 'catalog-v2', port: 8080 }] },
        { matches: [{ path: { type: 'PathPrefix', value: '/shop.Catalog/' } }], timeouts: { request: '2s', backendRequest: '500ms' },
          backendRefs: [{ name: 'catalog', port: 8080, weight: 90 }, { name: 'catalog-v2', port: 8080, weight: 10 }, { name: 'missing', port: 1 }] },
        { retry: { attempts: 5, codes: [503] }, backendRefs: [{ name: 'catalog' }],
          filters: [
            { type: 'RequestMirror', requestMirror: { backendRef: { name: 'catalog-v2', port: 8080 }, fraction: { numerator: 1, denominator: 8 } } },
            { type: 'RequestMirror', requestMirror: { backendRef: { name: 'nowhere', port: 80 } } },
          ] },
      ],
    },
  };
  const m = buildModel([svc('shop', 'catalog', [{ name: 'grpc', port: 8080 }]), svc('shop', 'catalog-v2', [{ name: 'grpc', port: 8080 }]), route]);
  assert.equal(m.routes.length, 1);
  const r = m.routes[0]!;
  assert.equal(r.parent, 'shop/catalog');
  assert.equal(r.port, 8080);
  assert.deepEqual(r.rules[0]!.matches, [{ headers: [{ name: 'x-canary', type: 'Exact', value: 'true' }], query: [] }]);
  // A backend that does not resolve keeps its share, which gets HTTP 500 (the spec), instead of
  // silently sending it to the others.
  assert.deepEqual(r.rules[1]!.backends, [
    { service: 'shop/catalog', port: 8080, weight: 90 },
    { service: 'shop/catalog-v2', port: 8080, weight: 10 },
    { service: 'shop/missing', port: 1, weight: 1, unresolved: { reason: 'BackendNotFound', message: 'backendRef Service shop/missing does not exist' } },
  ]);
  assert.equal(r.rules[1]!.timeoutMs, 2000);
  assert.equal(r.rules[1]!.backendTimeoutMs, 500);
  assert.deepEqual(r.rules[0]!.retry, { attempts: 3, perTryTimeoutMs: 200, backoffMs: undefined, retryOn: ['unavailable'], codes: [] });
  assert.equal(r.rules[2]!.retry!.attempts, 5, 'rule.retry overrides the annotation');
  assert.deepEqual(r.rules[2]!.retry!.codes, [503]);
  assert.deepEqual(r.rules[2]!.backends[0]!.unresolved?.reason, 'BackendNotFound', 'a Service backendRef without port is refused, as by the official CRD');
  assert.deepEqual(r.rules[0]!.fault, { abort: { percent: 20, httpStatus: undefined, grpcStatus: 14 } });
  assert.ok(m.warnings.some((w) => w.message.includes('shop/missing')));
  assert.deepEqual(r.rules[2]!.mirrors, [{ service: 'shop/catalog-v2', port: 8080, percent: 12.5 }], 'RequestMirror with a fraction');
  assert.equal(r.rules[1]!.mirrors, undefined);
  assert.ok(m.warnings.some((w) => w.message.includes('RequestMirror backendRef Service shop/nowhere does not exist; the mirror is dropped')));
  assert.deepEqual(m.routeConditions.filter((c) => c.type === 'ResolvedRefs').map((c) => [c.status, c.reason]), [['False', 'BackendNotFound']]);
});

test('buildModel: bad annotations and unknown parents are warnings, not errors', () => {
  const m = buildModel([
    svc('shop', 'a', [{ name: 'http', port: 80 }], {}, { 'mesh.dev/outlier-detection': 'not json' }),
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'r', namespace: 'shop' }, spec: { parentRefs: [{ kind: 'Service', name: 'nope' }], rules: [] } },
    { apiVersion: 'mesh.dev/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name: 'p', namespace: 'shop' }, spec: { action: 'AUDIT' } },
  ]);
  assert.equal(m.services[0]!.outlier, undefined);
  assert.equal(m.routes.length, 0);
  assert.equal(m.authz.length, 0);
  assert.deepEqual(m.warnings.map((w) => w.object), ['Service shop/a', 'HTTPRoute shop/r', 'AuthorizationPolicy shop/p']);
});

test('buildModel: service traffic policy annotations', () => {
  const m = buildModel([svc('shop', 'a', [{ name: 'http', port: 80 }], {}, {
    'mesh.dev/outlier-detection': '{"interval":"1s","baseEjectionTime":"30s","maxEjectionPercent":50,"failurePercentageThreshold":50}',
    'mesh.dev/circuit-breaker': '{"maxRequests":100}',
  })]);
  assert.equal(m.services[0]!.outlier!.intervalMs, 1000);
  assert.equal(m.services[0]!.outlier!.failurePercentageThreshold, 50);
  assert.equal(m.services[0]!.circuitBreaker!.maxRequests, 100);
});

test('buildModel: mTLS mode from namespace, overridden per pod; authorization policies select workloads', () => {
  const m = buildModel([
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', annotations: { 'mesh.dev/mtls': 'STRICT' } } },
    pod('shop', 'a', { app: 'a' }),
    pod('shop', 'b', { app: 'b' }, undefined, { 'mesh.dev/mtls': 'permissive' }),
    pod('other', 'c', { app: 'a' }),
    { apiVersion: 'mesh.dev/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name: 'allow-a', namespace: 'shop' },
      spec: { selector: { matchLabels: { app: 'a' } }, action: 'ALLOW', rules: [{ from: [{ source: { namespaces: ['web'] } }], to: [{ operation: { ports: ['8080'], methods: ['GET'] } }] }] } },
    { apiVersion: 'mesh.dev/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name: 'deny-all', namespace: 'shop' }, spec: { action: 'DENY', rules: [{}] } },
  ]);
  const [a, b] = m.workloads.filter((w) => w.namespace === 'shop');
  assert.equal(a!.mtls, 'STRICT');
  assert.equal(b!.mtls, 'PERMISSIVE');
  assert.equal(m.workloads.find((w) => w.namespace === 'other')!.mtls, 'PERMISSIVE', 'default mode');
  assert.deepEqual(policiesFor(m, a!).map((p) => p.name), ['allow-a', 'deny-all']);
  assert.deepEqual(policiesFor(m, b!).map((p) => p.name), ['deny-all']);
  assert.deepEqual(m.authz[0]!.rules[0], { from: [{ principals: [], namespaces: ['web'] }], to: [{ ports: [8080], methods: ['GET'], paths: [] }] });
});

test('reachableServices: mesh-wide by default, scoped by the namespace annotation plus route backends', () => {
  const objs: KubeObject[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'web', annotations: { 'mesh.dev/reachable-namespaces': 'shop' } } },
    svc('shop', 'catalog', [{ name: 'http', port: 80 }]), svc('shop', 'catalog-v2', [{ name: 'http', port: 80 }]),
    svc('pay', 'billing', [{ name: 'http', port: 80 }]), svc('web', 'front', [{ name: 'http', port: 80 }]),
  ];
  const m = buildModel(objs);
  assert.equal(reachableServices(m, 'pay').length, 4);
  assert.equal(reachableServices(m, undefined).length, 4);
  assert.deepEqual(reachableServices(m, 'web').map((s) => s.name), ['catalog', 'catalog-v2', 'front']);
});

test('updateEndpoints: only the changed services get new lists; everything else is shared; no change returns the same model', () => {
  const ports = [{ name: 'grpc', port: 9090 }];
  const objs = [svc('shop', 'a', [{ name: 'grpc', port: 8080 }]), svc('shop', 'b', [{ name: 'grpc', port: 8080 }]), pod('shop', 'pa', { app: 'a' }, 'front'), slice('shop', 'a', [{ ip: '10.1.0.1' }], ports), slice('shop', 'b', [{ ip: '10.1.0.2' }], ports)];
  const model = buildModel(objs);
  const lookup = (ns: string, name: string): KubeObject | undefined => objs.find((o) => o.kind === 'Pod' && o.metadata.namespace === ns && o.metadata.name === name);
  const same = updateEndpoints(model, new Map([['shop/a', [slice('shop', 'a', [{ ip: '10.1.0.1' }], ports)]]]), lookup);
  assert.equal(same.model, model);
  assert.deepEqual(same.changed, []);
  const moved = slice('shop', 'a', [{ ip: '10.1.0.3', pod: 'pa' }, { ip: '10.1.0.1', ready: false }], ports);
  const { model: next, changed } = updateEndpoints(model, new Map([['shop/a', [moved]], ['shop/b', [slice('shop', 'b', [{ ip: '10.1.0.2' }], ports)]]]), lookup);
  assert.deepEqual(changed, ['shop/a']);
  assert.equal(next.services, model.services);
  assert.equal(next.endpoints['shop/b'], model.endpoints['shop/b']);
  assert.deepEqual(next, buildModel(objs.map((o) => (o.kind === 'EndpointSlice' && o.metadata.labels?.['kubernetes.io/service-name'] === 'a' ? moved : o))));
  assert.equal(next.endpoints['shop/a']![1]!.identity, 'spiffe://cluster.local/ns/shop/sa/front');
  const gone = updateEndpoints(next, new Map([['shop/a', []]]), lookup);
  assert.deepEqual(Object.keys(gone.model.endpoints), ['shop/b'], 'a service whose slices are all deleted has no endpoint list');
});
