import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { buildModel } from '../../src/model/index.ts';
import { proxylessResources, sidecarResources, EMBEDDED_TYPES, type Msg, type Resources } from '../../src/xds/translate.ts';
import { TYPE } from '../../src/xds/protos.ts';
import { decodeResource, encodeResource, strictCheck, valid } from '../../src/xds/encode.ts';
import { messageType } from '../../src/xds/protos.ts';
import { EncodeMemo } from '../../src/xds/snapshot.ts';
import { secretMessages } from '../../src/xds/secrets.ts';
import type { KubeObject } from '../../src/cluster/types.ts';
import { validateRules } from '../support/pgv.ts';

const objects = parseAllDocuments(readFileSync(new URL('../fixtures/xds/shop.yaml', import.meta.url), 'utf8')).map((d) => d.toJS() as KubeObject);
const model = buildModel(objects);

/** Every non-default leaf of `input` is in `output` at the same path (numbers may come back as strings). */
function lossless(input: unknown, output: unknown, path: string): string[] {
  if (Array.isArray(input)) {
    if (!input.length) return [];
    if (!Array.isArray(output) || output.length !== input.length) return [`${path}: list changed`];
    return input.flatMap((v, i) => lossless(v, output[i], `${path}[${i}]`));
  }
  if (typeof input === 'object' && input !== null) {
    if (typeof output !== 'object' || output === null) return [`${path}: message lost`];
    return Object.entries(input).flatMap(([k, v]) => {
      const out = (output as Record<string, unknown>)[k];
      if (v === 0 || v === false || v === '' || v === undefined) return [];
      return lossless(v, out, `${path}.${k}`);
    });
  }
  if (String(input) !== String(output)) return [`${path}: ${String(input)} came back as ${String(output)}`];
  return [];
}

function typesIn(v: unknown, into: Set<string>): Set<string> {
  if (Array.isArray(v)) v.forEach((x) => typesIn(x, into));
  else if (typeof v === 'object' && v !== null) {
    for (const [k, x] of Object.entries(v)) {
      if (k === '@type' && typeof x === 'string') into.add(x);
      else typesIn(x, into);
    }
  }
  return into;
}

// grpc-js-xds reads a server's SANs only from the deprecated match_subject_alt_names (gRFC A29),
// so proxyless clusters carry it on purpose; Envoy's sidecars get match_typed_subject_alt_names.
const PROXYLESS_DEPRECATED = /\.validation_context\.match_subject_alt_names: deprecated field$/;

function roundTripAll(res: Resources, opts: { proxyless?: boolean } = {}): { kinds: Set<string>; embedded: Set<string>; count: number } {
  const kinds = new Set<string>();
  const embedded = new Set<string>();
  let count = 0;
  for (const [typeUrl, byName] of Object.entries(res)) {
    for (const [name, r] of Object.entries(byName)) {
      const where = `${typeUrl.split('.').pop()} ${name}`;
      assert.deepEqual(strictCheck(typeUrl.slice(typeUrl.lastIndexOf('/') + 1), r), [], where);
      assert.deepEqual(validateRules(typeUrl, r).filter((e) => !(opts.proxyless && PROXYLESS_DEPRECATED.test(e))), [], `${where}: Envoy's validate rules`);
      assert.equal(valid(messageType(typeUrl), r), true, `fast check agrees: ${where}`);
      const any = encodeResource(typeUrl, r);
      const back = decodeResource(typeUrl, any.value);
      assert.deepEqual(lossless(r, back, where), [], where);
      // Decoded data encodes to the very same bytes: nothing was dropped or reinterpreted.
      const type = messageType(typeUrl);
      assert.deepEqual(Buffer.from(type.encode(type.fromObject(back)).finish()), Buffer.from(any.value), where);
      kinds.add(typeUrl);
      typesIn(r, embedded);
      count++;
    }
  }
  return { kinds, embedded, count };
}

test('every resource and embedded config we emit encodes and decodes against the shipped Envoy protos', () => {
  const grpc = roundTripAll(proxylessResources(model, { id: 'a', kind: 'grpc', namespace: 'web' }), { proxyless: true });
  const server = roundTripAll(proxylessResources(model, { id: 'c', kind: 'grpc', namespace: 'shop', pod: 'catalog-1' }), { proxyless: true });
  assert.ok(server.count > grpc.count, 'an xDS-enabled gRPC server also gets server listeners');
  const sidecar = roundTripAll(sidecarResources(model, { id: 'b', kind: 'sidecar', namespace: 'shop', pod: 'catalog-1' }));
  // SDS Secrets are issued per stream (src/controller/identity.ts), not translated: encode their exact shape.
  const pem = (label: string): string => `-----BEGIN ${label}-----\nAAAA\n-----END ${label}-----\n`;
  const secrets = roundTripAll({ [TYPE.secret]: secretMessages({ certChainPem: pem('CERTIFICATE'), keyPem: pem('PRIVATE KEY'), trustBundlePem: pem('CERTIFICATE') }) } as unknown as Resources);
  assert.equal(secrets.count, 2);
  assert.deepEqual([...new Set([...grpc.kinds, ...sidecar.kinds, ...secrets.kinds])].sort(), [TYPE.cluster, TYPE.endpoint, TYPE.listener, TYPE.route, TYPE.secret].sort());
  const embedded = new Set([...grpc.embedded, ...sidecar.embedded]);
  for (const t of EMBEDDED_TYPES) assert.ok(embedded.has(t), `fixture exercises ${t}`);
  assert.ok(grpc.count > 4 && sidecar.count > 10);
});

test('validateRules applies Envoy\'s protoc-gen-validate rules: lengths, list sizes, required oneofs, header values', () => {
  const rc = { name: 'x', virtual_hosts: [{ name: '', domains: [], routes: [{ match: {}, route: { weighted_clusters: { clusters: [{ name: 'a', weight: { value: 1 }, request_headers_to_add: [{ header: { key: '', value: 'a\nb' } }] }] } } }] }] };
  assert.deepEqual(validateRules(TYPE.route, rc).map((e) => e.replace(/^.*?\.virtual_hosts\[0\]\./, '')), [
    'name: "" breaks string.min_len 1',
    'domains: 0 items breaks min_items 1',
    'routes[0].match: one of prefix, path, safe_regex, connect_matcher, path_separated_prefix, path_match_policy is required',
    'routes[0].route.weighted_clusters.clusters[0].request_headers_to_add[0].header.key: "" breaks string.min_len 1',
    'routes[0].route.weighted_clusters.clusters[0].request_headers_to_add[0].header.value: "a\\nb" breaks string.well_known_regex "HTTP_HEADER_VALUE"',
  ]);
  // An unset scalar is checked as its default value ('' is too short for a VirtualHost name).
  assert.deepEqual(validateRules('envoy.config.route.v3.VirtualHost', { domains: ['*'] }), ['VirtualHost.name: undefined breaks string.min_len 1']);
  // bytes rules (HeaderValue.raw_value: at most 16384 bytes, as base64 in JSON).
  assert.deepEqual(validateRules('envoy.config.core.v3.HeaderValue', { key: 'k', raw_value: Buffer.alloc(16385).toString('base64') }), ['HeaderValue.raw_value: "' + Buffer.alloc(16385).toString('base64') + '" breaks bytes.max_len 16384']);
});

test('strictCheck catches misspelled fields, bad enums, double oneofs and unknown Any types, nested in Any', () => {
  const cases: [string, Msg, RegExp][] = [
    ['envoy.config.cluster.v3.Cluster', { name: 'c', lb_polcy: 'ROUND_ROBIN' }, /lb_polcy: no such field/],
    ['envoy.config.cluster.v3.Cluster', { name: 'c', lb_policy: 'ROUND_ROBINN' }, /not a value of LbPolicy/],
    ['envoy.config.route.v3.RouteAction', { cluster: 'a', weighted_clusters: { clusters: [] } }, /cluster and weighted_clusters/],
    ['envoy.config.listener.v3.Listener', { name: 'l', api_listener: { api_listener: { '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager', stat_prefx: 'x' } } }, /HttpConnectionManager>\.stat_prefx: no such field/],
    ['envoy.config.listener.v3.Listener', { name: 'l', api_listener: { api_listener: { '@type': 'type.googleapis.com/nope.Nope' } } }, /not a known message/],
    ['envoy.config.listener.v3.Listener', { name: 1 }, /expected a string/],
  ];
  for (const [type, obj, re] of cases) {
    const errors = strictCheck(type, obj);
    assert.ok(errors.some((e) => re.test(e)), `${type}: ${errors.join('; ')}`);
    // encodeResource's fast check (no messages) must refuse whatever the full check refuses.
    assert.equal(valid(messageType(type), obj), false, `fast check refuses: ${type} ${JSON.stringify(obj)}`);
  }
  assert.throws(() => encodeResource(TYPE.cluster, { name: 'c', lb_polcy: 'X' }), /lb_polcy/);
});

test('every TrafficPolicy setting (each load balancer and hash, limits, timeouts, rate limits, faults) encodes and holds Envoy\'s validate rules, for sidecars and gRPC', () => {
  const svc = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'p' }, spec: { clusterIP: '10.96.1.1', selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'grpc', port: 90, targetPort: 9090 }] } });
  const tp = (name: string, spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'mesh.dev/v1alpha1', kind: 'TrafficPolicy', metadata: { name, namespace: 'p' }, spec: { targetRefs: [{ group: '', kind: 'Service', name }], ...spec } });
  const lbs: Record<string, unknown>[] = [
    { type: 'RoundRobin' }, { type: 'LeastRequest' }, { type: 'Random' },
    { type: 'RingHash', hash: { header: { name: 'X-User' } } }, { type: 'Maglev', hash: { cookie: { name: 'sid', ttl: '1h' } } }, { type: 'RingHash', hash: { sourceIP: true } },
  ];
  const objs: KubeObject[] = lbs.flatMap((lb, i) => [svc(`s${i}`), tp(`s${i}`, {
    loadBalancer: lb, connectionPool: { maxConnections: 1, maxPendingRequests: 1, maxRequests: 1, maxRetries: 1 },
    outlierDetection: { consecutive5xx: 1, consecutiveGatewayErrors: 1, interval: '1ms', baseEjectionTime: '1s', maxEjectionPercent: 100, failurePercentage: { threshold: 0, minimumHosts: 1, requestVolume: 1 } },
    timeouts: { idle: '1s', connect: '1ms' }, rateLimit: { requests: 1, interval: '50ms' },
  })]);
  objs.push({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 's0-1', namespace: 'p', labels: { app: 's0' } }, spec: {}, status: { podIP: '10.1.1.1' } });
  objs.push({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 's0', namespace: 'p' }, spec: { parentRefs: [{ group: '', kind: 'Service', name: 's0' }], rules: [{ name: 'a', backendRefs: [{ name: 's3', port: 80 }] }] } });
  objs.push({ apiVersion: 'mesh.dev/v1alpha1', kind: 'TrafficPolicy', metadata: { name: 'rule', namespace: 'p' }, spec: { targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: 's0', sectionName: 'a' }], fault: { abort: { percentage: 0.5, httpStatus: 429 }, delay: { fixedDelay: '1ms' } }, rateLimit: { requests: 3, burst: 9 } } });
  const m = buildModel(objs);
  assert.deepEqual(m.policyConditions!.filter((c) => c.status !== 'True'), []);
  const sidecar = sidecarResources(m, { id: 's', kind: 'sidecar', namespace: 'p', pod: 's0-1' });
  const grpc = proxylessResources(m, { id: 'g', kind: 'grpc', namespace: 'p' });
  roundTripAll(sidecar);
  roundTripAll(grpc, { proxyless: true });
  const lbOf = (res: Resources, i: number) => (res[TYPE.cluster][`outbound|80||s${i}.p.svc.cluster.local`] as Msg).lb_policy;
  assert.deepEqual(lbs.map((_, i) => lbOf(sidecar, i)), ['ROUND_ROBIN', 'LEAST_REQUEST', 'RANDOM', 'RING_HASH', 'MAGLEV', 'RING_HASH']);
  assert.deepEqual(lbs.map((_, i) => lbOf(grpc, i)), ['ROUND_ROBIN', 'ROUND_ROBIN', 'ROUND_ROBIN', 'RING_HASH', 'RING_HASH', 'RING_HASH'], 'gRPC 1.14 accepts only ROUND_ROBIN and RING_HASH');
  const hashOf = (res: Resources, i: number) => ((res[TYPE.route][`s${i}.p.svc.cluster.local:80`] as any).virtual_hosts[0].routes[0].route.hash_policy);
  assert.deepEqual([3, 4, 5].map((i) => hashOf(sidecar, i)), [[{ header: { header_name: 'x-user' } }], [{ cookie: { name: 'sid', ttl: { seconds: 3600, nanos: 0 } } }], [{ connection_properties: { source_ip: true } }]]);
  assert.deepEqual([3, 4, 5].map((i) => hashOf(grpc, i)), [[{ header: { header_name: 'x-user' } }], [{ filter_state: { key: 'io.grpc.channel_id' } }], [{ filter_state: { key: 'io.grpc.channel_id' } }]]);
  assert.deepEqual(hashOf(sidecar, 0), [{ header: { header_name: 'x-user' } }], 'a route rule to s3 hashes as s3 says');
});

test('the validate rules guard what a TrafficPolicy emits: a token bucket of 0, a 0 s connect timeout, protocol options without a protocol', () => {
  assert.deepEqual(validateRules('envoy.type.v3.TokenBucket', { max_tokens: 0, tokens_per_fill: { value: 0 }, fill_interval: { seconds: 1 } }).length, 2);
  assert.match(validateRules('envoy.type.v3.TokenBucket', { max_tokens: 1 }).join(), /fill_interval/);
  assert.match(validateRules('envoy.config.cluster.v3.Cluster', { name: 'c', connect_timeout: { seconds: 0 } }).join(), /connect_timeout/);
  assert.match(validateRules('envoy.extensions.upstreams.http.v3.HttpProtocolOptions', { common_http_protocol_options: {} }).join(), /upstream_protocol_options|explicit_http_config/);
});

test('the encode memo: equal content in distinct messages gives the very same encoding object; other content another', () => {
  const memo = new EncodeMemo();
  const cla = (ip: string): Msg => ({ cluster_name: 'c', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: ip, port_value: 80 } } } }] }] });
  const a = memo.encode(TYPE.endpoint, cla('10.0.0.1'));
  assert.equal(memo.encode(TYPE.endpoint, cla('10.0.0.1')), a);
  const b = memo.encode(TYPE.endpoint, cla('10.0.0.2'));
  assert.notEqual(b, a);
  assert.notDeepEqual(b.value, a.value);
  assert.deepEqual(b.value, encodeResource(TYPE.endpoint, cla('10.0.0.2')).value);
});
