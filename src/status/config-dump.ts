import protobuf from 'protobufjs';
import { stringify } from 'yaml';
import { unifiedDiff, type ObjectDiff } from '../manifests/diff.js';
import { toProto3Json } from '../xds/json.js';
import { loadAdminProtos, messageType, TYPE, typeAt } from '../xds/protos.js';
import type { ConfigDump } from '../xds/syncz.js';

const XDS_TYPES = { CDS: TYPE.cluster, LDS: TYPE.listener, RDS: TYPE.route, SDS: TYPE.secret, EDS: TYPE.endpoint } as const;

/**
 * Envoy's admin /config_dump format (envoy.admin.v3.ConfigDump) built from what mesh knows of a
 * proxy, and read back from a real proxy's admin port, so `mesh proxy-config all -o json` prints
 * what `curl localhost:15000/config_dump?include_eds` would, and `mesh proxy-config diff` compares
 * the two resource by resource. Pure (the .proto descriptors are loaded once per process).
 */

const ADMIN = 'type.googleapis.com/envoy.admin.v3.';
/** Type URLs of the per-type dumps inside a ConfigDump, in the order Envoy prints them. */
export const ADMIN_TYPES = {
  bootstrap: `${ADMIN}BootstrapConfigDump`,
  clusters: `${ADMIN}ClustersConfigDump`,
  listeners: `${ADMIN}ListenersConfigDump`,
  routes: `${ADMIN}RoutesConfigDump`,
  secrets: `${ADMIN}SecretsConfigDump`,
  endpoints: `${ADMIN}EndpointsConfigDump`,
} as const;

type Msg = Record<string, unknown>;
const isMsg = (v: unknown): v is Msg => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): Msg[] => (Array.isArray(v) ? v.filter(isMsg) : []);

/** An envoy.admin.v3.ConfigDump in proto3 JSON: `configs`, each an Any of one per-type dump. */
export interface EnvoyConfigDump {
  configs: Msg[];
}

/** What {@link envoyConfigDump} needs besides the resources. */
export interface EnvoyDumpOptions {
  /** The proxy's Envoy bootstrap (proto3 JSON), when known: its dump, and its static clusters and listeners. */
  bootstrap?: Msg;
  /** When the proxy got the current version of a type (RFC 3339), or undefined when unknown. */
  updatedAt: (typeUrl: string) => string | undefined;
}

const PLACEHOLDER = '[redacted]';

/**
 * A Secret with its redacted fields in a shape the proto accepts: the controller replaces a private
 * key (a DataSource) with the bare string "[redacted]"; Envoy's own dump keeps the DataSource and
 * redacts its content, so do that ({inline_string: "[redacted]"}).
 */
function redactedShape(type: protobuf.Type, v: unknown): unknown {
  if (!isMsg(v)) return v;
  const out: Msg = {};
  for (const [k, x] of Object.entries(v)) {
    const f = type.fields[k];
    f?.resolve();
    const rt = f?.resolvedType;
    if (x === PLACEHOLDER && rt instanceof protobuf.Type) out[k] = rt.fields.inline_string ? { inline_string: PLACEHOLDER } : {};
    else if (rt instanceof protobuf.Type && !f!.map) out[k] = Array.isArray(x) ? x.map((e) => redactedShape(rt, e)) : redactedShape(rt, x);
    else out[k] = x;
  }
  return out;
}

/**
 * The ConfigDump Envoy would print for a proxy holding `dump` (the controller's per-proxy config or
 * the offline translation): bootstrap, clusters (static from the bootstrap, dynamic with their
 * version_info and last_updated), listeners, routes, secrets (key material stays redacted) and
 * endpoints (as `/config_dump?include_eds`). Resources are canonical proto3 JSON.
 */
export function envoyConfigDump(dump: ConfigDump, o: EnvoyDumpOptions): EnvoyConfigDump {
  loadAdminProtos();
  const of = (t: string) => (dump.types[t]?.resources ?? []) as Msg[];
  const version = (t: string) => dump.types[t]?.version ?? dump.snapshotVersion ?? '';
  const stamp = (t: string): Msg => {
    const at = o.updatedAt(t);
    return at ? { last_updated: at } : {};
  };
  const any = (t: string, r: unknown): Msg => ({ '@type': t, ...(toProto3Json(t, r) as Msg) });
  const staticRes = isMsg(o.bootstrap?.static_resources) ? o.bootstrap.static_resources : {};
  const bootAt = o.updatedAt('bootstrap');
  const bootStamp = bootAt ? { last_updated: bootAt } : {};
  const configs: Msg[] = [];
  if (o.bootstrap) configs.push({ '@type': ADMIN_TYPES.bootstrap, bootstrap: o.bootstrap, ...bootStamp });
  configs.push({
    '@type': ADMIN_TYPES.clusters,
    version_info: version(XDS_TYPES.CDS),
    static_clusters: list(staticRes.clusters).map((c) => ({ cluster: { '@type': XDS_TYPES.CDS, ...c }, ...bootStamp })),
    dynamic_active_clusters: of(XDS_TYPES.CDS).map((c) => ({ version_info: version(XDS_TYPES.CDS), cluster: any(XDS_TYPES.CDS, c), ...stamp(XDS_TYPES.CDS) })),
  });
  configs.push({
    '@type': ADMIN_TYPES.listeners,
    version_info: version(XDS_TYPES.LDS),
    static_listeners: list(staticRes.listeners).map((l) => ({ listener: { '@type': XDS_TYPES.LDS, ...l }, ...bootStamp })),
    dynamic_listeners: of(XDS_TYPES.LDS).map((l) => ({ name: String(l.name ?? ''), active_state: { version_info: version(XDS_TYPES.LDS), listener: any(XDS_TYPES.LDS, l), ...stamp(XDS_TYPES.LDS) } })),
  });
  configs.push({
    '@type': ADMIN_TYPES.routes,
    dynamic_route_configs: of(XDS_TYPES.RDS).map((r) => ({ version_info: version(XDS_TYPES.RDS), route_config: any(XDS_TYPES.RDS, r), ...stamp(XDS_TYPES.RDS) })),
  });
  const secretType = messageType(XDS_TYPES.SDS);
  configs.push({
    '@type': ADMIN_TYPES.secrets,
    dynamic_active_secrets: of(XDS_TYPES.SDS).map((s) => ({ name: String(s.name ?? ''), version_info: version(XDS_TYPES.SDS), ...stamp(XDS_TYPES.SDS), secret: any(XDS_TYPES.SDS, redactedShape(secretType, s)) })),
  });
  configs.push({
    '@type': ADMIN_TYPES.endpoints,
    dynamic_endpoint_configs: of(XDS_TYPES.EDS).map((e) => ({ version_info: version(XDS_TYPES.EDS), endpoint_config: any(XDS_TYPES.EDS, e), ...stamp(XDS_TYPES.EDS) })),
  });
  return { configs };
}

/** Short kind of each dynamic resource type, as the diff names resources (`Cluster/NAME`). */
const KIND_OF: Record<string, string> = {
  [XDS_TYPES.CDS]: 'Cluster',
  [XDS_TYPES.LDS]: 'Listener',
  [XDS_TYPES.RDS]: 'RouteConfiguration',
  [XDS_TYPES.SDS]: 'Secret',
  [XDS_TYPES.EDS]: 'ClusterLoadAssignment',
};

/** One xDS resource found in a config dump. */
export interface DumpedResource {
  typeUrl: string;
  /** KIND/NAME, e.g. `Cluster/outbound|80||web.shop.svc.cluster.local`. */
  ref: string;
  /** The resource in proto3 JSON, without its `@type`. */
  body: Msg;
}

/**
 * The resources the control plane sent a proxy, read from a ConfigDump (Envoy's own or
 * {@link envoyConfigDump}'s): active dynamic clusters, listeners (active state), route configs,
 * secrets and endpoints. Static resources come from the bootstrap, not the control plane: left out.
 * Throws on something that is not a ConfigDump.
 */
export function dynamicResources(doc: unknown): DumpedResource[] {
  if (!isMsg(doc) || !Array.isArray(doc.configs)) throw new Error('not an Envoy config dump (no "configs" list)');
  const out: DumpedResource[] = [];
  const add = (typeUrl: string, r: unknown) => {
    if (!isMsg(r)) return;
    const { '@type': _t, ...body } = r;
    out.push({ typeUrl, ref: `${KIND_OF[typeUrl]}/${String(body.name ?? body.cluster_name ?? '')}`, body });
  };
  for (const c of list(doc.configs)) {
    switch (c['@type']) {
      case ADMIN_TYPES.clusters:
        for (const d of list(c.dynamic_active_clusters)) add(XDS_TYPES.CDS, d.cluster);
        break;
      case ADMIN_TYPES.listeners:
        for (const d of list(c.dynamic_listeners)) add(XDS_TYPES.LDS, isMsg(d.active_state) ? d.active_state.listener : undefined);
        break;
      case ADMIN_TYPES.routes:
        for (const d of list(c.dynamic_route_configs)) add(XDS_TYPES.RDS, d.route_config);
        break;
      case ADMIN_TYPES.secrets:
        for (const d of list(c.dynamic_active_secrets)) add(XDS_TYPES.SDS, d.secret);
        break;
      case ADMIN_TYPES.endpoints:
        for (const d of list(c.dynamic_endpoint_configs)) add(XDS_TYPES.EDS, d.endpoint_config);
        break;
    }
  }
  return out;
}

const DEFAULT_SCALARS = new Set<unknown>([false, 0, '', '0']);

/**
 * A resource in a form two printers agree on: fields at their proto3 default (false, 0, "", the
 * first enum value, empty lists) dropped, as Envoy's JSON printer drops them while our
 * translation may spell them out; keys sorted. Wrapper types keep their value (presence matters).
 */
function canonical(type: protobuf.Type | undefined, v: unknown): unknown {
  if (Array.isArray(v)) return v.map((x) => canonical(type, x));
  if (!isMsg(v)) return v;
  const t = typeAt(v, type);
  const out: Msg = {};
  for (const k of Object.keys(v).sort()) {
    const x = v[k];
    const f = t?.fields[k];
    f?.resolve();
    const rt = f?.resolvedType;
    if (Array.isArray(x) && x.length === 0) continue;
    if (f && !f.repeated && !f.map && !(rt instanceof protobuf.Type)) {
      if (DEFAULT_SCALARS.has(x)) continue;
      if (rt instanceof protobuf.Enum && (x === rt.valuesById[0] || x === 0)) continue;
    }
    if (f?.map && isMsg(x)) {
      out[k] = Object.fromEntries(Object.keys(x).sort().map((mk) => [mk, canonical(rt instanceof protobuf.Type ? rt : undefined, x[mk])]));
      continue;
    }
    out[k] = canonical(rt instanceof protobuf.Type ? rt : undefined, x);
  }
  return out;
}

/** YAML lines of a resource in its canonical form (what the diff compares). */
function resourceLines(r: DumpedResource): string[] {
  return stringify(canonical(messageType(r.typeUrl), r.body), { lineWidth: 0 }).trimEnd().split('\n');
}

/** What {@link diffResources} compares and leaves out. */
export interface ResourceDiffOptions {
  /** Types not compared (offline there are no secrets: the CA issues them at run time). */
  ignoreTypes?: readonly string[];
  context?: number;
}

/**
 * Resource-by-resource unified diff of what a proxy holds (`held`, a/) against what the control
 * plane would send it (`wanted`, b/): `added` = the proxy would get it, `removed` = the proxy holds
 * what the control plane no longer sends, `changed` = both have it and differ. Versions and
 * timestamps are not compared, only the resources. In ref order, like `kubectl diff`.
 */
export function diffResources(held: readonly DumpedResource[], wanted: readonly DumpedResource[], o: ResourceDiffOptions = {}): ObjectDiff[] {
  loadAdminProtos();
  const skip = new Set(o.ignoreTypes ?? []);
  const byRef = (rs: readonly DumpedResource[]) => new Map(rs.filter((r) => !skip.has(r.typeUrl)).map((r) => [r.ref, r]));
  const a = byRef(held);
  const b = byRef(wanted);
  const out: ObjectDiff[] = [];
  for (const ref of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const x = a.get(ref);
    const y = b.get(ref);
    if (x && !y) out.push({ ref, change: 'removed', lines: resourceLines(x).map((l) => `-${l}`) });
    else if (!x && y) out.push({ ref, change: 'added', lines: resourceLines(y).map((l) => `+${l}`) });
    else if (x && y) {
      const lines = unifiedDiff(resourceLines(x), resourceLines(y), o.context ?? 3);
      if (lines.length) out.push({ ref, change: 'changed', lines });
    }
  }
  return out;
}
