import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { buildModel } from '../../src/model/index.ts';
import { proxylessResources, sidecarResources, rbacConfig } from '../../src/xds/translate.ts';
import { TYPE } from '../../src/xds/protos.ts';
import type { KubeObject } from '../../src/cluster/types.ts';

const objects = parseAllDocuments(readFileSync(new URL('../fixtures/xds/shop.yaml', import.meta.url), 'utf8')).map((d) => d.toJS() as KubeObject);
const model = buildModel(objects);

test('proxyless: API listener per gRPC/HTTP port, routes from the HTTPRoute in order, weighted clusters, timeouts, retries, faults', () => {
  const res = proxylessResources(model, { id: 'x', kind: 'grpc', namespace: 'web' });
  assert.deepEqual(Object.keys(res[TYPE.listener]).sort(), ['catalog-v2.shop.svc.cluster.local:8080', 'catalog.shop.svc.cluster.local:8080'], 'web reaches shop only; tcp ports get no API listener');
  const rc = res[TYPE.route]['catalog.shop.svc.cluster.local:8080'] as any;
  const routes = rc.virtual_hosts[0].routes;
  assert.deepEqual(routes[0].match, { path: '/shop.Catalog/Get' }, 'exact path first');
  const canary = routes.find((r: any) => r.match.headers?.some((h: any) => h.name === 'x-canary'));
  assert.equal(canary.route.cluster, 'outbound|8080||catalog-v2.shop.svc.cluster.local');
  assert.deepEqual(canary.match.headers.map((h: any) => h.name), ['x-canary', ':method']);
  const weighted = routes.at(-1).route;
  assert.deepEqual(weighted.weighted_clusters.clusters, [
    { name: 'outbound|8080||catalog.shop.svc.cluster.local', weight: { value: 90 } },
    { name: 'outbound|8080||catalog-v2.shop.svc.cluster.local', weight: { value: 10 } },
  ]);
  assert.deepEqual(weighted.max_stream_duration, { max_stream_duration: { seconds: 2, nanos: 0 } });
  assert.equal(weighted.retry_policy.num_retries.value, 3);
  assert.match(weighted.retry_policy.retry_on, /retriable-status-codes/);
  assert.deepEqual(weighted.retry_policy.per_try_timeout, { seconds: 0, nanos: 300_000_000 });
  assert.deepEqual(routes.at(-1).typed_per_filter_config['envoy.filters.http.fault'].abort, { percentage: { numerator: 5000, denominator: 'MILLION' }, grpc_status: 14 });
  const cluster = res[TYPE.cluster]['outbound|8080||catalog.shop.svc.cluster.local'] as any;
  assert.equal(cluster.outlier_detection.failure_percentage_threshold.value, 50);
  assert.equal(cluster.circuit_breakers.thresholds[0].max_requests.value, 1000);
  const cla = res[TYPE.endpoint]['outbound|8080||catalog.shop.svc.cluster.local'] as any;
  assert.deepEqual(cla.endpoints[0].lb_endpoints.map((e: any) => [e.endpoint.address.socket_address.address, e.endpoint.address.socket_address.port_value, e.health_status]), [['10.1.0.5', 9090, 'HEALTHY'], ['10.1.0.6', 9090, 'UNHEALTHY']]);
  assert.ok(!Object.keys(res[TYPE.cluster]).some((n) => n.includes('billing')), 'scoped out');
  assert.ok(Object.keys(proxylessResources(model, { id: 'y', kind: 'grpc', namespace: 'pay' })[TYPE.cluster]).some((n) => n.includes('billing')), 'mesh-wide default');
});

test('sidecar: outbound capture with a chain per service port, inbound mTLS per mode with RBAC', () => {
  const res = sidecarResources(model, { id: 's', kind: 'sidecar', namespace: 'shop', pod: 'catalog-1' });
  const out = res[TYPE.listener].outbound as any;
  assert.equal(out.address.socket_address.port_value, 15001);
  assert.deepEqual(out.use_original_dst, { value: true });
  const db = out.filter_chains.find((c: any) => c.filter_chain_match.destination_port.value === 5432);
  assert.equal(db.filters[0].name, 'envoy.filters.network.tcp_proxy');
  const inbound = res[TYPE.listener].inbound as any;
  assert.deepEqual(inbound.filter_chains.map((c: any) => c.filter_chain_match.transport_protocol), ['tls', 'tls'], 'STRICT: TLS chains only');
  assert.deepEqual(inbound.listener_filters.map((f: any) => f.name), ['envoy.filters.listener.original_dst', 'envoy.filters.listener.tls_inspector']);
  const grpcChain = inbound.filter_chains.find((c: any) => c.filter_chain_match.destination_port.value === 9090);
  const filters = grpcChain.filters[0].typed_config.http_filters.map((f: any) => f.name);
  assert.deepEqual(filters, ['envoy.filters.http.rbac.deny', 'envoy.filters.http.rbac.allow', 'envoy.filters.http.fault', 'envoy.filters.http.local_ratelimit', 'envoy.filters.http.router'], 'the rate limit runs after RBAC: denied requests spend no tokens');
  // RequestMirror (mesh route --mirror): Envoy copies 25 % of that rule's requests to catalog-v2.
  const routes = Object.values(res[TYPE.route]).flatMap((rc: any) => rc.virtual_hosts.flatMap((vh: any) => vh.routes));
  const mirrored = routes.filter((r: any) => r.route?.request_mirror_policies);
  assert.ok(mirrored.length > 0, 'the mirrored rule has a mirror policy');
  assert.deepEqual(mirrored[0].route.request_mirror_policies, [{ cluster: 'outbound|8080||catalog-v2.shop.svc.cluster.local', runtime_fraction: { default_value: { numerator: 250_000, denominator: 'MILLION' } } }]);
  assert.ok(routes.some((r: any) => r.route && !r.route.request_mirror_policies), 'other rules are not mirrored');
  const front = sidecarResources(model, { id: 'f', kind: 'sidecar', namespace: 'web', pod: 'front-1' });
  assert.equal((front[TYPE.listener].inbound as any).filter_chains.length, 0, 'no service selects front-1');
});

test('rbacConfig: principals, namespaces, ports, methods, paths; HTTP-only fields on TCP ports', () => {
  const pols = model.authz;
  const allow = rbacConfig('cluster.local', pols, 'ALLOW', true) as any;
  const p = allow.policies['shop.allow-web.0'];
  assert.deepEqual(p.principals.map((x: any) => x.authenticated.principal_name), [
    { exact: 'spiffe://cluster.local/ns/ops/sa/admin' },
    { prefix: 'spiffe://cluster.local/ns/web/' },
  ]);
  assert.equal(p.permissions[0].and_rules.rules.length, 3);
  const tcpAllow = rbacConfig('cluster.local', pols, 'ALLOW', false) as any;
  assert.deepEqual(Object.keys(tcpAllow.policies), ['shop.allow-web.1'], 'an ALLOW on methods/paths never matches on a TCP port');
  const deny = rbacConfig('cluster.local', pols, 'DENY', true) as any;
  assert.deepEqual(deny.policies['shop.deny-debug.0'].permissions[0].or_rules.rules.map((r: any) => r.url_path.path), [{ prefix: '/debug' }, { suffix: '.internal' }]);
  assert.equal(rbacConfig('cluster.local', [], 'DENY', true), undefined);
});

test('config_dump redaction: key material never leaves the controller', async () => {
  const { redact } = await import('../../src/controller/controlplane.ts');
  const secret = { name: 'default', tls_certificate: { certificate_chain: { inline_string: 'CERT' }, private_key: { inline_string: 'KEY' }, password: { inline_string: 'PW' } } };
  const out = redact(secret) as any;
  assert.doesNotMatch(JSON.stringify(out), /KEY|PW/);
  assert.equal(out.tls_certificate.private_key, '[redacted]');
  assert.equal(out.tls_certificate.certificate_chain.inline_string, 'CERT', 'certificates are public: proxy-config secret shows them');
  assert.deepEqual(redact({ a: [1, { b: 'x' }] }), { a: [1, { b: 'x' }] });
});
