import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { buildModel } from '../../src/model/index.ts';
import { proxylessResources, sidecarResources, EMBEDDED_TYPES, type Msg, type Resources } from '../../src/xds/translate.ts';
import { TYPE } from '../../src/xds/protos.ts';
import { decodeResource, encodeResource, strictCheck } from '../../src/xds/encode.ts';
import { messageType } from '../../src/xds/protos.ts';
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
  }
  assert.throws(() => encodeResource(TYPE.cluster, { name: 'c', lb_polcy: 'X' }), /lb_polcy/);
});
