import type { AccessLogConfig, CustomTag, MeshModel, TelemetryOverride, TracingConfig, Workload } from '../model/types.js';
import type { Msg } from './translate.js';
import { parseHostPort } from '../util/host-port.js';

/**
 * Tracing and access logs of a proxy's listeners, from the mesh's telemetry settings (values
 * `tracing.*`, `accessLog.*`) refined by the `mesh.dev/trace-sampling` and `mesh.dev/access-log`
 * annotations of the proxy's namespace, then of its pod. Every HTTP connection manager builder
 * (sidecar inbound and outbound, gateways) spreads {@link hcmTelemetry} into the HCM and every
 * tcp_proxy takes {@link tcpAccessLog}; the proxy's clusters take {@link telemetryClusters}.
 * Pure. See docs/observability.md.
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

/** The effective override of a proxy: its pod's annotations over its namespace's. */
function overrideOf(model: MeshModel, scope: TelemetryScope): { override: TelemetryOverride; workload?: Workload } {
  const ns = scope.namespace === undefined ? undefined : model.namespaces.find((n) => n.name === scope.namespace);
  const workload = scope.pod === undefined ? undefined : model.workloads.find((w) => w.name === scope.pod && w.namespace === scope.namespace);
  return { override: { ...ns?.telemetry, ...workload?.telemetry }, ...(workload ? { workload } : {}) };
}

/** The sampling percentage a proxy uses, or undefined when it is not traced. */
export function effectiveSampling(model: MeshModel, scope: TelemetryScope): number | undefined {
  const t = model.telemetry?.tracing;
  if (!t?.enabled) return undefined;
  const s = overrideOf(model, scope).override.traceSampling;
  if (s === 'off') return undefined;
  return s ?? t.sampling;
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

/**
 * The HCM `tracing` of a proxy, or undefined when it is not traced (tracing off mesh-wide, or
 * `mesh.dev/trace-sampling: off` on its namespace or pod). Spans carry the service name
 * SERVICEACCOUNT.NAMESPACE (the bootstrap's node.cluster) and the custom tags.
 */
export function tracingFor(model: MeshModel, scope: TelemetryScope): Msg | undefined {
  const t = model.telemetry?.tracing;
  const sampling = effectiveSampling(model, scope);
  if (!t || sampling === undefined) return undefined;
  const { workload } = overrideOf(model, scope);
  const serviceName = `${workload?.serviceAccount ?? scope.pod ?? 'unknown'}.${scope.namespace ?? 'default'}`;
  const out: Msg = { provider: provider(t, serviceName), random_sampling: { value: sampling } };
  const tags = Object.entries(t.customTags).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (tags.length) out.custom_tags = tags.map(([tag, spec]) => customTag(tag, spec));
  return out;
}

/** The access log format a proxy uses, or undefined when it logs nothing. */
export function effectiveAccessLog(model: MeshModel, scope: TelemetryScope): AccessLogConfig['format'] | undefined {
  const a = model.telemetry?.accessLog;
  const o = overrideOf(model, scope).override.accessLog;
  if (o === 'off') return undefined;
  if (o === 'text' || o === 'json') return o;
  if (o === 'on' || a?.enabled) return a?.format ?? 'text';
  return undefined;
}

/** Envoy's stdout access log in the proxy's format, or undefined when it logs nothing. */
export function accessLogFor(model: MeshModel, scope: TelemetryScope): Msg[] | undefined {
  const format = effectiveAccessLog(model, scope);
  if (!format) return undefined;
  // google.protobuf.Value comes from protobufjs's built-in definitions, which spell fields in camelCase.
  const logFormat =
    format === 'json'
      ? { json_format: { fields: Object.fromEntries(ACCESS_LOG_FIELDS.map(([k, v]) => [k, { stringValue: v }])) } }
      : { text_format_source: { inline_string: ACCESS_LOG_TEXT } };
  return [{ name: 'envoy.access_loggers.stdout', typed_config: { '@type': T.stdoutLog, log_format: logFormat } }];
}

/** What an HTTP connection manager of this proxy carries: spread it into the HCM. */
export function hcmTelemetry(model: MeshModel, scope: TelemetryScope): { tracing?: Msg; access_log?: Msg[] } {
  const tracing = tracingFor(model, scope);
  const log = accessLogFor(model, scope);
  return { ...(tracing ? { tracing } : {}), ...(log ? { access_log: log } : {}) };
}

/** What a tcp_proxy of this proxy carries: spread it into the TcpProxy. */
export function tcpAccessLog(model: MeshModel, scope: TelemetryScope): { access_log?: Msg[] } {
  const log = accessLogFor(model, scope);
  return log ? { access_log: log } : {};
}

/**
 * The clusters a traced proxy needs: the collector at `tracing.endpoint` (HTTP/2 for OTLP gRPC,
 * HTTP/1.1 for Zipkin), resolved by DNS unless it is an IP address. Empty when not traced.
 */
export function telemetryClusters(model: MeshModel, scope: TelemetryScope): Record<string, Msg> {
  const t = model.telemetry?.tracing;
  if (!t || effectiveSampling(model, scope) === undefined) return {};
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
