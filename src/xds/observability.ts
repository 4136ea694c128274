import type { AccessLogConfig, CustomTag, MeshModel, TelemetryOverride, TracingConfig, Workload } from '../model/types.js';
import type { Msg } from './translate.js';
import { parseHostPort } from '../util/host-port.js';

/**
 * Tracing and access logs of a proxy's listeners, from the mesh's telemetry settings (values
 * `tracing.*`, `accessLog.*`) refined by the `mesh.dev/trace-sampling` and `mesh.dev/access-log`
 * annotations of the proxy's namespace, then of its pod. A proxy's builder resolves
 * {@link proxyTelemetry} once, spreads its `hcm` into every HTTP connection manager (sidecar
 * inbound and outbound, gateways: or call {@link hcmTelemetry}) and its `tcp` into every
 * tcp_proxy, and adds its `clusters`. Pure. See docs/observability.md.
 */

const T = {
  otel: 'type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig',
  zipkin: 'type.googleapis.com/envoy.config.trace.v3.ZipkinConfig',
  stdoutLog: 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog',
  httpOptions: 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
} as const;

/** Every Any-typed message URL this module can emit (the encode test walks them). */
export const TELEMETRY_TYPES: readonly string[] = Object.values(T);

/** Name of the cluster the tracer sends spans to (the collector at `tracing.endpoint`). */
export const TRACING_CLUSTER = 'mesh-tracing-collector';

/** Where a proxy sits: its namespace and pod (the annotations of both apply). */
export interface TelemetryScope {
  namespace?: string;
  pod?: string;
}

/**
 * The access log's fields, by JSON key: the documented default set (docs/observability.md),
 * as Envoy command operators. The text format prints the same operators in this order.
 */
export const ACCESS_LOG_FIELDS: readonly (readonly [key: string, operator: string])[] = [
  ['start_time', '%START_TIME%'],
  ['method', '%REQ(:METHOD)%'],
  ['path', '%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%'],
  ['protocol', '%PROTOCOL%'],
  ['response_code', '%RESPONSE_CODE%'],
  ['response_flags', '%RESPONSE_FLAGS%'],
  ['response_code_details', '%RESPONSE_CODE_DETAILS%'],
  ['bytes_received', '%BYTES_RECEIVED%'],
  ['bytes_sent', '%BYTES_SENT%'],
  ['duration_ms', '%DURATION%'],
  ['upstream_service_time_ms', '%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%'],
  ['authority', '%REQ(:AUTHORITY)%'],
  ['user_agent', '%REQ(USER-AGENT)%'],
  ['request_id', '%REQ(X-REQUEST-ID)%'],
  ['trace_id', '%TRACE_ID%'],
  ['upstream_cluster', '%UPSTREAM_CLUSTER%'],
  ['upstream_host', '%UPSTREAM_HOST%'],
  ['downstream_remote_address', '%DOWNSTREAM_REMOTE_ADDRESS%'],
  ['downstream_peer_identity', '%DOWNSTREAM_PEER_URI_SAN%'],
  ['upstream_peer_identity', '%UPSTREAM_PEER_URI_SAN%'],
];

/** The text format: Envoy's default line shape, then the mesh's fields as key=value (quoted where they may hold spaces). */
export const ACCESS_LOG_TEXT: string = (() => {
  const op = new Map(ACCESS_LOG_FIELDS);
  const head = `[${op.get('start_time')}] "${op.get('method')} ${op.get('path')} ${op.get('protocol')}" ${op.get('response_code')} ${op.get('response_flags')}`;
  const rest = ACCESS_LOG_FIELDS.filter(([k]) => !['start_time', 'method', 'path', 'protocol', 'response_code', 'response_flags'].includes(k))
    .map(([k, v]) => (k === 'user_agent' || k === 'response_code_details' ? `${k}="${v}"` : `${k}=${v}`));
  return `${head} ${rest.join(' ')}\n`;
})();

/** Per model: whether anything (values or an annotation) asks for telemetry; most meshes ask nothing, and 1,000 proxies need not look. */
const anyTelemetry = new WeakMap<MeshModel, boolean>();
function hasTelemetry(model: MeshModel): boolean {
  let v = anyTelemetry.get(model);
  if (v === undefined) anyTelemetry.set(model, (v = model.telemetry !== undefined || model.namespaces.some((n) => n.telemetry) || model.workloads.some((w) => w.telemetry)));
  return v;
}

/** The collector cluster by tracing settings, shared by every proxy (encoded once). */
const collectors = new WeakMap<TracingConfig, Record<string, Msg>>();

/** What one proxy's telemetry comes to, resolved once per proxy (the model is searched once). */
export interface ProxyTelemetry {
  /** Sampling percentage, or undefined when the proxy is not traced. */
  sampling?: number;
  /** Access log format, or undefined when the proxy logs nothing. */
  accessLog?: AccessLogConfig['format'];
  /** Spread into every HTTP connection manager of the proxy. */
  hcm: { tracing?: Msg; access_log?: Msg[] };
  /** Spread into every tcp_proxy of the proxy. */
  tcp: { access_log?: Msg[] };
  /** Clusters the proxy needs for it (the tracer's collector). */
  clusters: Record<string, Msg>;
}

/** The effective override of a proxy: its pod's annotations over its namespace's. */
function overrideOf(model: MeshModel, scope: TelemetryScope): { override: TelemetryOverride; workload?: Workload } {
  const ns = scope.namespace === undefined ? undefined : model.namespaces.find((n) => n.name === scope.namespace);
  const workload = scope.pod === undefined ? undefined : model.workloads.find((w) => w.name === scope.pod && w.namespace === scope.namespace);
  return { override: { ...ns?.telemetry, ...workload?.telemetry }, ...(workload ? { workload } : {}) };
}

function sampling(t: TracingConfig | undefined, o: TelemetryOverride): number | undefined {
  if (!t?.enabled || o.traceSampling === 'off') return undefined;
  return o.traceSampling ?? t.sampling;
}

function accessLogFormat(a: AccessLogConfig | undefined, o: TelemetryOverride): AccessLogConfig['format'] | undefined {
  if (o.accessLog === 'off') return undefined;
  if (o.accessLog === 'text' || o.accessLog === 'json') return o.accessLog;
  if (o.accessLog === 'on' || a?.enabled) return a?.format ?? 'text';
  return undefined;
}

function customTag(tag: string, spec: CustomTag): Msg {
  if ('literal' in spec) return { tag, literal: { value: spec.literal } };
  if ('header' in spec) return { tag, request_header: { name: spec.header, ...(spec.default === undefined ? {} : { default_value: spec.default }) } };
  return { tag, environment: { name: spec.environment, ...(spec.default === undefined ? {} : { default_value: spec.default }) } };
}

function provider(t: TracingConfig, serviceName: string): Msg {
  if (t.provider === 'zipkin') {
    // Zipkin names the service after the bootstrap's node.cluster (SERVICEACCOUNT.NAMESPACE), like service_name below.
    return {
      name: 'envoy.tracers.zipkin',
      typed_config: { '@type': T.zipkin, collector_cluster: TRACING_CLUSTER, collector_endpoint: '/api/v2/spans', collector_endpoint_version: 'HTTP_JSON', trace_id_128bit: true, shared_span_context: { value: false } },
    };
  }
  return {
    name: 'envoy.tracers.opentelemetry',
    typed_config: { '@type': T.otel, grpc_service: { envoy_grpc: { cluster_name: TRACING_CLUSTER } }, service_name: serviceName },
  };
}

// google.protobuf.Value comes from protobufjs's built-in definitions, which spell fields in camelCase.
// One object per format, shared by every proxy (encoded once).
const ACCESS_LOGS: Record<AccessLogConfig['format'], Msg[]> = {
  text: [{ name: 'envoy.access_loggers.stdout', typed_config: { '@type': T.stdoutLog, log_format: { text_format_source: { inline_string: ACCESS_LOG_TEXT } } } }],
  json: [{ name: 'envoy.access_loggers.stdout', typed_config: { '@type': T.stdoutLog, log_format: { json_format: { fields: Object.fromEntries(ACCESS_LOG_FIELDS.map(([k, v]) => [k, { stringValue: v }])) } } } }],
};

/**
 * Tracing and access logs of one proxy: its HCMs get `tracing` (provider, `random_sampling`,
 * custom tags; spans named SERVICEACCOUNT.NAMESPACE, the bootstrap's node.cluster) unless tracing
 * is off mesh-wide or `mesh.dev/trace-sampling: off` applies, and its HCMs and tcp_proxies the
 * stdout access log in its format; plus the collector cluster when traced.
 */
export function proxyTelemetry(model: MeshModel, scope: TelemetryScope): ProxyTelemetry {
  if (!hasTelemetry(model)) return { hcm: {}, tcp: {}, clusters: {} };
  const { override, workload } = overrideOf(model, scope);
  const t = model.telemetry?.tracing;
  const pct = sampling(t, override);
  const format = accessLogFormat(model.telemetry?.accessLog, override);
  const out: ProxyTelemetry = { hcm: {}, tcp: {}, clusters: {} };
  if (t && pct !== undefined) {
    out.sampling = pct;
    const serviceName = `${workload?.serviceAccount ?? scope.pod ?? 'unknown'}.${scope.namespace ?? 'default'}`;
    const tracing: Msg = { provider: provider(t, serviceName), random_sampling: { value: pct } };
    const tags = Object.entries(t.customTags).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    if (tags.length) tracing.custom_tags = tags.map(([tag, spec]) => customTag(tag, spec));
    out.hcm.tracing = tracing;
    let clusters = collectors.get(t);
    if (!clusters) collectors.set(t, (clusters = collectorClusters(t)));
    out.clusters = clusters;
  }
  if (format) {
    out.accessLog = format;
    out.hcm.access_log = ACCESS_LOGS[format];
    out.tcp.access_log = ACCESS_LOGS[format];
  }
  return out;
}

/** What an HTTP connection manager of this proxy carries: spread it into the HCM (sidecars, gateways). */
export function hcmTelemetry(model: MeshModel, scope: TelemetryScope): ProxyTelemetry['hcm'] {
  return proxyTelemetry(model, scope).hcm;
}

/**
 * The clusters a traced proxy needs: the collector at `tracing.endpoint` (HTTP/2 for OTLP gRPC,
 * HTTP/1.1 for Zipkin), resolved by DNS unless it is an IP address.
 */
function collectorClusters(t: TracingConfig): Record<string, Msg> {
  const hp = parseHostPort(t.endpoint);
  // The values validation refuses such an endpoint; a model built otherwise fails the snapshot, never a proxy.
  if (!hp) throw new Error(`tracing.endpoint "${t.endpoint}" is not host:port`);
  const { host, port } = hp;
  const ip = /^[\d.]+$/.test(host) || host.includes(':');
  const c: Msg = {
    name: TRACING_CLUSTER,
    type: ip ? 'STATIC' : 'STRICT_DNS',
    connect_timeout: { seconds: 1, nanos: 0 },
    load_assignment: { cluster_name: TRACING_CLUSTER, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: host, port_value: port } } } }] }] },
  };
  if (t.provider === 'opentelemetry') {
    c.typed_extension_protocol_options = { 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': { '@type': T.httpOptions, explicit_http_config: { http2_protocol_options: {} } } };
  }
  return { [TRACING_CLUSTER]: c };
}
