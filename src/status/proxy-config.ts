import type { Cluster, KubeObject } from '../cluster/types.js';
import type { ModelOptions } from '../model/index.js';
import type { Ui } from '../ui/context.js';
import { ExitCode, MeshError, usageError } from '../errors.js';
import { configDumpOf, controllerLocation, syncAll, XDS_TYPES, type ConfigDump, type ControllerLocation } from './controller-debug.js';
import type { ProxySync } from '../xds/syncz.js';
import type { Values } from '../manifests/values.js';
import { parsePodArg } from './proxy-status.js';
import { KINDS, parseResourceRef, type ResourceKind } from './workloads.js';
import { gatewayRefName } from '../cluster/resource-ref.js';
import { gatewaySecretKey } from '../xds/gateway.js';

/** The config sections `mesh proxy-config` shows. */
export const SECTIONS = ['cluster', 'listener', 'route', 'endpoint', 'secret'] as const;
export type Section = (typeof SECTIONS)[number];

const TYPE_OF: Record<Section, string> = { cluster: XDS_TYPES.CDS, listener: XDS_TYPES.LDS, route: XDS_TYPES.RDS, endpoint: XDS_TYPES.EDS, secret: XDS_TYPES.SDS };

/** Options of `mesh proxy-config`. */
export interface ProxyConfigOptions {
  sections: Section[];
  /** NAME or NAME.NAMESPACE (of a pod, or of the workload `kind` names). */
  pod: string;
  /** From a kubectl TYPE/NAME argument (deploy/web, sts/db, ds/agent, pod/web-1, gateway/edge); undefined for a bare NAME. */
  kind?: WorkloadKind | 'gateway';
  /** -n; live lookups default to "default", offline lookups search every namespace of the files. */
  namespace?: string;
  /** Offline: compute from these manifests instead of asking the controller. */
  files?: string[];
  output: 'table' | 'json' | 'yaml';
  controller: ControllerLocation;
  /** `show` a section (or all), `diff` the proxy against the control plane, change or show its `log` levels. */
  mode: 'show' | 'diff' | 'log';
  /** diff --from: a saved config_dump (JSON or YAML) stands in for the live proxy. */
  from?: string;
  /** log --level: every logger's new level. */
  level?: LogLevel;
  /** log --logger NAME=LEVEL: one logger's new level (applied after --level). */
  loggers?: { name: string; level: LogLevel }[];
}

/** Envoy's log levels, as its admin /logging takes them. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warning', 'error', 'critical', 'off'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

function logLevel(v: string, flag: string): LogLevel {
  const l = v.toLowerCase() === 'warn' ? 'warning' : v.toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(l)) throw usageError(`${flag}: unknown log level "${v}"`, `use one of: ${LOG_LEVELS.join(', ')}`);
  return l as LogLevel;
}

/** The kinds whose pods run a proxy: what `mesh proxy-config TYPE/NAME` accepts. */
export type WorkloadKind = Extract<ResourceKind, 'pod' | 'deploy' | 'sts' | 'ds'>;
const WORKLOAD_KINDS: readonly ResourceKind[] = ['pod', 'deploy', 'sts', 'ds'];

/**
 * POD, POD.NAMESPACE or kubectl's TYPE/NAME (deploy/web, deployment/web, sts/, ds/, pod/), read
 * with the one TYPE/NAME parser `mesh stat` uses. A Service or Namespace has no proxy of its own.
 */
export function parseProxyTarget(arg: string): { pod: string; kind?: WorkloadKind | 'gateway' } {
  if (!arg.includes('/')) return { pod: arg };
  // gateway/NAME: the proxies of an ingress Gateway (one shared config per Gateway).
  const gateway = gatewayRefName(arg, 'POD');
  if (gateway) return { pod: gateway, kind: 'gateway' };
  const ref = parseResourceRef(arg, 'POD');
  if (!WORKLOAD_KINDS.includes(ref.kind) || !ref.name) {
    throw usageError(`POD "${arg}" must name a pod, a workload or a Gateway`, 'use NAME, pod/NAME, deploy/NAME, sts/NAME, ds/NAME or gateway/NAME (a Service has no proxy of its own)');
  }
  return { pod: ref.name, kind: ref.kind as WorkloadKind };
}

/** Validate `mesh proxy-config` arguments (table-tested). */
export function validateProxyConfigOptions(raw: { section?: string; pod?: string; namespace?: string; files?: string[]; output: 'table' | 'json' | 'yaml'; meshNamespace?: string; controllerPort?: string; from?: string; level?: string; logger?: string[] }, defaults: ControllerLocation): ProxyConfigOptions {
  const verb = raw.section?.toLowerCase();
  const mode = verb === 'diff' || verb === 'log' ? verb : 'show';
  const section = raw.section?.toLowerCase().replace(/s$/, '');
  if (mode === 'show' && (!section || (section !== 'all' && !(SECTIONS as readonly string[]).includes(section)))) {
    throw usageError(`unknown config section "${raw.section ?? ''}"`, `use one of: ${[...SECTIONS, 'all', 'diff', 'log'].join(', ')} (e.g. mesh proxy-config cluster web-1 -n shop)`);
  }
  if (!raw.pod) throw usageError(`name the pod: mesh proxy-config ${mode === 'show' ? 'SECTION' : mode} POD[.NAMESPACE]`);
  const target = parseProxyTarget(raw.pod);
  const files = raw.files && raw.files.length ? raw.files : undefined;
  if (raw.from !== undefined && mode !== 'diff') throw usageError('--from is for "mesh proxy-config diff"', 'mesh proxy-config diff POD --from saved-config-dump.json [-f DIR]');
  if ((raw.level !== undefined || raw.logger?.length) && mode !== 'log') throw usageError('--level and --logger are for "mesh proxy-config log"', 'mesh proxy-config log POD --level debug');
  if (mode === 'log' && files) throw usageError('mesh proxy-config log changes a running proxy: it takes no -f', 'drop -f and name a running pod');
  const loggers = (raw.logger ?? []).map((l) => {
    const eq = l.indexOf('=');
    if (eq <= 0) throw usageError(`--logger "${l}": not NAME=LEVEL`, 'e.g. --logger http=debug --logger upstream=trace');
    return { name: l.slice(0, eq), level: logLevel(l.slice(eq + 1), `--logger ${l.slice(0, eq)}`) };
  });
  return {
    sections: section === 'all' || mode !== 'show' ? [...SECTIONS] : [section as Section],
    ...target,
    namespace: raw.namespace || undefined,
    files,
    output: raw.output,
    controller: controllerLocation(raw, defaults),
    mode,
    ...(raw.from !== undefined ? { from: raw.from } : {}),
    ...(raw.level !== undefined ? { level: logLevel(raw.level, '--level') } : {}),
    ...(loggers.length ? { loggers } : {}),
  };
}

/** The first running pod (by name) of a workload, as `kubectl logs deploy/NAME` picks one. */
async function firstPodOf(cluster: Cluster, kind: Exclude<WorkloadKind, 'pod'>, name: string, namespace: string): Promise<string> {
  const { apiVersion, kind: k } = KINDS[kind];
  const w = await cluster.get(apiVersion, k, name, namespace);
  if (!w) throw new MeshError(`${k} ${namespace}/${name} not found`, { hint: `check the name and -n (kubectl get ${kind} -n ${namespace})` });
  const labels = ((w.spec ?? {}) as { selector?: { matchLabels?: Record<string, string> } }).selector?.matchLabels ?? {};
  const labelSelector = Object.entries(labels).map(([key, v]) => `${key}=${v}`).join(',');
  const pods = (await cluster.list('v1', 'Pod', { namespace, labelSelector })).filter((p) => (p.status as { phase?: string } | undefined)?.phase === 'Running');
  const first = pods.map((p) => p.metadata.name).sort()[0];
  if (!first) throw new MeshError(`${k} ${namespace}/${name} has no running pod`, { hint: `kubectl get pods -n ${namespace} -l ${labelSelector}` });
  return first;
}

/** The pod (name and namespace) POD or TYPE/NAME stands for, live. */
async function livePodRef(cluster: Cluster, opts: ProxyConfigOptions): Promise<{ name: string; namespace: string }> {
  const want = parsePodArg(opts.pod, opts.namespace ?? cluster.defaultNamespace ?? 'default');
  const namespace = want.namespace ?? 'default';
  if (opts.kind === 'gateway') {
    throw usageError(`gateway/${want.name} has several proxies: name one of its pods for diff and log`, `kubectl get pods -n ${namespace} (the pods of Deployment ${want.name}-mesh), then mesh proxy-config ${opts.mode} POD -n ${namespace}`);
  }
  if (opts.kind && opts.kind !== 'pod') return { name: await firstPodOf(cluster, opts.kind, want.name, namespace), namespace };
  return { name: want.name, namespace };
}

/** Ask the controller replica that holds the proxy for its config (live), with the proxy's sync state (when it got each type). */
export async function liveDump(cluster: Cluster, opts: ProxyConfigOptions): Promise<{ dump: ConfigDump; replica: string; proxy: ProxySync }> {
  if (opts.kind === 'gateway') {
    const g = parsePodArg(opts.pod, opts.namespace ?? cluster.defaultNamespace ?? 'default');
    return gatewayDump(cluster, opts, g.namespace ?? 'default', g.name);
  }
  const want = await livePodRef(cluster, opts);
  const replicas = await syncAll(cluster, opts.controller);
  for (const r of replicas) {
    const p = r.syncz?.proxies.find((x) => (!opts.kind && x.id === opts.pod) || (x.pod === want.name && x.namespace === want.namespace));
    if (!p) continue;
    const res = await configDumpOf(cluster, opts.controller, r.pod, p.id);
    if (res.value) return { dump: res.value, replica: r.pod, proxy: p };
    throw new MeshError(`controller replica ${r.pod} has no config for proxy ${p.id}: ${res.error}`, { hint: 'the proxy may have just disconnected: run "mesh proxy-status" and retry' });
  }
  throw new MeshError(`no controller replica has a proxy for pod ${want.name} in namespace ${want.namespace}`, {
    hint: `check "mesh proxy-status ${want.name}.${want.namespace}"; to see the config it would get, use -f with your manifests`,
  });
}

/** The config of a Gateway's proxies: every replica shares it, so the first connected one answers. */
async function gatewayDump(cluster: Cluster, opts: ProxyConfigOptions, namespace: string, name: string): Promise<{ dump: ConfigDump; replica: string; proxy: ProxySync }> {
  const replicas = await syncAll(cluster, opts.controller);
  for (const r of replicas) {
    const p = r.syncz?.proxies.find((x) => x.kind === 'gateway' && x.gateway === name && x.namespace === namespace && x.connected);
    if (!p) continue;
    const res = await configDumpOf(cluster, opts.controller, r.pod, p.id);
    if (res.value) return { dump: res.value, replica: r.pod, proxy: p };
    throw new MeshError(`controller replica ${r.pod} has no config for gateway proxy ${p.id}: ${res.error}`, { hint: 'the proxy may have just disconnected: run "mesh proxy-status" and retry' });
  }
  throw new MeshError(`no proxy of Gateway ${namespace}/${name} is connected to a controller replica`, {
    hint: `check its Deployment (kubectl get deploy ${name}-mesh -n ${namespace}) and "mesh proxy-status"; to see the config it would get, use -f with your manifests`,
  });
}

/** A Pod from a workload's template, so `-f` works on manifests that hold Deployments rather than Pods. */
function podFromTemplate(w: KubeObject, name: string): KubeObject {
  const template = ((w.spec ?? {}) as { template?: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: unknown } }).template ?? {};
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: w.metadata.namespace, labels: template.metadata?.labels ?? {}, annotations: template.metadata?.annotations ?? {} }, spec: template.spec ?? {}, status: { phase: 'Running' } };
}

/**
 * Compute the config offline from manifests with the controller's own model and translation
 * (src/model buildModel, src/xds resourcesFor). POD may name a Pod or a Deployment, StatefulSet or
 * DaemonSet (its pod template stands in for the pod).
 */
export async function offlineDump(files: string[], opts: ProxyConfigOptions): Promise<ConfigDump> {
  return (await offlineConfig(files, opts)).dump;
}

/** offlineDump with the pod it computed for and every object of the files (for the bootstrap). */
async function offlineConfig(files: string[], opts: ProxyConfigOptions): Promise<{ dump: ConfigDump; pod?: KubeObject; objects: KubeObject[] }> {
  const { FilesSource } = await import('../cluster/files-source.js');
  const { buildModel } = await import('../model/index.js');
  const { resourcesFor } = await import('../xds/translate.js');
  const want = parsePodArg(opts.pod, opts.namespace);
  const objects = (await new FilesSource(files, { watchFiles: false }).list()).map((o) => o.object);
  const fallbackNs = opts.namespace ?? 'default';
  const nsOf = (o: KubeObject) => o.metadata.namespace ?? fallbackNs;
  const clusterScoped = new Set(['Namespace', 'CustomResourceDefinition', 'GatewayClass']);
  for (const o of objects) if (o.metadata.namespace === undefined && !clusterScoped.has(o.kind)) o.metadata.namespace = fallbackNs;
  const inNs = (o: KubeObject) => (want.namespace ? nsOf(o) === want.namespace : true);
  if (opts.kind === 'gateway') {
    const gw = objects.find((o) => o.kind === 'Gateway' && o.apiVersion.startsWith('gateway.networking.k8s.io/') && o.metadata.name === want.name && inNs(o));
    if (!gw) throw new MeshError(`no Gateway named ${want.name}${want.namespace ? ` in namespace ${want.namespace}` : ''} in ${files.join(', ')}`, { hint: 'name a Gateway from the files (gateway/NAME -n NAMESPACE)', exitCode: ExitCode.Usage });
    const model = buildModel(objects);
    const namespace = nsOf(gw);
    if (!(model.gateways ?? []).some((g) => g.name === want.name && g.namespace === namespace)) {
      throw new MeshError(`Gateway ${namespace}/${want.name} is not of a mesh GatewayClass (controllerName mesh.dev/gateway-controller) in ${files.join(', ')}`, { hint: 'include its GatewayClass in the files', exitCode: ExitCode.Usage });
    }
    const id = `gateway~${want.name}.${namespace}`;
    const res = resourcesFor(model, { id, kind: 'gateway', namespace, gateway: want.name });
    const types: ConfigDump['types'] = {};
    for (const [t, byName] of Object.entries(res)) types[t] = { resources: Object.values(byName) as Record<string, unknown>[] };
    // A Gateway's proxies are not pods of the files: no pod, no bootstrap.
    return { dump: { id, snapshotVersion: 'offline', types }, objects };
  }
  // A TYPE/NAME argument names exactly one kind; a bare NAME is a Pod, else a workload of that name.
  const kind = opts.kind;
  const podKinds = kind ? [KINDS[kind].kind] : ['Pod'];
  const workloadKinds = kind ? (kind === 'pod' ? [] : [KINDS[kind].kind]) : ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job'];
  let pod = podKinds.includes('Pod') ? objects.find((o) => o.kind === 'Pod' && o.metadata.name === want.name && inNs(o)) : undefined;
  if (!pod) {
    const w = objects.find((o) => workloadKinds.includes(o.kind) && o.metadata.name === want.name && inNs(o));
    if (w) {
      pod = podFromTemplate(w, want.name);
      objects.push(pod);
    }
  }
  if (!pod) {
    throw new MeshError(`no Pod or workload named ${want.name}${want.namespace ? ` in namespace ${want.namespace}` : ''} in ${files.join(', ')}`, {
      hint: 'name a Pod, Deployment, StatefulSet or DaemonSet from the files (NAME or NAME.NAMESPACE)',
      exitCode: ExitCode.Usage,
    });
  }
  const namespace = nsOf(pod);
  const model = buildModel(objects, await installedModelOptions(objects));
  const res = resourcesFor(model, { id: `sidecar~${want.name}.${namespace}`, kind: 'sidecar', namespace, pod: want.name });
  const types: ConfigDump['types'] = {};
  for (const [t, byName] of Object.entries(res)) types[t] = { resources: Object.values(byName) as Record<string, unknown>[] };
  return { dump: { id: `sidecar~${want.name}.${namespace}`, snapshotVersion: 'offline', types }, pod, objects };
}

/**
 * The model options of the mesh installed by the rendered install among `objects` (the mesh-config
 * ConfigMap that `mesh manifest generate` writes): its trust domain, default mTLS, tracing and
 * access logs, as the controller would run with them. Defaults when the files hold no install.
 */
export async function installedModelOptions(objects: readonly KubeObject[]): Promise<ModelOptions> {
  const values = await installedValues(objects);
  if (!values) return {};
  const { modelOptionsOf } = await import('../manifests/values.js');
  return modelOptionsOf(values);
}

/** The values of the rendered install among `objects` (its mesh-config ConfigMap), or undefined when the files hold none. */
async function installedValues(objects: readonly KubeObject[]): Promise<Values | undefined> {
  const { MESH_CONFIG_KEY, MESH_CONFIG_NAME } = await import('../constants.js');
  const cm = objects.find((o) => o.kind === 'ConfigMap' && o.apiVersion === 'v1' && o.metadata.name === MESH_CONFIG_NAME && typeof (o.data as Record<string, unknown> | undefined)?.[MESH_CONFIG_KEY] === 'string');
  if (!cm) return undefined;
  const { parseValuesYaml } = await import('../cluster/values-files.js');
  const { resolveValues } = await import('../manifests/values.js');
  const text = (cm.data as Record<string, string>)[MESH_CONFIG_KEY] as string;
  const source = `ConfigMap ${cm.metadata.namespace ?? ''}/${MESH_CONFIG_NAME}`;
  return resolveValues({ files: [{ source, values: parseValuesYaml(text, source) }] });
}

/**
 * The bootstrap of a pod from files: its own mesh-init flags when the manifests are injected, else
 * the ones `mesh inject` would give it with the installed values (defaults without an install).
 */
async function offlineBootstrap(pod: KubeObject, objects: readonly KubeObject[]): Promise<Record<string, unknown> | undefined> {
  const { bootstrapJsonOfPod } = await import('./proxy-admin.js');
  const own = bootstrapJsonOfPod(pod);
  if (own) return own;
  const { injectObject } = await import('../manifests/inject.js');
  const { resolveValues } = await import('../manifests/values.js');
  const values = (await installedValues(objects)) ?? resolveValues({});
  return bootstrapJsonOfPod(injectObject(structuredClone(pod), values, { nativeSidecar: false }).object);
}

type Msg = Record<string, unknown>;
const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));
const obj = (v: unknown): Msg => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Msg) : {});
const arr = (v: unknown): Msg[] => (Array.isArray(v) ? (v as Msg[]) : []);

/** Certificate metadata of one secret: never key material, only what certInfo reports. */
export interface SecretView {
  name: string;
  /** `certificate` (workload identity: the leaf, then its CA chain) or `trust bundle` (roots). */
  type: string;
  /** Certificates in the secret, in order; for `certificate` the first is the workload's own. */
  certificates: { subject: string; spiffeId: string | null; notBefore: string; notAfter: string; serial: string; isCA: boolean; issuer: string }[];
  /** Why there are no certificates (redacted by the controller, issued at run time, ...). */
  note?: string;
}

function pemFrom(source: unknown): string | undefined {
  const ds = obj(source);
  for (const v of [ds.inline_string, ds.inline_bytes]) {
    if (typeof v === 'string') {
      if (v.includes('-----BEGIN')) return v;
      const decoded = Buffer.from(v, 'base64').toString('utf8');
      if (decoded.includes('-----BEGIN')) return decoded;
    }
    const b = obj(v);
    if (b.type === 'Buffer' && Array.isArray(b.data)) return Buffer.from(b.data as number[]).toString('utf8');
  }
  return undefined;
}

/** Secrets as certificate metadata (PEM blocks parsed with src/pki certInfo); keys are never read. */
export async function secretViews(resources: readonly Msg[], offlineRefs: readonly string[] = []): Promise<SecretView[]> {
  const { certInfo } = await import('../pki/info.js');
  const out: SecretView[] = [];
  for (const r of resources) {
    const tls = obj(r.tls_certificate);
    const vc = obj(r.validation_context);
    const isCert = Object.keys(tls).length > 0;
    const source = isCert ? tls.certificate_chain : vc.trusted_ca;
    const pem = pemFrom(source);
    const view: SecretView = { name: str(r.name), type: isCert ? 'certificate' : 'trust bundle', certificates: [] };
    if (!pem) {
      view.note = JSON.stringify(source ?? null).includes('redacted') ? 'certificate redacted by the controller' : 'no inline certificate';
    } else {
      for (const block of pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []) {
        const c = certInfo(block, `secret ${view.name}`);
        view.certificates.push({ subject: c.subject, spiffeId: c.spiffeId, notBefore: c.notBefore, notAfter: c.notAfter, serial: c.serial, isCA: c.isCA, issuer: c.issuer });
      }
    }
    out.push(view);
  }
  for (const name of offlineRefs) {
    if (out.some((v) => v.name === name)) continue;
    const secret = gatewaySecretKey(name);
    // A Gateway listener's certificate: the Secret's own, never read or shown offline (it holds the key).
    const note = secret ? `TLS Secret ${secret}, served over SDS to the Gateway's own proxies only` : 'issued at run time by the mesh CA over SDS (not in manifests)';
    out.push({ name, type: 'sds', certificates: [], note });
  }
  return out;
}

/** SDS secret names a config refers to (offline there are no secrets, only references). */
function sdsRefs(dump: ConfigDump): string[] {
  const names = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === 'object' && v !== null) {
      for (const [k, x] of Object.entries(v)) {
        if ((k === 'tls_certificate_sds_secret_configs' || k === 'validation_context_sds_secret_config') && x) for (const c of Array.isArray(x) ? x : [x]) names.add(str(obj(c).name));
        else walk(x);
      }
    }
  };
  walk(dump.types);
  return [...names].filter(Boolean).sort();
}

function humanDuration(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  const v = s >= 86400 ? `${Math.floor(s / 86400)}d${Math.floor((s % 86400) / 3600)}h` : s >= 3600 ? `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m` : `${Math.floor(s / 60)}m`;
  return ms < 0 ? `expired ${v} ago` : v;
}

/** Render one section as a kubectl-style table. */
async function sectionTable(section: Section, resources: readonly Msg[], dump: ConfigDump, now: number): Promise<string> {
  const { renderTable } = await import('../ui/output.js');
  const sorted = [...resources].sort((a, b) => str(a.name ?? a.cluster_name).localeCompare(str(b.name ?? b.cluster_name)));
  switch (section) {
    case 'cluster':
      return renderTable(sorted, [
        { header: 'NAME', value: (c) => str(c.name) },
        { header: 'SERVICE FQDN', value: (c) => str(c.name).split('|')[3] ?? '' },
        { header: 'PORT', value: (c) => str(c.name).split('|')[1] ?? '' },
        { header: 'DIRECTION', value: (c) => (str(c.name).includes('|') ? str(c.name).split('|')[0]! : '') },
        { header: 'TYPE', value: (c) => str(c.type ?? (c.eds_cluster_config ? 'EDS' : '')) },
      ], { emptyMessage: 'No clusters.' });
    case 'listener':
      return renderTable(sorted, [
        { header: 'NAME', value: (l) => str(l.name) },
        { header: 'ADDRESS', value: (l) => str(obj(obj(l.address).socket_address).address) || (l.api_listener ? 'api listener' : '') },
        { header: 'PORT', value: (l) => str(obj(obj(l.address).socket_address).port_value) },
        { header: 'DIRECTION', value: (l) => str(l.traffic_direction) },
        { header: 'CHAINS', value: (l) => arr(l.filter_chains).length },
      ], { emptyMessage: 'No listeners.' });
    case 'route':
      return renderTable(sorted, [
        { header: 'NAME', value: (r) => str(r.name) },
        { header: 'VIRTUAL HOSTS', value: (r) => arr(r.virtual_hosts).length },
        { header: 'DOMAINS', value: (r) => { const d = arr(r.virtual_hosts).flatMap((v) => (Array.isArray(v.domains) ? (v.domains as string[]) : [])); return d.slice(0, 3).join(',') + (d.length > 3 ? ` +${d.length - 3}` : ''); } },
        { header: 'ROUTES', value: (r) => arr(r.virtual_hosts).reduce((n, v) => n + arr(v.routes).length, 0) },
      ], { emptyMessage: 'No routes.' });
    case 'endpoint': {
      const rows = sorted.flatMap((cla) => arr(cla.endpoints).flatMap((loc) => arr(loc.lb_endpoints).map((e) => ({ cluster: str(cla.cluster_name), e }))));
      return renderTable(rows, [
        { header: 'ENDPOINT', value: (r) => { const sa = obj(obj(obj(r.e.endpoint).address).socket_address); return `${str(sa.address)}:${str(sa.port_value)}`; } },
        { header: 'STATUS', value: (r) => str(r.e.health_status) || 'UNKNOWN' },
        { header: 'WEIGHT', value: (r) => str(obj(r.e.load_balancing_weight).value) || '1' },
        { header: 'CLUSTER', value: (r) => r.cluster },
      ], { emptyMessage: 'No endpoints.' });
    }
    case 'secret': {
      const views = await secretViews(sorted, dump.snapshotVersion === 'offline' ? sdsRefs(dump) : []);
      type Row = { v: SecretView; c: SecretView['certificates'][number] | undefined };
      const rows: Row[] = views.flatMap((v): Row[] => (v.certificates.length ? v.certificates.map((c) => ({ v, c })) : [{ v, c: undefined }]));
      return renderTable<Row>(rows, [
        { header: 'NAME', value: (r) => r.v.name },
        // A CA inside a workload's chain is its issuer; in a trust bundle it is a root.
        { header: 'TYPE', value: (r) => (r.c?.isCA ? (r.v.type === 'certificate' ? 'CA (chain)' : 'root CA') : r.v.type) },
        { header: 'SUBJECT', value: (r) => r.c?.subject ?? r.v.note ?? '' },
        { header: 'SPIFFE ID', value: (r) => r.c?.spiffeId ?? '' },
        { header: 'SERIAL', value: (r) => r.c?.serial ?? '' },
        { header: 'NOT BEFORE', value: (r) => r.c?.notBefore ?? '' },
        { header: 'NOT AFTER', value: (r) => r.c?.notAfter ?? '' },
        { header: 'EXPIRES IN', value: (r) => (r.c ? humanDuration(Date.parse(r.c.notAfter) - now) : '') },
      ], { emptyMessage: 'No secrets.' });
    }
  }
}

/**
 * What `mesh proxy-config -o json` prints (and the dashboard shows): the proxy, its snapshot version
 * and each section as canonical proto3 JSON; secrets as certificate metadata only.
 */
export async function proxyConfigData(dump: ConfigDump, sections: readonly Section[]): Promise<Record<string, unknown>> {
  const resourcesOf = (s: Section) => (dump.types[TYPE_OF[s]]?.resources ?? []) as Msg[];
  const data: Record<string, unknown> = { proxy: dump.id, snapshotVersion: dump.snapshotVersion ?? null };
  // Canonical proto3 JSON, as Envoy's config_dump prints it ("10s", bare wrapper values), so it diffs against a real Envoy.
  const { toProto3Json } = await import('../xds/json.js');
  for (const s of sections) data[`${s}s`] = s === 'secret' ? await secretViews(resourcesOf(s), dump.snapshotVersion === 'offline' ? sdsRefs(dump) : []) : resourcesOf(s).map((r) => toProto3Json(TYPE_OF[s], r));
  return data;
}

/** Run `mesh proxy-config`: live from the controller, or offline from `-f` manifests. */
export async function runProxyConfig(opts: ProxyConfigOptions, ui: Ui, connect: () => Promise<Cluster>, now = Date.now()): Promise<number> {
  if (opts.mode === 'log') return runProxyLog(opts, ui, await connect());
  if (opts.mode === 'diff') return runProxyDiff(opts, ui, connect, now);
  const { dump, envoy } = await planeConfig(opts, ui, connect, now);
  const resourcesOf = (s: Section) => (dump.types[TYPE_OF[s]]?.resources ?? []) as Msg[];
  if (opts.output !== 'table') {
    const { renderData } = await import('../ui/output.js');
    // `all` is Envoy's own /config_dump document (envoy.admin.v3.ConfigDump); one section keeps its list form.
    ui.out.write(renderData(opts.sections.length === SECTIONS.length ? envoy() : await proxyConfigData(dump, opts.sections), opts.output));
    return ExitCode.Ok;
  }
  const parts: string[] = [];
  for (const s of opts.sections) {
    const table = await sectionTable(s, resourcesOf(s), dump, now);
    parts.push(opts.sections.length > 1 ? `${s.toUpperCase()}S\n${table}` : table);
  }
  ui.out.write(parts.join('\n'));
  return ExitCode.Ok;
}

/**
 * The config the control plane gives the proxy: live from the controller replica that holds it, or
 * offline from `-f`; `envoy()` builds it as Envoy's ConfigDump, with the pod's bootstrap and, live,
 * when the proxy got each type (its ACK, else the push), offline the time it was computed.
 */
async function planeConfig(opts: ProxyConfigOptions, ui: Ui, connect: () => Promise<Cluster>, now: number): Promise<{ dump: ConfigDump; envoy: () => import('./config-dump.js').EnvoyConfigDump }> {
  const { envoyConfigDump } = await import('./config-dump.js');
  if (opts.files) {
    const off = await offlineConfig(opts.files, opts);
    ui.err.write(ui.color.dim(`computed offline from ${opts.files.join(', ')} with the controller's translation (proxy ${off.dump.id})`) + '\n');
    const bootstrap = off.pod ? await offlineBootstrap(off.pod, off.objects) : undefined;
    const at = new Date(now).toISOString();
    return { dump: off.dump, envoy: () => envoyConfigDump(off.dump, { ...(bootstrap ? { bootstrap } : {}), updatedAt: () => at }) };
  }
  const cluster = await connect();
  const live = await liveDump(cluster, opts);
  ui.err.write(ui.color.dim(`from controller replica ${live.replica}, proxy ${live.dump.id}, snapshot ${live.dump.snapshotVersion ?? '-'}`) + '\n');
  const { bootstrapJsonOfPod } = await import('./proxy-admin.js');
  const pod = live.proxy.pod ? await cluster.get('v1', 'Pod', live.proxy.pod, live.proxy.namespace ?? 'default') : undefined;
  const bootstrap = pod ? bootstrapJsonOfPod(pod) : undefined;
  const newest = live.proxy.streams[live.proxy.streams.length - 1];
  const updatedAt = (t: string): string | undefined => {
    const ts = newest?.types[t];
    if (t === 'bootstrap') return newest?.connectedAt || undefined;
    return (ts?.ackedVersion !== undefined && ts.ackedVersion === ts.sentVersion ? ts.ackedAt : ts?.sentAt) || undefined;
  };
  return { dump: live.dump, envoy: () => envoyConfigDump(live.dump, { ...(bootstrap ? { bootstrap } : {}), updatedAt }) };
}

/** The pod behind POD / TYPE/NAME on the live cluster (for its admin port). */
async function livePod(cluster: Cluster, opts: ProxyConfigOptions): Promise<KubeObject> {
  const ref = await livePodRef(cluster, opts);
  const pod = await cluster.get('v1', 'Pod', ref.name, ref.namespace);
  if (!pod) throw new MeshError(`pod ${ref.namespace}/${ref.name} not found`, { hint: `check the name and -n (kubectl get pods -n ${ref.namespace})` });
  return pod;
}

/** GET a pod proxy's own /config_dump (with EDS) through its admin port. */
async function proxyHeldDump(cluster: Cluster, pod: KubeObject): Promise<unknown> {
  const { adminPortOf, adminRequest } = await import('./proxy-admin.js');
  const target = { namespace: pod.metadata.namespace ?? 'default', pod: pod.metadata.name, port: adminPortOf(pod) };
  const res = await adminRequest(cluster, target, 'GET', '/config_dump?include_eds');
  if (res.status !== 200) throw new MeshError(`the proxy of pod ${target.namespace}/${target.pod} answered /config_dump with HTTP ${res.status}: ${res.body.trim().split('\n')[0]?.slice(0, 200) ?? ''}`, { hint: 'is the pod meshed (mesh-proxy container running)?' });
  try {
    return JSON.parse(res.body) as unknown;
  } catch {
    throw new MeshError(`the proxy of pod ${target.namespace}/${target.pod} answered /config_dump with something that is not JSON`, { hint: `is port ${target.port} the proxy's admin port?` });
  }
}

/** Read a saved config_dump (JSON or YAML, e.g. `kubectl exec POD -c mesh-proxy -- curl -s localhost:15000/config_dump?include_eds > dump.json`). */
async function savedDump(file: string): Promise<unknown> {
  const { readFile } = await import('node:fs/promises');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new MeshError(`--from ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`, { hint: 'save one with: kubectl exec POD -c mesh-proxy -- curl -s "localhost:15000/config_dump?include_eds" > dump.json', exitCode: ExitCode.Usage });
  }
  const { parse } = await import('yaml');
  try {
    return parse(text) as unknown;
  } catch (err) {
    throw new MeshError(`--from ${file}: not JSON or YAML (${(err as Error).message.split('\n')[0]})`, { exitCode: ExitCode.Usage });
  }
}

/**
 * `mesh proxy-config diff POD`: what the proxy holds (its admin /config_dump, or --from a saved one)
 * against what the control plane would send it now (the controller's per-proxy config, or -f
 * offline), resource by resource. Exit 0 same, 1 differs, as `kubectl diff`.
 */
async function runProxyDiff(opts: ProxyConfigOptions, ui: Ui, connect: () => Promise<Cluster>, now: number): Promise<number> {
  const { diffResources, dynamicResources } = await import('./config-dump.js');
  const { diffDocument, formatDiffs } = await import('../manifests/diff.js');
  let connected: Promise<Cluster> | undefined;
  const once = () => (connected ??= connect());
  const plane = await planeConfig(opts, ui, once, now);
  let heldDoc: unknown;
  let heldFrom: string;
  if (opts.from) {
    heldDoc = await savedDump(opts.from);
    heldFrom = opts.from;
  } else {
    const cluster = await once();
    const pod = await livePod(cluster, opts);
    heldDoc = await proxyHeldDump(cluster, pod);
    heldFrom = `the proxy of pod ${pod.metadata.namespace ?? 'default'}/${pod.metadata.name}`;
  }
  let held;
  try {
    held = dynamicResources(heldDoc);
  } catch (err) {
    throw new MeshError(`${heldFrom}: ${(err as Error).message}`, { hint: 'give Envoy\'s /config_dump output (envoy.admin.v3.ConfigDump)', exitCode: opts.from ? ExitCode.Usage : ExitCode.Failed });
  }
  const wanted = dynamicResources(plane.envoy());
  // Offline there are no secrets to compare: the CA issues them to the running proxy over SDS.
  const ignoreTypes = opts.files ? [XDS_TYPES.SDS] : [];
  if (opts.files) ui.err.write(ui.color.dim('secrets not compared: offline there are none (issued at run time over SDS)') + '\n');
  const diffs = diffResources(held, wanted, { ignoreTypes });
  const compared = new Set([...held, ...wanted].filter((r) => !ignoreTypes.includes(r.typeUrl as typeof XDS_TYPES.SDS)).map((r) => r.ref)).size;
  if (opts.output !== 'table') {
    const { renderData } = await import('../ui/output.js');
    ui.out.write(renderData({ proxy: plane.dump.id, held: heldFrom, compared, ...diffDocument(diffs) }, opts.output));
  } else if (diffs.length) {
    ui.out.write(formatDiffs(diffs, ui.color));
    const n = (c: string) => diffs.filter((d) => d.change === c).length;
    ui.err.write(`${heldFrom} differs from what the control plane would send: ${n('changed')} changed, ${n('added')} to add, ${n('removed')} to remove (of ${compared} resources)\n`);
  } else {
    ui.out.write(`same: ${heldFrom} holds what the control plane would send (${compared} resources)\n`);
  }
  return diffs.length ? ExitCode.Failed : ExitCode.Ok;
}

/** Envoy's POST /logging answer ("active loggers:" then "  NAME: LEVEL" lines) as logger -> level. */
export function parseLoggers(body: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of body.split('\n')) {
    const m = /^\s+([\w.:-]+):\s*(\w+)\s*$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/**
 * `mesh proxy-config log POD [--level L] [--logger NAME=L ...]`: change the proxy's log levels at
 * run time through its admin port (POST /logging?level=L, then ?NAME=L each), then print every
 * logger's level (POST /logging with no change returns them).
 */
async function runProxyLog(opts: ProxyConfigOptions, ui: Ui, cluster: Cluster): Promise<number> {
  const { adminPortOf, adminRequest } = await import('./proxy-admin.js');
  const pod = await livePod(cluster, opts);
  const target = { namespace: pod.metadata.namespace ?? 'default', pod: pod.metadata.name, port: adminPortOf(pod) };
  const who = `the proxy of pod ${target.namespace}/${target.pod}`;
  const changes = [...(opts.level ? [{ query: `level=${opts.level}`, what: `level ${opts.level}` }] : []), ...(opts.loggers ?? []).map((l) => ({ query: `${encodeURIComponent(l.name)}=${l.level}`, what: `logger ${l.name}` }))];
  for (const c of changes) {
    const res = await adminRequest(cluster, target, 'POST', `/logging?${c.query}`);
    if (res.status !== 200) {
      throw new MeshError(`${who} refused ${c.what}: HTTP ${res.status} ${res.body.trim().split('\n')[0]?.slice(0, 200) ?? ''}`, {
        hint: `"mesh proxy-config log ${target.pod} -n ${target.namespace}" lists its loggers`,
        exitCode: res.status === 400 || res.status === 404 ? ExitCode.Usage : ExitCode.Failed,
      });
    }
  }
  const res = await adminRequest(cluster, target, 'POST', '/logging');
  if (res.status !== 200) throw new MeshError(`${who} answered /logging with HTTP ${res.status}`, { hint: 'is the pod meshed (mesh-proxy container running)?' });
  const loggers = parseLoggers(res.body);
  if (changes.length) ui.err.write(ui.color.dim(`${who}: set ${changes.map((c) => c.what).join(', ')}`) + '\n');
  if (opts.output !== 'table') {
    const { renderData } = await import('../ui/output.js');
    ui.out.write(renderData({ pod: target.pod, namespace: target.namespace, loggers }, opts.output));
    return ExitCode.Ok;
  }
  const { renderTable } = await import('../ui/output.js');
  ui.out.write(renderTable(Object.entries(loggers).sort(([a], [b]) => a.localeCompare(b)), [
    { header: 'LOGGER', value: ([n]) => n },
    { header: 'LEVEL', value: ([, l]) => l },
  ], { emptyMessage: 'No loggers.' }));
  return ExitCode.Ok;
}
