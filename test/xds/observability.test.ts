// Tracing and access logs as the sidecars get them (src/xds/observability.ts): valid against
// Envoy's protos and their validate rules, on every HTTP connection manager and tcp_proxy, changed
// per namespace and pod by annotation, and shown offline for the example shop from a rendered
// install. Bad values are exit 2 naming the value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../../src/cluster/types.ts';
import { buildModel } from '../../src/model/index.ts';
import type { MeshTelemetry } from '../../src/model/types.ts';
import { resolveValues, telemetryOf } from '../../src/manifests/values.ts';
import { validateAnnotation } from '../../src/analyzers/annotations.ts';
import { decodeResource, encodeResource, strictCheck } from '../../src/xds/encode.ts';
import { ACCESS_LOG_FIELDS, TELEMETRY_TYPES, TRACING_CLUSTER } from '../../src/xds/observability.ts';
import { TYPE } from '../../src/xds/protos.ts';
import { sidecarResources, type Msg, type Resources } from '../../src/xds/translate.ts';
import { runMeshInProcess } from '../support/cli.ts';
import { validateRules } from '../support/pgv.ts';

const shop = parseAllDocuments(readFileSync(new URL('../fixtures/xds/shop.yaml', import.meta.url), 'utf8')).map((d) => d.toJS() as KubeObject);
const proxy = { id: 'c', kind: 'sidecar' as const, namespace: 'shop', pod: 'catalog-1' };

function telemetry(over: { tracing?: Partial<MeshTelemetry['tracing']>; accessLog?: Partial<MeshTelemetry['accessLog']> }): MeshTelemetry {
  const v = resolveValues();
  return { tracing: { ...v.tracing, enabled: true, ...over.tracing }, accessLog: { ...v.accessLog, ...over.accessLog } };
}

/** Every message under `v` (filters' typed_configs included) with its key path. */
function* walk(v: unknown, path = ''): Generator<[string, Record<string, unknown>]> {
  if (Array.isArray(v)) for (const [i, x] of v.entries()) yield* walk(x, `${path}[${i}]`);
  else if (typeof v === 'object' && v !== null) {
    yield [path, v as Record<string, unknown>];
    for (const [k, x] of Object.entries(v)) yield* walk(x, `${path}.${k}`);
  }
}

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const TCP = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';
/** The sidecar's HCMs and tcp_proxies, by where they are (the admin Prometheus listener is not traffic). */
function filtersOf(res: Resources): { hcm: [string, Record<string, unknown>][]; tcp: [string, Record<string, unknown>][] } {
  const out = { hcm: [] as [string, Record<string, unknown>][], tcp: [] as [string, Record<string, unknown>][] };
  for (const [name, l] of Object.entries(res[TYPE.listener])) {
    if (name === 'prometheus') continue;
    for (const [p, m] of walk(l, name)) {
      if (m['@type'] === HCM) out.hcm.push([p, m]);
      if (m['@type'] === TCP) out.tcp.push([p, m]);
    }
  }
  return out;
}

test('tracing and access logs decode against the Envoy protos with no unknown field and satisfy their validate rules, for each provider and format', () => {
  const seen = new Set<string>();
  for (const provider of ['opentelemetry', 'zipkin'] as const) {
    for (const format of ['text', 'json'] as const) {
      const customTags = { env: { literal: 'prod' }, user: { header: 'x-user-id', default: 'anonymous' }, pod: { environment: 'POD_NAME' } };
      const model = buildModel(shop, { telemetry: telemetry({ tracing: { provider, sampling: 12.5, endpoint: 'collector.observability.svc:4317', customTags }, accessLog: { enabled: true, format } }) });
      const res = sidecarResources(model, proxy);
      for (const [typeUrl, byName] of Object.entries(res)) {
        for (const [name, r] of Object.entries(byName)) {
          const typeName = typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
          assert.deepEqual(strictCheck(typeName, r), [], `${provider}/${format} ${name}`);
          assert.deepEqual(validateRules(typeName, r), [], `${provider}/${format} ${name}`);
          const back = decodeResource(typeUrl, encodeResource(typeUrl, r).value);
          for (const [, m] of walk(back)) if (typeof m['@type'] === 'string') seen.add(m['@type']);
        }
      }
      const { hcm } = filtersOf(res);
      const decoded = decodeResource(TYPE.listener, encodeResource(TYPE.listener, res[TYPE.listener].inbound as Msg).value);
      const inbound = [...walk(decoded)].find(([, m]) => m['@type'] === HCM)?.[1] as any;
      assert.equal(inbound.tracing.random_sampling.value, 12.5, 'the sampling survives the wire');
      assert.deepEqual(inbound.tracing.custom_tags.map((t: any) => t.tag), ['env', 'pod', 'user']);
      assert.equal(inbound.tracing.provider.name, provider === 'zipkin' ? 'envoy.tracers.zipkin' : 'envoy.tracers.opentelemetry');
      assert.ok(hcm.length >= 2);
    }
  }
  for (const t of TELEMETRY_TYPES) assert.ok(seen.has(t), `exercised ${t}`);
});

test('the validate-rule check catches what Envoy would refuse', () => {
  assert.deepEqual(validateRules('envoy.type.v3.Percent', { value: 150 }), ['Percent.value: 150 breaks double.lte 100']);
  const tag = validateRules('envoy.type.tracing.v3.CustomTag', { tag: '', request_header: { name: 'bad header' } });
  assert.equal(tag.length, 2, tag.join('; '));
  assert.match(validateRules('envoy.type.tracing.v3.CustomTag', { tag: 'x' }).join(), /one of .* is required/);
  assert.match(validateRules('envoy.config.trace.v3.ZipkinConfig', { collector_endpoint: '/api/v2/spans' }).join(), /collector_cluster: undefined breaks string.min_len 1/);
});

test('every sidecar HCM (inbound and outbound) is traced and every HCM and tcp_proxy logs, with the collector cluster; by default neither', () => {
  const off = sidecarResources(buildModel(shop), proxy);
  for (const [where, m] of [...filtersOf(off).hcm, ...filtersOf(off).tcp]) {
    assert.equal(m.tracing, undefined, where);
    assert.equal(m.access_log, undefined, `${where}: access logs are off by default`);
  }
  assert.equal(off[TYPE.cluster][TRACING_CLUSTER], undefined);

  const on = sidecarResources(buildModel(shop, { telemetry: telemetry({ tracing: { sampling: 3 }, accessLog: { enabled: true } }) }), proxy);
  const { hcm, tcp } = filtersOf(on);
  assert.ok(hcm.some(([w]) => w.startsWith('outbound')) && hcm.some(([w]) => w.startsWith('inbound')), 'both directions have HCMs');
  assert.ok(tcp.some(([w]) => w.startsWith('outbound')) && tcp.some(([w]) => w.startsWith('inbound')), 'both directions have tcp_proxies');
  for (const [where, m] of hcm) {
    assert.equal((m.tracing as any)?.random_sampling.value, 3, where);
    assert.equal((m.access_log as any)?.[0].name, 'envoy.access_loggers.stdout', where);
  }
  for (const [where, m] of tcp) assert.equal((m.access_log as any)?.[0].name, 'envoy.access_loggers.stdout', where);
  const collector = on[TYPE.cluster][TRACING_CLUSTER] as any;
  assert.equal(collector.type, 'STRICT_DNS');
  assert.deepEqual(collector.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address, { address: 'jaeger-collector.mesh-system.svc', port_value: 4317 });
  assert.ok(collector.typed_extension_protocol_options, 'OTLP is gRPC: HTTP/2 to the collector');
  const otel = (hcm[0]![1].tracing as any).provider.typed_config;
  assert.equal(otel.grpc_service.envoy_grpc.cluster_name, TRACING_CLUSTER);
  assert.equal(otel.service_name, 'catalog.shop', 'spans are named SERVICEACCOUNT.NAMESPACE');

  // The documented fields are in both formats: trace id, upstream cluster, response flags, peer identity.
  const text = (hcm[0]![1].access_log as any)[0].typed_config.log_format.text_format_source.inline_string as string;
  const json = sidecarResources(buildModel(shop, { telemetry: telemetry({ accessLog: { enabled: true, format: 'json' } }) }), proxy);
  const fields = (filtersOf(json).hcm[0]![1].access_log as any)[0].typed_config.log_format.json_format.fields;
  for (const op of ['%TRACE_ID%', '%UPSTREAM_CLUSTER%', '%RESPONSE_FLAGS%', '%DOWNSTREAM_PEER_URI_SAN%']) {
    assert.ok(text.includes(op), `text has ${op}`);
    assert.ok(Object.values(fields).some((f: any) => f.stringValue === op), `json has ${op}`);
  }
  assert.equal(Object.keys(fields).length, ACCESS_LOG_FIELDS.length);
});

test('mesh.dev/trace-sampling and mesh.dev/access-log: a pod over its namespace over the mesh; off removes tracing; bad values are MSH0013', () => {
  const annotate = (objects: KubeObject[], kind: string, name: string, ann: Record<string, string>): KubeObject[] =>
    objects.map((o) => (o.kind === kind && o.metadata.name === name ? { ...o, metadata: { ...o.metadata, annotations: { ...o.metadata.annotations, ...ann } } } : o));
  const withNs = annotate(shop, 'Namespace', 'shop', { 'mesh.dev/trace-sampling': '50', 'mesh.dev/access-log': 'json' });
  const t = telemetry({ tracing: { sampling: 1 } });
  const sampling = (objects: KubeObject[], pod = 'catalog-1'): unknown => (filtersOf(sidecarResources(buildModel(objects, { telemetry: t }), { ...proxy, pod })).hcm[0]![1].tracing as any)?.random_sampling.value;
  const logFormat = (objects: KubeObject[]): string | undefined => {
    const log = filtersOf(sidecarResources(buildModel(objects, { telemetry: t }), proxy)).hcm[0]![1].access_log as any;
    return log ? Object.keys(log[0].typed_config.log_format)[0] : undefined;
  };
  assert.equal(sampling(shop), 1, 'the mesh value');
  assert.equal(sampling(withNs), 50, 'the namespace annotation');
  assert.equal(sampling(annotate(withNs, 'Pod', 'catalog-1', { 'mesh.dev/trace-sampling': '0.5' })), 0.5, 'the pod annotation');
  const podOff = annotate(withNs, 'Pod', 'catalog-1', { 'mesh.dev/trace-sampling': 'off' });
  assert.equal(sampling(podOff), undefined, 'off: no tracing');
  assert.equal(sidecarResources(buildModel(podOff, { telemetry: t }), proxy)[TYPE.cluster][TRACING_CLUSTER], undefined, 'and no collector cluster');
  assert.equal(logFormat(shop), undefined, 'access log off mesh-wide');
  assert.equal(logFormat(withNs), 'json_format', 'the namespace turns it on as json');
  assert.equal(logFormat(annotate(withNs, 'Pod', 'catalog-1', { 'mesh.dev/access-log': 'off' })), undefined, 'the pod turns it off');
  // A value that does not parse leaves the mesh's setting and is reported by mesh check.
  assert.equal(sampling(annotate(shop, 'Pod', 'catalog-1', { 'mesh.dev/trace-sampling': '150' })), 1);
  for (const [key, value] of [['mesh.dev/trace-sampling', '150'], ['mesh.dev/trace-sampling', 'half'], ['mesh.dev/access-log', 'yes']]) {
    assert.equal(validateAnnotation(key!, value!)?.code, 'invalid', `${key}=${value}`);
  }
  for (const [key, value] of [['mesh.dev/trace-sampling', '100'], ['mesh.dev/trace-sampling', 'off'], ['mesh.dev/access-log', 'JSON']]) assert.equal(validateAnnotation(key!, value!), undefined);
});

test('offline proxy-config of the example shop with a rendered install shows the tracer and sampling as the pod would get them; bad values exit 2 naming the value', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mesh-telemetry-'));
  try {
    const install = join(dir, 'install.yaml');
    const gen = await runMeshInProcess(['manifest', 'generate', '--set', 'tracing.enabled=true', '--set', 'tracing.sampling=25', '--set', 'tracing.provider=zipkin', '--set', 'tracing.endpoint=zipkin.observability.svc:9411', '--set', 'accessLog.enabled=true']);
    assert.equal(gen.code, 0, gen.stderr);
    writeFileSync(install, gen.stdout);
    const shown = async (files: string[]): Promise<any[]> => {
      const r = await runMeshInProcess(['proxy-config', 'listener', 'deploy/frontend', '-n', 'shop', '-f', 'examples/shop', ...files.flatMap((f) => ['-f', f]), '-o', 'json']);
      assert.equal(r.code, 0, r.stderr);
      // Traffic HCMs only: the Prometheus listener's serves the proxy's own stats.
      return [...walk(JSON.parse(r.stdout))].filter(([, m]) => m['@type'] === HCM && m.stat_prefix !== 'prometheus').map(([, m]) => m);
    };
    const hcms = await shown([install]);
    assert.ok(hcms.length > 0);
    for (const h of hcms) {
      assert.equal(h.tracing.provider.name, 'envoy.tracers.zipkin');
      assert.equal(h.tracing.random_sampling.value, 25);
      assert.equal(h.access_log[0].name, 'envoy.access_loggers.stdout');
    }
    for (const h of await shown([])) assert.equal(h.tracing, undefined, 'without the install: the defaults, no tracing');

    for (const [set, named] of [['tracing.sampling=150', '150'], ['tracing.sampling=-1', '-1'], ['tracing.endpoint=collector', '"collector"'], ['tracing.endpoint=collector:99999', '"collector:99999"'], ['tracing.provider=jaeger', '"jaeger"']]) {
      const r = await runMeshInProcess(['manifest', 'generate', '--set', set!]);
      assert.equal(r.code, 2, `${set}: ${r.stderr}`);
      const first = r.stderr.trim().split('\n')[0]!;
      assert.ok(first.includes(named!) && first.includes(set!.split('=')[0]!), `${set}: ${first}`);
    }
    const values = join(dir, 'values.yaml');
    writeFileSync(values, 'tracing:\n  sampling: 100.5\n');
    const r = await runMeshInProcess(['manifest', 'generate', '-f', values]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /tracing\.sampling" must be a percentage from 0 to 100 \(got 100\.5\)/);
    assert.deepEqual(telemetryOf(resolveValues({ sets: ['tracing.sampling=0.5'] })).tracing.sampling, 0.5);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
