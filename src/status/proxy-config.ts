import type { Cluster, KubeObject } from '../cluster/types.js';
import type { ModelOptions } from '../model/index.js';
import type { Ui } from '../ui/context.js';
import { ExitCode, MeshError, usageError } from '../errors.js';
import { configDumpOf, controllerLocation, syncAll, XDS_TYPES, type ConfigDump, type ControllerLocation } from './controller-debug.js';
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
export function validateProxyConfigOptions(raw: { section?: string; pod?: string; namespace?: string; files?: string[]; output: 'table' | 'json' | 'yaml'; meshNamespace?: string; controllerPort?: string }, defaults: ControllerLocation): ProxyConfigOptions {
  const section = raw.section?.toLowerCase().replace(/s$/, '');
  if (!section || (section !== 'all' && !(SECTIONS as readonly string[]).includes(section))) {
    throw usageError(`unknown config section "${raw.section ?? ''}"`, `use one of: ${[...SECTIONS, 'all'].join(', ')} (e.g. mesh proxy-config cluster web-1 -n shop)`);
  }
  if (!raw.pod) throw usageError('name the pod: mesh proxy-config SECTION POD[.NAMESPACE]');
  const target = parseProxyTarget(raw.pod);
  return {
    sections: section === 'all' ? [...SECTIONS] : [section as Section],
    ...target,
    namespace: raw.namespace || undefined,
    files: raw.files && raw.files.length ? raw.files : undefined,
    output: raw.output,
    controller: controllerLocation(raw, defaults),
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

/** Ask the controller replica that holds the proxy for its config (live). */
export async function liveDump(cluster: Cluster, opts: ProxyConfigOptions): Promise<{ dump: ConfigDump; replica: string }> {
  let want = parsePodArg(opts.pod, opts.namespace ?? cluster.defaultNamespace ?? 'default');
  if (opts.kind === 'gateway') return gatewayDump(cluster, opts, want.namespace ?? 'default', want.name);
  if (opts.kind && opts.kind !== 'pod') want = { ...want, name: await firstPodOf(cluster, opts.kind, want.name, want.namespace ?? 'default') };
  const replicas = await syncAll(cluster, opts.controller);
  for (const r of replicas) {
    const p = r.syncz?.proxies.find((x) => (!opts.kind && x.id === opts.pod) || (x.pod === want.name && x.namespace === want.namespace));
    if (!p) continue;
    const res = await configDumpOf(cluster, opts.controller, r.pod, p.id);
    if (res.value) return { dump: res.value, replica: r.pod };
    throw new MeshError(`controller replica ${r.pod} has no config for proxy ${p.id}: ${res.error}`, { hint: 'the proxy may have just disconnected: run "mesh proxy-status" and retry' });
  }
  throw new MeshError(`no controller replica has a proxy for pod ${want.name} in namespace ${want.namespace}`, {
    hint: `check "mesh proxy-status ${want.name}.${want.namespace}"; to see the config it would get, use -f with your manifests`,
  });
}

/** The config of a Gateway's proxies: every replica shares it, so the first connected one answers. */
async function gatewayDump(cluster: Cluster, opts: ProxyConfigOptions, namespace: string, name: string): Promise<{ dump: ConfigDump; replica: string }> {
  const replicas = await syncAll(cluster, opts.controller);
  for (const r of replicas) {
    const p = r.syncz?.proxies.find((x) => x.kind === 'gateway' && x.gateway === name && x.namespace === namespace && x.connected);
    if (!p) continue;
    const res = await configDumpOf(cluster, opts.controller, r.pod, p.id);
    if (res.value) return { dump: res.value, replica: r.pod };
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
    return { id, snapshotVersion: 'offline', types };
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
  return { id: `sidecar~${want.name}.${namespace}`, snapshotVersion: 'offline', types };
}

/**
 * The model options of the mesh installed by the rendered install among `objects` (the mesh-config
 * ConfigMap that `mesh manifest generate` writes): its trust domain, default mTLS, tracing and
 * access logs, as the controller would run with them. Defaults when the files hold no install.
 */
export async function installedModelOptions(objects: readonly KubeObject[]): Promise<ModelOptions> {
  const { MESH_CONFIG_KEY, MESH_CONFIG_NAME } = await import('../constants.js');
  const cm = objects.find((o) => o.kind === 'ConfigMap' && o.apiVersion === 'v1' && o.metadata.name === MESH_CONFIG_NAME && typeof (o.data as Record<string, unknown> | undefined)?.[MESH_CONFIG_KEY] === 'string');
  const { parseValuesYaml } = await import('../cluster/values-files.js');
  const { modelOptionsOf, resolveValues } = await import('../manifests/values.js');
  if (!cm) return {};
  const text = (cm.data as Record<string, string>)[MESH_CONFIG_KEY] as string;
  const source = `ConfigMap ${cm.metadata.namespace ?? ''}/${MESH_CONFIG_NAME}`;
  return modelOptionsOf(resolveValues({ files: [{ source, values: parseValuesYaml(text, source) }] }));
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
  let dump: ConfigDump;
  if (opts.files) {
    dump = await offlineDump(opts.files, opts);
    ui.err.write(ui.color.dim(`computed offline from ${opts.files.join(', ')} with the controller's translation (proxy ${dump.id})`) + '\n');
  } else {
    const live = await liveDump(await connect(), opts);
    dump = live.dump;
    ui.err.write(ui.color.dim(`from controller replica ${live.replica}, proxy ${dump.id}, snapshot ${dump.snapshotVersion ?? '-'}`) + '\n');
  }
  const resourcesOf = (s: Section) => (dump.types[TYPE_OF[s]]?.resources ?? []) as Msg[];
  if (opts.output !== 'table') {
    const { renderData } = await import('../ui/output.js');
    ui.out.write(renderData(await proxyConfigData(dump, opts.sections), opts.output));
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
