// Table tests of the model: what users rely on when they write Services, Pods, EndpointSlices,
// Namespaces and AuthorizationPolicies. Each row is an input a user could apply and what the mesh
// makes of it. (HTTPRoutes are covered in build.test.ts and test/route.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildModel, policiesFor, portProtocol, reachableServices, updateEndpoints, type MeshModel, type ModelOptions } from '../../src/model/index.ts';
import type { KubeObject } from '../../src/cluster/types.ts';

const ns = (name: string, annotations?: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, ...(annotations ? { annotations } : {}) } });
const service = (namespace: string | undefined, name: string, spec: Record<string, unknown>, annotations?: Record<string, string>): KubeObject => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name, ...(namespace ? { namespace } : {}), ...(annotations ? { annotations } : {}) }, spec,
});
const pod = (namespace: string, name: string, o: { labels?: Record<string, string>; spec?: Record<string, unknown>; ip?: string; annotations?: Record<string, string> } = {}): KubeObject => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, labels: o.labels ?? {}, ...(o.annotations ? { annotations: o.annotations } : {}) },
  spec: { containers: [{ name: 'app' }], ...o.spec }, ...(o.ip ? { status: { podIP: o.ip } } : {}),
});
interface SliceEndpoint { addresses: string[]; conditions?: Record<string, boolean>; pod?: string }
const slice = (namespace: string, name: string, service: string | undefined, endpoints: SliceEndpoint[], ports: { name?: string; port: number }[], addressType = 'IPv4'): KubeObject => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name, namespace, labels: service ? { 'kubernetes.io/service-name': service } : {} },
  addressType, ports,
  endpoints: endpoints.map((e) => ({ addresses: e.addresses, ...(e.conditions ? { conditions: e.conditions } : {}), ...(e.pod ? { targetRef: { kind: 'Pod', name: e.pod, namespace } } : {}) })),
});
const policy = (namespace: string, name: string, spec: Record<string, unknown>, apiVersion = 'mesh.dev/v1alpha1'): KubeObject => ({ apiVersion, kind: 'AuthorizationPolicy', metadata: { name, namespace }, spec });

test('portProtocol: how a Service port is treated, from appProtocol or the port name', () => {
  const rows: [name: string | undefined, appProtocol: string | undefined, want: string][] = [
    // appProtocol first, including the kubernetes.io/ names
    ['web', 'kubernetes.io/h2c', 'http2'], ['web', 'kubernetes.io/http', 'http'], ['web', 'kubernetes.io/wss', 'tls'],
    ['web', 'HTTP', 'http'], ['web', 'h2c', 'http2'], ['web', 'grpc-web', 'grpc'], ['http-web', 'tcp', 'tcp'],
    // an appProtocol we do not know falls back to the name
    ['grpc-api', 'example.com/custom', 'grpc'], ['metrics', 'example.com/custom', 'tcp'],
    // the name prefix before the first dash, case-insensitive
    ['http', undefined, 'http'], ['http-web', undefined, 'http'], ['HTTP-Web', undefined, 'http'], ['http2-x', undefined, 'http2'],
    ['grpc', undefined, 'grpc'], ['https-admin', undefined, 'tls'], ['tls', undefined, 'tls'],
    ['mysql', undefined, 'tcp'], ['redis-cache', undefined, 'tcp'], ['mongo', undefined, 'tcp'],
    // anything else is opaque TCP: always safe to proxy
    ['web', undefined, 'tcp'], ['webhttp', undefined, 'tcp'], ['', undefined, 'tcp'], [undefined, undefined, 'tcp'],
  ];
  for (const [name, app, want] of rows) assert.equal(portProtocol(name, app), want, `name ${name} appProtocol ${app}`);
});

test('Services: ports, target ports, protocols, cluster IP and selector as the mesh sees them', () => {
  type Port = { name: string; port: number; targetPort: number | string; protocol: string };
  const rows: { name: string; spec: Record<string, unknown>; ports?: Port[]; clusterIP?: string; selector?: Record<string, string>; warning?: RegExp; absent?: boolean }[] = [
    { name: 'targetPort defaults to the port', spec: { ports: [{ name: 'http', port: 80 }] }, ports: [{ name: 'http', port: 80, targetPort: 80, protocol: 'http' }] },
    { name: 'numeric and named targetPorts are kept', spec: { ports: [{ name: 'grpc', port: 8080, targetPort: 'grpc-port' }, { name: 'http', port: 80, targetPort: 8000 }] },
      ports: [{ name: 'http', port: 80, targetPort: 8000, protocol: 'http' }, { name: 'grpc', port: 8080, targetPort: 'grpc-port', protocol: 'grpc' }] },
    { name: 'an empty targetPort means the port', spec: { ports: [{ name: 'tcp', port: 5432, targetPort: '' }] }, ports: [{ name: 'tcp', port: 5432, targetPort: 5432, protocol: 'tcp' }] },
    { name: 'ports come sorted by number', spec: { ports: [{ name: 'b', port: 9000 }, { name: 'a', port: 10 }, { name: 'c', port: 443 }] }, ports: [10, 443, 9000].map((p, i) => ({ name: ['a', 'c', 'b'][i]!, port: p, targetPort: p, protocol: 'tcp' })) },
    { name: 'UDP and SCTP ports are not proxied; TCP is', spec: { ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 's', port: 9, protocol: 'SCTP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }] },
      ports: [{ name: 'dns-tcp', port: 53, targetPort: 53, protocol: 'tcp' }] },
    { name: 'appProtocol decides the protocol', spec: { ports: [{ name: 'web', port: 80, appProtocol: 'kubernetes.io/h2c' }] }, ports: [{ name: 'web', port: 80, targetPort: 80, protocol: 'http2' }] },
    { name: 'an unnamed port', spec: { ports: [{ port: 7000 }] }, ports: [{ name: '', port: 7000, targetPort: 7000, protocol: 'tcp' }] },
    { name: 'a port without a number is skipped with a warning', spec: { ports: [{ name: 'http' }, { name: 'grpc', port: 81 }] }, ports: [{ name: 'grpc', port: 81, targetPort: 81, protocol: 'grpc' }], warning: /a port has no number/ },
    { name: 'a cluster IP is kept; headless (None) has none', spec: { clusterIP: 'None', ports: [] }, ports: [], clusterIP: undefined },
    { name: 'the cluster IP', spec: { clusterIP: '10.96.0.10', ports: [] }, ports: [], clusterIP: '10.96.0.10' },
    { name: 'the selector; an empty one is none', spec: { selector: {}, ports: [] }, ports: [], selector: undefined },
    { name: 'a selector', spec: { selector: { app: 'web', tier: 'front' }, ports: [] }, ports: [], selector: { app: 'web', tier: 'front' } },
    { name: 'ExternalName Services are not in the mesh', spec: { type: 'ExternalName', externalName: 'db.example.com', ports: [{ name: 'tcp', port: 5432 }] }, absent: true },
  ];
  for (const row of rows) {
    const m = buildModel([service('shop', 'svc', row.spec)]);
    if (row.absent) {
      assert.deepEqual(m.services, [], row.name);
      continue;
    }
    const s = m.services[0]!;
    assert.deepEqual(s.ports, row.ports, row.name);
    assert.equal(s.clusterIP, row.clusterIP, row.name);
    assert.deepEqual(s.selector, row.selector, row.name);
    if (row.warning) assert.match(m.warnings.map((w) => `${w.object}: ${w.message}`).join('\n'), row.warning, row.name);
    else assert.deepEqual(m.warnings, [], row.name);
  }
});

test('Services: the name users call (FQDN) from namespace and cluster domain', () => {
  const rows: [namespace: string | undefined, opts: ModelOptions, fqdn: string][] = [
    ['shop', {}, 'catalog.shop.svc.cluster.local'],
    [undefined, {}, 'catalog.default.svc.cluster.local'],
    ['shop', { clusterDomain: 'corp.example' }, 'catalog.shop.svc.corp.example'],
  ];
  for (const [namespace, opts, fqdn] of rows) {
    const s = buildModel([service(namespace, 'catalog', { ports: [] })], opts).services[0]!;
    assert.equal(s.fqdn, fqdn);
    assert.equal(s.namespace, namespace ?? 'default');
  }
});

test('workloads: identity from the ServiceAccount and trust domain, and the pod IP', () => {
  const rows: { name: string; spec?: Record<string, unknown>; opts?: ModelOptions; ip?: string; sa: string; identity: string }[] = [
    { name: 'serviceAccountName', spec: { serviceAccountName: 'catalog' }, sa: 'catalog', identity: 'spiffe://cluster.local/ns/shop/sa/catalog' },
    { name: 'the deprecated serviceAccount field', spec: { serviceAccount: 'legacy' }, sa: 'legacy', identity: 'spiffe://cluster.local/ns/shop/sa/legacy' },
    { name: 'serviceAccountName wins over serviceAccount', spec: { serviceAccountName: 'new', serviceAccount: 'old' }, sa: 'new', identity: 'spiffe://cluster.local/ns/shop/sa/new' },
    { name: 'no ServiceAccount: default', sa: 'default', identity: 'spiffe://cluster.local/ns/shop/sa/default' },
    { name: 'another trust domain', spec: { serviceAccountName: 'catalog' }, opts: { trustDomain: 'prod.example.org' }, sa: 'catalog', identity: 'spiffe://prod.example.org/ns/shop/sa/catalog' },
    { name: 'with a pod IP', ip: '10.1.2.3', sa: 'default', identity: 'spiffe://cluster.local/ns/shop/sa/default' },
  ];
  for (const row of rows) {
    const m = buildModel([pod('shop', 'p', { spec: row.spec, ip: row.ip })], row.opts);
    const w = m.workloads[0]!;
    assert.deepEqual([w.serviceAccount, w.identity, w.ip], [row.sa, row.identity, row.ip], row.name);
  }
});

test('workloads: inbound ports are the target ports of the Services that select the pod', () => {
  const containers = [{ name: 'app', ports: [{ name: 'grpc-port', containerPort: 9090 }, { name: 'admin', containerPort: 9901 }] }];
  const rows: { name: string; labels: Record<string, string>; services: KubeObject[]; ports: { port: number; protocol: string; service: string; servicePort?: number }[] }[] = [
    { name: 'numeric targetPort', labels: { app: 'a' }, services: [service('shop', 'a', { selector: { app: 'a' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] })], ports: [{ port: 8080, protocol: 'http', service: 'shop/a', servicePort: 80 }] },
    { name: 'named targetPort resolves to the container port', labels: { app: 'a' }, services: [service('shop', 'a', { selector: { app: 'a' }, ports: [{ name: 'grpc', port: 80, targetPort: 'grpc-port' }] })], ports: [{ port: 9090, protocol: 'grpc', service: 'shop/a', servicePort: 80 }] },
    { name: 'a named targetPort the pod lacks is no port', labels: { app: 'a' }, services: [service('shop', 'a', { selector: { app: 'a' }, ports: [{ name: 'http', port: 80, targetPort: 'nope' }] })], ports: [] },
    { name: 'the selector must be a subset of the labels', labels: { app: 'a', tier: 'x' }, services: [service('shop', 'a', { selector: { app: 'a' }, ports: [{ name: 'http', port: 80 }] }), service('shop', 'b', { selector: { app: 'a', tier: 'y' }, ports: [{ name: 'http', port: 81 }] })], ports: [{ port: 80, protocol: 'http', service: 'shop/a', servicePort: 80 }] },
    { name: 'a Service without a selector selects no pod', labels: { app: 'a' }, services: [service('shop', 'a', { ports: [{ name: 'http', port: 80 }] })], ports: [] },
    { name: 'a Service in another namespace does not select the pod', labels: { app: 'a' }, services: [service('other', 'a', { selector: { app: 'a' }, ports: [{ name: 'http', port: 80 }] })], ports: [] },
    { name: 'two Services on the same target port: listed once, for the first Service', labels: { app: 'a' }, services: [service('shop', 'b', { selector: { app: 'a' }, ports: [{ name: 'tcp', port: 1, targetPort: 8080 }] }), service('shop', 'a', { selector: { app: 'a' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] })], ports: [{ port: 8080, protocol: 'http', service: 'shop/a', servicePort: 80 }] },
    { name: 'ports are sorted', labels: { app: 'a' }, services: [service('shop', 'a', { selector: { app: 'a' }, ports: [{ name: 'http', port: 80, targetPort: 9901 }, { name: 'grpc', port: 81, targetPort: 'grpc-port' }] })], ports: [{ port: 9090, protocol: 'grpc', service: 'shop/a', servicePort: 81 }, { port: 9901, protocol: 'http', service: 'shop/a', servicePort: 80 }] },
  ];
  for (const row of rows) {
    const m = buildModel([pod('shop', 'p', { labels: row.labels, spec: { containers } }), ...row.services]);
    assert.deepEqual(m.workloads[0]!.ports, row.ports, row.name);
  }
});

test('endpoints: what an EndpointSlice contributes to its Service', () => {
  const ports = [{ name: 'http', port: 8080 }];
  const rows: { name: string; slices: KubeObject[]; pods?: KubeObject[]; want: Record<string, { address: string; ready: boolean; ports: Record<string, number>; pod?: string; identity?: string }[]>; warning?: RegExp }[] = [
    { name: 'no ready condition means ready (as Kubernetes reads it)', slices: [slice('shop', 'a-1', 'a', [{ addresses: ['10.0.0.1'] }], ports)], want: { 'shop/a': [{ address: '10.0.0.1', ready: true, ports: { http: 8080 } }] } },
    { name: 'ready false and terminating are not ready', slices: [slice('shop', 'a-1', 'a', [{ addresses: ['10.0.0.1'], conditions: { ready: false } }, { addresses: ['10.0.0.2'], conditions: { ready: true, terminating: true } }], ports)],
      want: { 'shop/a': [{ address: '10.0.0.1', ready: false, ports: { http: 8080 } }, { address: '10.0.0.2', ready: false, ports: { http: 8080 } }] } },
    { name: 'every address of an endpoint', slices: [slice('shop', 'a-1', 'a', [{ addresses: ['10.0.0.2', '10.0.0.1'] }], ports)],
      want: { 'shop/a': [{ address: '10.0.0.1', ready: true, ports: { http: 8080 } }, { address: '10.0.0.2', ready: true, ports: { http: 8080 } }] } },
    { name: 'all slices of a Service are merged and sorted', slices: [slice('shop', 'a-2', 'a', [{ addresses: ['10.0.0.9'] }], ports), slice('shop', 'a-1', 'a', [{ addresses: ['10.0.0.3'] }], ports), slice('shop', 'b-1', 'b', [{ addresses: ['10.0.0.5'] }], ports)],
      want: { 'shop/a': [{ address: '10.0.0.3', ready: true, ports: { http: 8080 } }, { address: '10.0.0.9', ready: true, ports: { http: 8080 } }], 'shop/b': [{ address: '10.0.0.5', ready: true, ports: { http: 8080 } }] } },
    { name: 'ports by name; an unnamed port under ""', slices: [slice('shop', 'a-1', 'a', [{ addresses: ['10.0.0.1'] }], [{ port: 7000 }, { name: 'grpc', port: 9090 }])], want: { 'shop/a': [{ address: '10.0.0.1', ready: true, ports: { '': 7000, grpc: 9090 } }] } },
    { name: 'a known pod gives the endpoint its identity', slices: [slice('shop', 'a-1', 'a', [{ addresses: ['10.0.0.1'], pod: 'a-1' }, { addresses: ['10.0.0.2'], pod: 'a-2' }], ports)],
      pods: [pod('shop', 'a-1', { spec: { serviceAccountName: 'a' } }), pod('shop', 'a-2')],
      want: { 'shop/a': [{ address: '10.0.0.1', ready: true, ports: { http: 8080 }, pod: 'a-1', identity: 'spiffe://cluster.local/ns/shop/sa/a' }, { address: '10.0.0.2', ready: true, ports: { http: 8080 }, pod: 'a-2', identity: 'spiffe://cluster.local/ns/shop/sa/default' }] } },
    { name: 'an unknown pod: the pod name, no identity', slices: [slice('shop', 'a-1', 'a', [{ addresses: ['10.0.0.1'], pod: 'gone' }], ports)], want: { 'shop/a': [{ address: '10.0.0.1', ready: true, ports: { http: 8080 }, pod: 'gone' }] } },
    { name: 'FQDN slices are not read', slices: [slice('shop', 'a-1', 'a', [{ addresses: ['db.example.com'] }], ports, 'FQDN')], want: {} },
    { name: 'a slice without the service-name label is skipped with a warning', slices: [slice('shop', 'orphan', undefined, [{ addresses: ['10.0.0.1'] }], ports)], want: {}, warning: /EndpointSlice shop\/orphan: no kubernetes.io\/service-name label/ },
    { name: 'endpoints of a Service that does not exist (yet) are kept', slices: [slice('shop', 'x-1', 'x', [{ addresses: ['10.0.0.1'] }], ports)], want: { 'shop/x': [{ address: '10.0.0.1', ready: true, ports: { http: 8080 } }] } },
  ];
  for (const row of rows) {
    const m = buildModel([...row.slices, ...(row.pods ?? [])]);
    assert.deepEqual(m.endpoints, row.want, row.name);
    const warnings = m.warnings.map((w) => `${w.object}: ${w.message}`).join('\n');
    if (row.warning) assert.match(warnings, row.warning, row.name);
    else assert.equal(warnings, '', row.name);
    // The same slices in another order give the same endpoints.
    assert.deepEqual(buildModel([...row.slices].reverse().concat(row.pods ?? [])).endpoints, row.want, `${row.name} (reversed)`);
  }
});

test('updateEndpoints equals a full rebuild for every kind of endpoint change', () => {
  const ports = [{ name: 'http', port: 8080 }];
  const base: KubeObject[] = [
    service('shop', 'a', { selector: { app: 'a' }, ports: [{ name: 'http', port: 80 }] }), service('shop', 'b', { selector: { app: 'b' }, ports: [{ name: 'http', port: 80 }] }),
    service('shop', 'c', { selector: { app: 'c' }, ports: [{ name: 'http', port: 80 }] }),
    pod('shop', 'a-1', { labels: { app: 'a' }, spec: { serviceAccountName: 'sa-a' } }),
    slice('shop', 'a-1', 'a', [{ addresses: ['10.0.0.1'], pod: 'a-1' }], ports), slice('shop', 'b-1', 'b', [{ addresses: ['10.0.0.2'] }], ports),
  ];
  const rows: { name: string; slices: Record<string, KubeObject[]>; changed: string[] }[] = [
    { name: 'an endpoint becomes not ready', slices: { 'shop/a': [slice('shop', 'a-1', 'a', [{ addresses: ['10.0.0.1'], pod: 'a-1', conditions: { ready: false } }], ports)] }, changed: ['shop/a'] },
    { name: 'a second slice is added', slices: { 'shop/b': [slice('shop', 'b-1', 'b', [{ addresses: ['10.0.0.2'] }], ports), slice('shop', 'b-2', 'b', [{ addresses: ['10.0.0.3'] }], ports)] }, changed: ['shop/b'] },
    { name: 'a Service gets its first endpoints', slices: { 'shop/c': [slice('shop', 'c-1', 'c', [{ addresses: ['10.0.0.4'] }], ports)] }, changed: ['shop/c'] },
    { name: 'all slices of a Service are deleted', slices: { 'shop/a': [] }, changed: ['shop/a'] },
    { name: 'the port number changes', slices: { 'shop/b': [slice('shop', 'b-1', 'b', [{ addresses: ['10.0.0.2'] }], [{ name: 'http', port: 9090 }])] }, changed: ['shop/b'] },
    { name: 'two Services change at once; a third is resent unchanged', slices: { 'shop/a': [], 'shop/c': [slice('shop', 'c-1', 'c', [{ addresses: ['10.0.0.4'] }], ports)], 'shop/b': [slice('shop', 'b-1', 'b', [{ addresses: ['10.0.0.2'] }], ports)] }, changed: ['shop/a', 'shop/c'] },
  ];
  const model = buildModel(base);
  const podOf = (namespace: string, name: string) => base.find((o) => o.kind === 'Pod' && o.metadata.namespace === namespace && o.metadata.name === name);
  for (const row of rows) {
    const changedServices = new Set(Object.keys(row.slices));
    const after = [...base.filter((o) => o.kind !== 'EndpointSlice' || !changedServices.has(`shop/${o.metadata.labels!['kubernetes.io/service-name']}`)), ...Object.values(row.slices).flat()];
    const r = updateEndpoints(model, new Map(Object.entries(row.slices)), podOf);
    assert.deepEqual(r.changed, row.changed, row.name);
    assert.deepEqual(r.model, buildModel(after), row.name);
    assert.deepEqual(Object.keys(r.model.endpoints), Object.keys(buildModel(after).endpoints), `${row.name}: keys stay sorted`);
  }
});

test('mTLS mode: the pod annotation, else its namespace, else the mesh default', () => {
  const rows: { name: string; nsAnnotation?: string; podAnnotation?: string; opts?: ModelOptions; namespaceObject?: boolean; want: string }[] = [
    { name: 'default is PERMISSIVE', want: 'PERMISSIVE' },
    { name: 'namespace STRICT', nsAnnotation: 'STRICT', want: 'STRICT' },
    { name: 'namespace value is case-insensitive', nsAnnotation: 'strict', want: 'STRICT' },
    { name: 'namespace DISABLE', nsAnnotation: 'DISABLE', want: 'DISABLE' },
    { name: 'an unknown namespace value falls back to the default', nsAnnotation: 'on', want: 'PERMISSIVE' },
    { name: 'the pod annotation overrides the namespace', nsAnnotation: 'STRICT', podAnnotation: 'permissive', want: 'PERMISSIVE' },
    { name: 'an unknown pod value falls back to the namespace', nsAnnotation: 'STRICT', podAnnotation: 'yes', want: 'STRICT' },
    { name: 'a mesh-wide default', opts: { defaultMtls: 'STRICT' }, want: 'STRICT' },
    { name: 'the namespace annotation overrides the mesh default', opts: { defaultMtls: 'STRICT' }, nsAnnotation: 'PERMISSIVE', want: 'PERMISSIVE' },
    { name: 'no Namespace object (files often omit it): the mesh default', namespaceObject: false, opts: { defaultMtls: 'DISABLE' }, want: 'DISABLE' },
  ];
  for (const row of rows) {
    const objects = [pod('shop', 'p', { annotations: row.podAnnotation ? { 'mesh.dev/mtls': row.podAnnotation } : undefined })];
    if (row.namespaceObject !== false) objects.push(ns('shop', row.nsAnnotation ? { 'mesh.dev/mtls': row.nsAnnotation } : undefined));
    const m = buildModel(objects, row.opts);
    assert.equal(m.workloads[0]!.mtls, row.want, row.name);
    if (!row.podAnnotation) assert.equal(m.namespaces.find((n) => n.name === 'shop')!.mtls, row.want, `${row.name} (namespace)`);
  }
});

test('authorization policies: which workloads a policy applies to', () => {
  const workloads = [
    pod('shop', 'web', { labels: { app: 'web', tier: 'front' } }),
    pod('shop', 'api', { labels: { app: 'api' } }),
    pod('pay', 'web', { labels: { app: 'web' } }),
  ];
  const rows: { name: string; policy: KubeObject; applies: string[] }[] = [
    { name: 'no selector: every workload of its namespace', policy: policy('shop', 'p', { action: 'DENY', rules: [{}] }), applies: ['shop/api', 'shop/web'] },
    { name: 'empty matchLabels: every workload of its namespace', policy: policy('shop', 'p', { selector: { matchLabels: {} } }), applies: ['shop/api', 'shop/web'] },
    { name: 'matchLabels select by label', policy: policy('shop', 'p', { selector: { matchLabels: { app: 'web' } } }), applies: ['shop/web'] },
    { name: 'every label must match', policy: policy('shop', 'p', { selector: { matchLabels: { app: 'web', tier: 'back' } } }), applies: [] },
    { name: 'never a workload of another namespace', policy: policy('pay', 'p', {}), applies: ['pay/web'] },
    { name: 'a policy of another API group is not ours', policy: policy('shop', 'p', {}, 'security.istio.io/v1'), applies: [] },
    { name: 'an unknown action is skipped', policy: policy('shop', 'p', { action: 'AUDIT' }), applies: [] },
  ];
  for (const row of rows) {
    const m = buildModel([...workloads, row.policy]);
    const applies = m.workloads.filter((w) => policiesFor(m, w).some((p) => p.name === 'p')).map((w) => `${w.namespace}/${w.name}`);
    assert.deepEqual(applies, row.applies, row.name);
  }
});

test('authorization policies: action and rules as written', () => {
  const rows: { name: string; spec: Record<string, unknown>; action: string; rules: unknown[]; warnings?: string[] }[] = [
    { name: 'action defaults to ALLOW; no rules', spec: {}, action: 'ALLOW', rules: [] },
    { name: 'an empty rule matches everything', spec: { action: 'DENY', rules: [{}] }, action: 'DENY', rules: [{ from: [], to: [] }] },
    { name: 'from.source and to.operation (Istio style)', spec: { rules: [{ from: [{ source: { principals: ['spiffe://cluster.local/ns/shop/sa/web'], namespaces: ['shop'] } }], to: [{ operation: { ports: ['8080', 9090], methods: ['GET'], paths: ['/api/*'] } }] }] },
      action: 'ALLOW', rules: [{ from: [{ principals: ['spiffe://cluster.local/ns/shop/sa/web'], namespaces: ['shop'] }], to: [{ ports: [8080, 9090], methods: ['GET'], paths: ['/api/*'] }] }] },
    { name: 'from and to without the wrappers', spec: { rules: [{ from: [{ namespaces: ['web'] }], to: [{ methods: ['POST'] }] }] }, action: 'ALLOW', rules: [{ from: [{ principals: [], namespaces: ['web'] }], to: [{ ports: [], methods: ['POST'], paths: [] }] }] },
    { name: 'ports that are not whole numbers are dropped, and named; non-strings ignored', spec: { rules: [{ to: [{ operation: { ports: ['http', 80.5, '443'], methods: ['GET', 7] } }] }] }, action: 'ALLOW', rules: [{ from: [], to: [{ ports: [443], methods: ['GET'], paths: [] }] }], warnings: ['ports ["http",80.5] are not ports from 1 to 65535; ignored'] },
  ];
  for (const row of rows) {
    const m = buildModel([policy('shop', 'p', row.spec)]);
    assert.deepEqual(m.warnings.map((w) => w.message), row.warnings ?? [], row.name);
    assert.deepEqual([m.authz[0]!.action, m.authz[0]!.rules], [row.action, row.rules], row.name);
  }
});

test('reachableServices: which Services a proxy in a namespace is told about', () => {
  const services = [service('shop', 'catalog', { ports: [] }), service('pay', 'billing', { ports: [] }), service('web', 'front', { ports: [] }), service('ops', 'grafana', { ports: [] })];
  const rows: { name: string; annotation?: string; from: string | undefined; want: string[] }[] = [
    { name: 'no annotation: the whole mesh', from: 'web', want: ['ops/grafana', 'pay/billing', 'shop/catalog', 'web/front'] },
    { name: 'unknown or no namespace: the whole mesh', from: undefined, annotation: 'shop', want: ['ops/grafana', 'pay/billing', 'shop/catalog', 'web/front'] },
    { name: 'the listed namespaces plus its own', from: 'web', annotation: 'shop,pay', want: ['pay/billing', 'shop/catalog', 'web/front'] },
    { name: 'spaces and empty items are ignored', from: 'web', annotation: ' shop , ,', want: ['shop/catalog', 'web/front'] },
    { name: 'an empty list: its own namespace only', from: 'web', annotation: '', want: ['web/front'] },
    { name: 'another namespace is not limited by this one', from: 'ops', annotation: 'shop', want: ['ops/grafana', 'pay/billing', 'shop/catalog', 'web/front'] },
  ];
  for (const row of rows) {
    const m: MeshModel = buildModel([...services, ns('web', row.annotation === undefined ? undefined : { 'mesh.dev/reachable-namespaces': row.annotation })]);
    assert.deepEqual(reachableServices(m, row.from).map((s) => `${s.namespace}/${s.name}`), row.want, row.name);
  }
});
