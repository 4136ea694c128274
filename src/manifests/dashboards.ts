import { ENVOY } from '../metrics/envoy.js';
import { PROMETHEUS_POD_LABELS, PROMETHEUS_WORKLOAD_LABEL } from '../metrics/prometheus-api.js';

/**
 * The Grafana dashboards mesh ships (mesh overview, service, workload, control plane), built as
 * Grafana dashboard JSON (schemaVersion 39). Pure data: the Grafana addon provisions them, and
 * `mesh manifest generate --dashboards DIR` writes them for a Grafana of your own.
 *
 * Every query reads the series as the addon's Prometheus labels them (docs/observability.md):
 * Envoy's names (src/metrics/envoy.ts) with `namespace`, `pod` and `workload` target labels, and
 * the controller's own metrics (src/controller/metrics.ts). Panels name their datasource through
 * the `datasource` variable, whose default is the addon's datasource (uid {@link GRAFANA_DATASOURCE_UID}),
 * so an imported dashboard asks which Prometheus to use instead of pointing at a missing one.
 */

/** uid of the Prometheus datasource the Grafana addon provisions. */
export const GRAFANA_DATASOURCE_UID = 'mesh-prometheus';

/** One query of a panel. */
export interface DashboardTarget {
  refId: string;
  /** PromQL; may use the dashboard's variables ($namespace, ...) and $__rate_interval. */
  expr: string;
  /** Series name in the legend, e.g. `{{namespace}}/{{workload}}`. */
  legendFormat: string;
}

/** A Grafana dashboard as JSON (the fields mesh sets; Grafana fills the rest on load). */
export interface Dashboard {
  uid: string;
  title: string;
  tags: string[];
  schemaVersion: number;
  version: number;
  editable: boolean;
  refresh: string;
  time: { from: string; to: string };
  timezone: string;
  templating: { list: Record<string, unknown>[] };
  panels: Panel[];
}

/** A panel of a dashboard. */
export interface Panel {
  id: number;
  type: 'timeseries' | 'stat';
  title: string;
  description?: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource: { type: 'prometheus'; uid: string };
  targets: (DashboardTarget & { datasource: { type: 'prometheus'; uid: string } })[];
  fieldConfig: { defaults: { unit: string; min?: number; max?: number; decimals?: number }; overrides: unknown[] };
  options: Record<string, unknown>;
}

const DS = { type: 'prometheus' as const, uid: '${datasource}' };
const RATE = '$__rate_interval';
const NS = PROMETHEUS_POD_LABELS.namespace;
const WL = PROMETHEUS_WORKLOAD_LABEL;
/** Inbound HTTP connection managers only (not the stats listener's own `prometheus` one). */
const INBOUND = `${ENVOY.hcmPrefix}=~"inbound_[0-9]+"`;
const INBOUND_LISTENER = `${ENVOY.listenerAddress}="${ENVOY.inboundListener}"`;
const OUTBOUND = `${ENVOY.clusterName}=~"outbound\\\\|.*"`;

/** A matcher list: non-empty parts joined by commas. */
const sel = (...parts: string[]) => parts.filter(Boolean).join(',');

/** Per-second requests of `metric{selector}`, summed by `by`. */
function rps(metric: string, selector: string, by = ''): string {
  return `sum${by ? ` by (${by})` : ''} (rate(${metric}{${selector}}[${RATE}]))`;
}

/**
 * Share of requests not answered 5xx, as `mesh stat` counts it ((total - 5xx) / total). The
 * `or ... * 0` keeps a group with no 5xx series at all (Envoy creates them on first use) at 100%.
 */
function success(total: string, classes: string, selector: string, by = ''): string {
  const t = rps(total, selector, by);
  const f = rps(classes, sel(selector, `${ENVOY.codeClass}="5"`), by);
  return `1 - (${f} or ${t} * 0) / ${t}`;
}

/** histogram_quantile over Envoy's millisecond buckets. */
function quantile(q: number, bucket: string, selector: string, by = ''): string {
  return `histogram_quantile(${q}, sum by (${by ? `${by}, ` : ''}le) (rate(${bucket}_bucket{${selector}}[${RATE}])))`;
}

function quantileTargets(bucket: string, selector: string): DashboardTarget[] {
  return [0.5, 0.95, 0.99].map((q, i) => ({ refId: String.fromCharCode(65 + i), expr: quantile(q, bucket, selector), legendFormat: `p${Math.round(q * 100)}` }));
}

interface PanelSpec {
  type: Panel['type'];
  title: string;
  description: string;
  unit: string;
  targets: DashboardTarget[];
  /** Width in grid columns (24 per row). */
  w: number;
  h?: number;
}

/** Lay panels out left to right, wrapping at 24 columns. */
function layout(specs: readonly PanelSpec[]): Panel[] {
  let x = 0;
  let y = 0;
  let rowH = 0;
  return specs.map((s, i) => {
    const h = s.h ?? (s.type === 'stat' ? 4 : 8);
    if (x + s.w > 24) {
      x = 0;
      y += rowH;
      rowH = 0;
    }
    const panel: Panel = {
      id: i + 1,
      type: s.type,
      title: s.title,
      description: s.description,
      gridPos: { x, y, w: s.w, h },
      datasource: DS,
      targets: s.targets.map((t) => ({ ...t, datasource: DS })),
      fieldConfig: { defaults: { unit: s.unit, ...(s.unit === 'percentunit' ? { min: 0, max: 1, decimals: 2 } : {}) }, overrides: [] },
      options: s.type === 'stat' ? { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'value', graphMode: 'area' } : { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'desc' } },
    };
    x += s.w;
    rowH = Math.max(rowH, h);
    return panel;
  });
}

const DATASOURCE_VAR = {
  name: 'datasource',
  label: 'Prometheus',
  type: 'datasource',
  query: 'prometheus',
  current: { text: 'Prometheus (mesh)', value: GRAFANA_DATASOURCE_UID },
  hide: 0,
};

function queryVar(name: string, label: string, query: string, opts: { all?: boolean; regex?: string } = {}): Record<string, unknown> {
  return {
    name,
    label,
    type: 'query',
    datasource: DS,
    query: { query, refId: `${name}-var` },
    definition: query,
    refresh: 2,
    sort: 1,
    regex: opts.regex ?? '',
    includeAll: opts.all === true,
    multi: opts.all === true,
    ...(opts.all ? { allValue: '.*', current: { text: 'All', value: '$__all' } } : {}),
    hide: 0,
  };
}

function dashboard(uid: string, title: string, vars: Record<string, unknown>[], specs: PanelSpec[]): Dashboard {
  return {
    uid,
    title,
    tags: ['mesh'],
    schemaVersion: 39,
    version: 1,
    editable: false,
    refresh: '30s',
    time: { from: 'now-30m', to: 'now' },
    timezone: 'browser',
    templating: { list: [DATASOURCE_VAR, ...vars] },
    panels: layout(specs),
  };
}

function overview(): Dashboard {
  const ns = `${NS}=~"$namespace"`;
  const inbound = sel(INBOUND, ns);
  const listener = sel(INBOUND_LISTENER, ns);
  const byWl = `${NS}, ${WL}`;
  return dashboard('mesh-overview', 'Mesh overview', [queryVar('namespace', 'Namespace', `label_values(${ENVOY.downstreamRq}, ${NS})`, { all: true })], [
    { type: 'stat', w: 6, title: 'Requests/s', unit: 'reqps', description: 'Requests received by meshed workloads (server side)', targets: [{ refId: 'A', expr: rps(ENVOY.downstreamRq, inbound), legendFormat: 'requests/s' }] },
    { type: 'stat', w: 6, title: 'Success rate', unit: 'percentunit', description: 'Share of requests not answered 5xx', targets: [{ refId: 'A', expr: success(ENVOY.downstreamRq, ENVOY.downstreamRqXx, inbound), legendFormat: 'success' }] },
    { type: 'stat', w: 6, title: 'mTLS share', unit: 'percentunit', description: 'Share of new inbound connections that completed a TLS handshake', targets: [{ refId: 'A', expr: `${rps(ENVOY.listenerSslHandshake, listener)} / ${rps(ENVOY.listenerCxTotal, listener)}`, legendFormat: 'mTLS' }] },
    { type: 'stat', w: 6, title: 'Proxies scraped', unit: 'short', description: 'Sidecars and gateways Prometheus reads', targets: [{ refId: 'A', expr: 'count by (job) (up{job=~"mesh-sidecars|mesh-gateways"} == 1)', legendFormat: '{{job}}' }] },
    { type: 'timeseries', w: 12, title: 'Latency', unit: 'ms', description: 'Server-side request duration quantiles over all meshed workloads', targets: quantileTargets(ENVOY.downstreamRqTime, inbound) },
    { type: 'timeseries', w: 12, title: 'Requests/s by workload', unit: 'reqps', description: 'Requests received, per workload', targets: [{ refId: 'A', expr: rps(ENVOY.downstreamRq, inbound, byWl), legendFormat: '{{namespace}}/{{workload}}' }] },
    { type: 'timeseries', w: 12, title: 'Success rate by workload', unit: 'percentunit', description: 'Share of requests not answered 5xx, per workload', targets: [{ refId: 'A', expr: success(ENVOY.downstreamRq, ENVOY.downstreamRqXx, inbound, byWl), legendFormat: '{{namespace}}/{{workload}}' }] },
    { type: 'timeseries', w: 12, title: 'p99 latency by workload', unit: 'ms', description: '99th percentile of server-side request duration, per workload', targets: [{ refId: 'A', expr: quantile(0.99, ENVOY.downstreamRqTime, inbound, byWl), legendFormat: '{{namespace}}/{{workload}}' }] },
  ]);
}

function service(): Dashboard {
  // Client side: every caller's outbound cluster for the Service (outbound|PORT|SUBSET|NAME.NS.svc.DOMAIN).
  const svc = `${ENVOY.clusterName}=~"outbound\\\\|[0-9]+\\\\|[^|]*\\\\|$service\\\\.$namespace\\\\.svc\\\\..+"`;
  return dashboard('mesh-service', 'Mesh service', [
    queryVar('namespace', 'Namespace', `label_values(${ENVOY.upstreamRq}{${OUTBOUND}}, ${ENVOY.clusterName})`, { regex: '/outbound\\|\\d+\\|[^|]*\\|[^.]+\\.([^.]+)\\.svc/' }),
    queryVar('service', 'Service', `label_values(${ENVOY.upstreamRq}{${OUTBOUND}}, ${ENVOY.clusterName})`, { regex: '/outbound\\|\\d+\\|[^|]*\\|([^.]+)\\.$namespace\\.svc/' }),
  ], [
    { type: 'stat', w: 8, title: 'Requests/s', unit: 'reqps', description: 'Requests sent to the Service by every meshed client', targets: [{ refId: 'A', expr: rps(ENVOY.upstreamRq, svc), legendFormat: 'requests/s' }] },
    { type: 'stat', w: 8, title: 'Success rate', unit: 'percentunit', description: 'Share of the Service\'s answers that were not 5xx, as its clients saw them', targets: [{ refId: 'A', expr: success(ENVOY.upstreamRq, ENVOY.upstreamRqXx, svc), legendFormat: 'success' }] },
    { type: 'stat', w: 8, title: 'mTLS share', unit: 'percentunit', description: 'Share of new client connections to the Service that completed a TLS handshake', targets: [{ refId: 'A', expr: `${rps(ENVOY.clusterSslHandshake, svc)} / ${rps(ENVOY.upstreamCxTotal, svc)}`, legendFormat: 'mTLS' }] },
    { type: 'timeseries', w: 12, title: 'Latency', unit: 'ms', description: 'Request duration quantiles, as the clients measured them', targets: quantileTargets(ENVOY.upstreamRqTime, svc) },
    { type: 'timeseries', w: 12, title: 'Requests/s by client workload', unit: 'reqps', description: 'Who calls the Service', targets: [{ refId: 'A', expr: rps(ENVOY.upstreamRq, svc, `${NS}, ${WL}`), legendFormat: '{{namespace}}/{{workload}}' }] },
  ]);
}

function workload(): Dashboard {
  const w = `${NS}="$namespace",${WL}="$workload"`;
  const inbound = sel(INBOUND, w);
  const out = sel(OUTBOUND, w);
  const listener = sel(INBOUND_LISTENER, w);
  return dashboard('mesh-workload', 'Mesh workload', [
    queryVar('namespace', 'Namespace', `label_values(${ENVOY.downstreamRq}, ${NS})`),
    queryVar('workload', 'Workload', `label_values(${ENVOY.downstreamRq}{${NS}="$namespace"}, ${WL})`),
  ], [
    { type: 'stat', w: 8, title: 'Inbound requests/s', unit: 'reqps', description: 'Requests the workload received', targets: [{ refId: 'A', expr: rps(ENVOY.downstreamRq, inbound), legendFormat: 'requests/s' }] },
    { type: 'stat', w: 8, title: 'Inbound success rate', unit: 'percentunit', description: 'Share of the workload\'s answers that were not 5xx', targets: [{ refId: 'A', expr: success(ENVOY.downstreamRq, ENVOY.downstreamRqXx, inbound), legendFormat: 'success' }] },
    { type: 'stat', w: 8, title: 'Inbound mTLS share', unit: 'percentunit', description: 'Share of new inbound connections that completed a TLS handshake', targets: [{ refId: 'A', expr: `${rps(ENVOY.listenerSslHandshake, listener)} / ${rps(ENVOY.listenerCxTotal, listener)}`, legendFormat: 'mTLS' }] },
    { type: 'timeseries', w: 12, title: 'Inbound latency', unit: 'ms', description: 'Server-side request duration quantiles', targets: quantileTargets(ENVOY.downstreamRqTime, inbound) },
    { type: 'timeseries', w: 12, title: 'Inbound requests/s by pod', unit: 'reqps', description: 'Requests received, per pod', targets: [{ refId: 'A', expr: rps(ENVOY.downstreamRq, inbound, PROMETHEUS_POD_LABELS.pod), legendFormat: '{{pod}}' }] },
    { type: 'timeseries', w: 12, title: 'Outbound requests/s by destination', unit: 'reqps', description: 'Requests the workload sent, per upstream cluster', targets: [{ refId: 'A', expr: rps(ENVOY.upstreamRq, out, ENVOY.clusterName), legendFormat: `{{${ENVOY.clusterName}}}` }] },
    { type: 'timeseries', w: 12, title: 'Outbound success rate by destination', unit: 'percentunit', description: 'Share of the answers the workload got that were not 5xx, per upstream cluster', targets: [{ refId: 'A', expr: success(ENVOY.upstreamRq, ENVOY.upstreamRqXx, out, ENVOY.clusterName), legendFormat: `{{${ENVOY.clusterName}}}` }] },
  ]);
}

function controlPlane(): Dashboard {
  const q = (p: number, m: string) => `histogram_quantile(${p}, sum by (le) (rate(${m}_bucket[${RATE}])))`;
  const quantiles = (m: string): DashboardTarget[] => [{ refId: 'A', expr: q(0.5, m), legendFormat: 'p50' }, { refId: 'B', expr: q(0.99, m), legendFormat: 'p99' }];
  return dashboard('mesh-control-plane', 'Mesh control plane', [], [
    { type: 'stat', w: 8, title: 'Connected proxies', unit: 'short', description: 'ADS streams open on all controller replicas', targets: [{ refId: 'A', expr: 'sum(mesh_xds_connected_proxies)', legendFormat: 'proxies' }] },
    { type: 'stat', w: 8, title: 'Certificates issued/s', unit: 'short', description: 'Workload certificates signed (SDS for sidecars, the CertificateService for proxyless agents)', targets: [{ refId: 'A', expr: `sum(rate(mesh_ca_certificates_issued_total[${RATE}]))`, legendFormat: 'issued/s' }] },
    { type: 'stat', w: 8, title: 'NACKs/s', unit: 'short', description: 'Configuration proxies rejected; anything above 0 needs a look (mesh proxy-status)', targets: [{ refId: 'A', expr: `sum(rate(mesh_xds_nacks_total[${RATE}]))`, legendFormat: 'NACKs/s' }] },
    { type: 'timeseries', w: 12, title: 'Connected proxies by type and version', unit: 'short', description: 'ADS streams by proxy type (sidecar, grpc) and the version each proxy reports', targets: [{ refId: 'A', expr: 'sum by (type, version) (mesh_xds_connected_proxies)', legendFormat: '{{type}} {{version}}' }] },
    { type: 'timeseries', w: 12, title: 'Pushes/s by type', unit: 'short', description: 'DiscoveryResponses sent, by resource type', targets: [{ refId: 'A', expr: `sum by (type) (rate(mesh_xds_pushes_total[${RATE}]))`, legendFormat: '{{type}}' }] },
    { type: 'timeseries', w: 12, title: 'NACKs/s by type', unit: 'short', description: 'DiscoveryRequests rejecting the config, by resource type', targets: [{ refId: 'A', expr: `sum by (type) (rate(mesh_xds_nacks_total[${RATE}]))`, legendFormat: '{{type}}' }] },
    { type: 'timeseries', w: 12, title: 'Push latency', unit: 's', description: 'From a source change to the response carrying it written to a stream', targets: quantiles('mesh_xds_push_latency_seconds') },
    { type: 'timeseries', w: 12, title: 'Snapshot build time', unit: 's', description: 'Time to translate and encode one snapshot', targets: quantiles('mesh_xds_snapshot_build_seconds') },
    { type: 'timeseries', w: 12, title: 'Certificate failures/s by reason', unit: 'short', description: 'Certificate requests refused or failed, by service (sds, csr) and reason', targets: [{ refId: 'A', expr: `sum by (service, reason) (rate(mesh_ca_certificates_failed_total[${RATE}]))`, legendFormat: '{{service}} {{reason}}' }] },
    { type: 'timeseries', w: 12, title: 'Webhook latency', unit: 's', description: 'Time to answer one admission request (sidecar injection)', targets: quantiles('mesh_webhook_request_duration_seconds') },
    { type: 'timeseries', w: 12, title: 'Webhook failures/s by reason', unit: 'short', description: 'Admission requests not injected for a failure', targets: [{ refId: 'A', expr: `sum by (reason) (rate(mesh_webhook_failures_total[${RATE}]))`, legendFormat: '{{reason}}' }] },
  ]);
}

/** The shipped dashboards, fresh objects each call, in a stable order. */
export function meshDashboards(): Dashboard[] {
  return [overview(), service(), workload(), controlPlane()];
}

/** File name of a dashboard in the Grafana addon's ConfigMap and in `--dashboards DIR`. */
export function dashboardFileName(d: Pick<Dashboard, 'uid'>): string {
  return `${d.uid}.json`;
}

/** The dashboards as files: name -> JSON text (two-space indented, trailing newline; same input, same bytes). */
export function dashboardFiles(): Record<string, string> {
  return Object.fromEntries(meshDashboards().map((d) => [dashboardFileName(d), `${JSON.stringify(d, null, 2)}\n`]));
}
