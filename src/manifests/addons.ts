import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import { CONTROLLER_NAME, LABEL_NAME, LABEL_PART_OF, LABEL_PROXY_VERSION, MESH_DOMAIN, PART_OF } from '../constants.js';
import type { KubeObject } from '../cluster/types.js';
import { usageError } from '../errors.js';
import { PROMETHEUS_POD_LABELS, PROMETHEUS_WORKLOAD_LABEL } from '../metrics/prometheus-api.js';
import { PROXY_METRICS_PATH } from '../metrics/scrape.js';
import { closest } from '../suggest.js';
import { dashboardFiles, GRAFANA_DATASOURCE_UID } from './dashboards.js';
import type { Values } from './values.js';

/**
 * The observability addons: Prometheus, Grafana and Jaeger, rendered from templates/addons.yaml
 * and the values (`addons.NAME.*`). Pure: the template text comes in as data.
 */

/** The addons, in the order they are listed and rendered. */
export const ADDON_NAMES = ['prometheus', 'grafana', 'jaeger'] as const;
/** One addon name. */
export type AddonName = (typeof ADDON_NAMES)[number];

/** Label on every addon object naming its addon (the renderer keeps those of enabled addons). */
export const LABEL_ADDON = `${MESH_DOMAIN}/addon`;

/**
 * The Service and port of each addon's UI in the mesh namespace (`mesh dashboard NAME`), with the
 * path the browser opens.
 */
export const ADDON_UI: Readonly<Record<AddonName, { service: string; port: number; path: string }>> = {
  prometheus: { service: 'prometheus', port: 9090, path: '/' },
  grafana: { service: 'grafana', port: 3000, path: '/d/mesh-overview' },
  jaeger: { service: 'jaeger', port: 16686, path: '/' },
};

/** Jaeger's OTLP receivers (Service `jaeger`): the trace backend when tracing is on and no endpoint is set. */
export const JAEGER_OTLP_GRPC_PORT = 4317;
/** Jaeger's OTLP/HTTP receiver port. */
export const JAEGER_OTLP_HTTP_PORT = 4318;
/** Jaeger's Zipkin receiver port (for `tracing.provider: zipkin`). */
export const JAEGER_ZIPKIN_PORT = 9411;

/** The Jaeger addon's Service receiving spans (OTLP and Zipkin); its UI is Service `jaeger`. */
export const JAEGER_COLLECTOR_SERVICE = 'jaeger-collector';

/**
 * `jaeger-collector.NS.svc:4317`: where sidecars send OTLP spans when the Jaeger addon is the
 * trace backend (the default of values tracing.endpoint names it in mesh-system); pass
 * JAEGER_ZIPKIN_PORT for tracing.provider zipkin.
 */
export function jaegerOtlpEndpoint(namespace: string, port: number = JAEGER_OTLP_GRPC_PORT): string {
  return `${JAEGER_COLLECTOR_SERVICE}.${namespace}.svc:${port}`;
}

/** `prometheus.NS.svc:9090` as a URL: what in-cluster readers of the addon's Prometheus use. */
export function prometheusServiceUrl(namespace: string): string {
  return `http://${ADDON_UI.prometheus.service}.${namespace}.svc:${ADDON_UI.prometheus.port}`;
}

/** Check one addon name: exit 2 naming it (and the closest known name) when it is not one. */
export function checkAddonName(name: string, source = '--addons'): AddonName {
  if ((ADDON_NAMES as readonly string[]).includes(name)) return name as AddonName;
  const near = closest(name, ADDON_NAMES);
  throw usageError(`${source}: unknown addon "${name}"`, `${near ? `did you mean "${near}"? ` : ''}addons: ${ADDON_NAMES.join(', ')}`);
}

/**
 * `--addons prometheus,grafana` (repeatable, comma-separated) as `--set addons.NAME.enabled=true`
 * expressions. An unknown name is exit 2 naming it; an empty list is too.
 */
export function addonSets(lists: readonly string[] | undefined): string[] {
  if (!lists) return [];
  const names = lists.flatMap((l) => l.split(',')).map((s) => s.trim());
  if (names.some((n) => n === '')) throw usageError(`--addons "${lists.join(',')}": an empty addon name`, `for example --addons ${ADDON_NAMES.join(',')}`);
  return [...new Set(names.map((n) => checkAddonName(n)))].map((n) => `addons.${n}.enabled=true`);
}

/** The enabled addons of `values`, in ADDON_NAMES order. */
export function enabledAddons(values: Values): AddonName[] {
  return ADDON_NAMES.filter((n) => values.addons[n].enabled);
}

/** Prometheus target labels every pod job sets: namespace, pod and the pod's workload. */
function podLabels(): Record<string, unknown>[] {
  return [
    { source_labels: ['__meta_kubernetes_pod_phase'], regex: 'Pending|Succeeded|Failed|Unknown', action: 'drop' },
    { source_labels: ['__meta_kubernetes_namespace'], target_label: PROMETHEUS_POD_LABELS.namespace },
    { source_labels: ['__meta_kubernetes_pod_name'], target_label: PROMETHEUS_POD_LABELS.pod },
    // The owning controller's name; a ReplicaSet's pod-template-hash suffix is cut to the Deployment's name.
    { source_labels: ['__meta_kubernetes_pod_controller_name'], target_label: PROMETHEUS_WORKLOAD_LABEL },
    { source_labels: ['__meta_kubernetes_pod_controller_kind', '__meta_kubernetes_pod_controller_name'], regex: 'ReplicaSet;(.+)-[a-z0-9]+', target_label: PROMETHEUS_WORKLOAD_LABEL, replacement: '$1' },
  ];
}

/** Prometheus's label name for a Kubernetes pod label (`__meta_kubernetes_pod_label_...`). */
function podLabelMeta(label: string): string {
  return `__meta_kubernetes_pod_label_${label.replace(/[^a-zA-Z0-9_]/g, '_')}`;
}

/** Label Gateway API implementations put on gateway pods; their Envoy serves the same stats port as a sidecar. */
export const GATEWAY_POD_LABEL = 'gateway.networking.k8s.io/gateway-name';

/** The scrape job names of the Prometheus addon (dashboards and docs name them). */
export const SCRAPE_JOBS = { sidecars: 'mesh-sidecars', gateways: 'mesh-gateways', controlPlane: 'mesh-control-plane' } as const;

/**
 * The Prometheus addon's configuration (prometheus.yml), as data. Three jobs over pod discovery
 * (the only thing its RBAC allows): injected pods' sidecars and gateway pods on the proxy stats
 * port, and the controller's /metrics in the mesh namespace. Every target is labelled namespace,
 * pod and workload, the labels `mesh stat --prometheus-url` and the dashboards read.
 */
export function prometheusConfig(values: Values): Record<string, unknown> {
  const statsPort = values.proxy.statsPort;
  // Pod discovery yields one target per container port; every one of a pod is rewritten to the
  // same address and labels, and Prometheus keeps one target per distinct label set.
  const proxyAddress = { source_labels: ['__meta_kubernetes_pod_ip'], regex: '(.+)', target_label: '__address__', replacement: `$1:${statsPort}` };
  const present = (label: string) => ({ source_labels: [podLabelMeta(label)], regex: '.+', action: 'keep' });
  return {
    global: { scrape_interval: '15s', scrape_timeout: '10s', evaluation_interval: '15s' },
    scrape_configs: [
      {
        job_name: SCRAPE_JOBS.sidecars,
        metrics_path: PROXY_METRICS_PATH,
        kubernetes_sd_configs: [{ role: 'pod' }],
        relabel_configs: [present(LABEL_PROXY_VERSION), proxyAddress, ...podLabels()],
      },
      {
        job_name: SCRAPE_JOBS.gateways,
        metrics_path: PROXY_METRICS_PATH,
        kubernetes_sd_configs: [{ role: 'pod' }],
        relabel_configs: [
          present(GATEWAY_POD_LABEL),
          // A gateway pod that is also injected is already read as a sidecar.
          { source_labels: [podLabelMeta(LABEL_PROXY_VERSION)], regex: '.+', action: 'drop' },
          proxyAddress,
          ...podLabels(),
        ],
      },
      {
        job_name: SCRAPE_JOBS.controlPlane,
        metrics_path: '/metrics',
        kubernetes_sd_configs: [{ role: 'pod', namespaces: { names: [values.namespace] }, selectors: [{ role: 'pod', label: `${LABEL_NAME}=${CONTROLLER_NAME}` }] }],
        relabel_configs: [{ source_labels: ['__meta_kubernetes_pod_container_port_name'], regex: 'http-metrics', action: 'keep' }, ...podLabels()],
      },
    ],
  };
}

/** prometheus.yml text for `values` (deterministic). */
export function prometheusConfigYaml(values: Values): string {
  return stringify(prometheusConfig(values), { lineWidth: 0, aliasDuplicateObjects: false });
}

/** Grafana's provisioning: the addon's Prometheus as the default datasource, and the mesh dashboards folder. */
export function grafanaProvisioning(namespace: string): Record<string, string> {
  const datasources = {
    apiVersion: 1,
    datasources: [{ name: 'Prometheus (mesh)', uid: GRAFANA_DATASOURCE_UID, type: 'prometheus', access: 'proxy', url: prometheusServiceUrl(namespace), isDefault: true, editable: false, jsonData: { timeInterval: '15s' } }],
  };
  const dashboards = {
    apiVersion: 1,
    providers: [{ name: 'mesh', folder: 'Mesh', type: 'file', disableDeletion: true, allowUiUpdates: false, options: { path: '/var/lib/grafana/dashboards/mesh' } }],
  };
  return { 'datasources.yaml': stringify(datasources, { lineWidth: 0 }), 'dashboards.yaml': stringify(dashboards, { lineWidth: 0 }) };
}

interface AddonContainer {
  image: string;
  resources?: unknown;
}
interface AddonPodTemplate {
  metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
  spec: { containers: AddonContainer[] };
}

const hash = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 16);

/**
 * The objects of the enabled addons, from the objects of templates/addons.yaml (fresh copies the
 * function may change), in template order. Namespace and common labels are the caller's
 * (renderManifests stamps them on everything).
 */
export function renderAddons(values: Values, templateObjects: KubeObject[]): KubeObject[] {
  const enabled = new Set<string>(enabledAddons(values));
  if (enabled.size === 0) return [];
  const config: Record<string, Record<string, string>> = {
    prometheus: { 'prometheus.yml': prometheusConfigYaml(values) },
    grafana: grafanaProvisioning(values.namespace),
    'grafana-dashboards': dashboardFiles(),
  };
  const out: KubeObject[] = [];
  for (const o of templateObjects) {
    const addon = o.metadata.labels?.[LABEL_ADDON] as AddonName | undefined;
    if (!addon || !enabled.has(addon)) continue;
    const a = values.addons[addon];
    if (o.kind === 'ConfigMap') o.data = config[o.metadata.name] ?? {};
    if (o.kind === 'ClusterRoleBinding') for (const s of (o.subjects as { namespace?: string }[] | undefined) ?? []) s.namespace = values.namespace;
    if (o.kind === 'Deployment') {
      const tpl = (o.spec as { template: AddonPodTemplate }).template;
      tpl.metadata.labels = { ...tpl.metadata.labels, [LABEL_PART_OF]: PART_OF };
      // Config read at start (Prometheus, Grafana provisioning): a changed config rolls the pod.
      const own = Object.entries(config).filter(([name]) => name === addon || name.startsWith(`${addon}-`)).map(([, d]) => JSON.stringify(d)).join('\n');
      if (own) tpl.metadata.annotations = { ...tpl.metadata.annotations, [`${MESH_DOMAIN}/config-hash`]: hash(own) };
      const c = tpl.spec.containers[0]!;
      c.image = a.image;
      c.resources = structuredClone(a.resources);
    }
    out.push(o);
  }
  return out;
}
