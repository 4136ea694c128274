import type { KubeObject } from '../cluster/types.js';
import { GATEWAY_CLASS_CONTROLLER, GATEWAY_WORKLOAD_SUFFIX } from '../constants.js';
import { formatSpiffeId } from '../pki/spiffe.js';
import { labelSelectorMatches } from '../util/labels.js';
import { isObject } from '../util/object.js';
import { arr, byNsName, cmp, describe, keyOf, num, str, strMap, type Obj } from './objects.js';
import { referenceGranted, translateRoute, type RouteContext } from './routes.js';
import type { ModelWarning, RouteCondition, RouteRule } from './types.js';

/**
 * The ingress side of the Gateway API: GatewayClasses of mesh's controller, their Gateways (HTTP
 * and HTTPS listeners) and the HTTPRoutes attached to them, with every status condition the spec
 * asks for. Pure: objects in, data out; the xDS translation (src/xds/gateway.ts), the status
 * writer (src/controller/gateway-status.ts), the provisioner and `mesh check` all read this.
 */

const GATEWAY_GROUP = 'gateway.networking.k8s.io';

/** A status condition as the Gateway API writes it (without times and generations, which the writer adds). */
export interface GatewayCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

/** A GatewayClass, ours or not. */
export interface MeshGatewayClass {
  name: string;
  controllerName: string;
  /** Handled by mesh (controllerName is mesh's); only these get status from mesh. */
  ours: boolean;
  /** `NS/NAME` of the ConfigMap its parametersRef names, if any. */
  parametersRef?: string;
  /** The ConfigMap's data when it is among the objects (files, or what the provisioner read). */
  parameters?: Record<string, string>;
  conditions: GatewayCondition[];
}

/** One listener of a Gateway, resolved. */
export interface GatewayListener {
  name: string;
  port: number;
  protocol: string;
  /** Undefined: every hostname. May start with `*.`. */
  hostname?: string;
  /** `NS/NAME` of the TLS Secrets that resolved (HTTPS), in certificateRefs order. */
  certificates: string[];
  /** Route kinds that may attach (`HTTPRoute`). */
  supportedKinds: string[];
  /** Routes attached to it (Accepted). */
  attachedRoutes: number;
  /** Configured into the gateway's Envoy: accepted, not conflicted, and (HTTPS) with a certificate. */
  programmed: boolean;
  conditions: GatewayCondition[];
}

/** An HTTPRoute attached to one listener of a Gateway, with the hostnames it serves there. */
export interface GatewayAttachment {
  listener: string;
  /** The intersection of the listener's hostname and the route's hostnames; `*` for any host. */
  hostnames: string[];
}

/** An HTTPRoute attached to a Gateway. */
export interface GatewayRoute {
  name: string;
  namespace: string;
  createdAt?: string;
  attachments: GatewayAttachment[];
  rules: RouteRule[];
}

/** A Gateway of a mesh GatewayClass. */
export interface MeshGateway {
  name: string;
  namespace: string;
  className: string;
  /** Name of the Deployment, Service and ServiceAccount mesh provisions for it. */
  workload: string;
  /** SPIFFE identity of its proxies (their ServiceAccount), which meshed backends see. */
  identity: string;
  /** status.addresses: from the provisioned Service when it has one. */
  addresses: { type: 'IPAddress' | 'Hostname'; value: string }[];
  listeners: GatewayListener[];
  routes: GatewayRoute[];
  conditions: GatewayCondition[];
  /** spec.infrastructure labels and annotations, for the provisioned objects. */
  infrastructure: { labels: Record<string, string>; annotations: Record<string, string> };
}

/** A condition of an HTTPRoute for one Gateway parentRef: a route condition whose parent is a Gateway. */
export interface GatewayRouteCondition extends Omit<RouteCondition, 'kind' | 'parent'> {
  /** {@link gatewayParentKey} of the parentRef. */
  parent: string;
}

/** What {@link gatewaysFrom} derives. */
export interface GatewayModel {
  gatewayClasses: MeshGatewayClass[];
  gateways: MeshGateway[];
  gatewayRouteConditions: GatewayRouteCondition[];
}

/** Whether a parentRef names a Gateway (its group and kind default to the Gateway API's Gateway). */
export function isGatewayRef(ref: Obj): boolean {
  return (ref.group === undefined || ref.group === GATEWAY_GROUP) && (ref.kind === undefined || ref.kind === 'Gateway');
}

/** `NS/NAME[/SECTION][:PORT]` of a Gateway parentRef of a route in `routeNs`: how conditions name their parent. */
export function gatewayParentKey(ref: Obj, routeNs: string): string {
  const section = str(ref.sectionName);
  const port = num(ref.port);
  return `${keyOf(str(ref.namespace) ?? routeNs, str(ref.name) ?? '?')}${section ? `/${section}` : ''}${port !== undefined ? `:${port}` : ''}`;
}

/**
 * The hostname a listener and a route hostname both match, or undefined (Gateway API hostname
 * intersection): equal names; a `*.` wildcard matches any name with that suffix (one or more
 * labels), and of two wildcards the more specific one is the intersection.
 */
export function intersectHostname(listener: string | undefined, route: string): string | undefined {
  const l = listener?.toLowerCase();
  const r = route.toLowerCase();
  if (l === undefined || l === r) return r;
  const lw = l.startsWith('*.');
  const rw = r.startsWith('*.');
  if (lw && r.endsWith(l.slice(1))) return r;
  if (rw && l.endsWith(r.slice(1))) return l;
  return undefined;
}

function cond(type: string, ok: boolean, reason: string, message: string): GatewayCondition {
  return { type, status: ok ? 'True' : 'False', reason, message };
}

/** Labels of a Namespace as a selector sees them (Kubernetes adds kubernetes.io/metadata.name itself). */
function namespaceLabels(objects: readonly KubeObject[]): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  for (const o of objects) {
    if (o.kind === 'Namespace') out.set(o.metadata.name, { ...(o.metadata.labels ?? {}), 'kubernetes.io/metadata.name': o.metadata.name });
  }
  return out;
}

/** Lowest port an unprivileged Envoy may bind; Gateway ports below it are bound at PORT + 8000. */
const PRIVILEGED_PORTS = 1024;

/** The port the gateway's Envoy binds (and the provisioned Service targets) for a listener port: 80 -> 8080, 443 -> 8443, others as they are (the proxy runs as non-root). */
export function gatewayBindPort(port: number): number {
  return port < PRIVILEGED_PORTS ? port + 8000 : port;
}

/** Listener protocols mesh's gateway serves. */
const PROTOCOLS = ['HTTP', 'HTTPS'];

/** Route kinds a listener of these protocols may take. */
const ROUTE_KINDS = ['HTTPRoute'];

interface ListenerDraft {
  listener: GatewayListener;
  allowed: Obj;
}

/** A TLS Secret usable as a certificate: type kubernetes.io/tls (or Opaque) with tls.crt and tls.key. */
function usableTlsSecret(s: KubeObject | undefined): boolean {
  if (!s) return false;
  const data = isObject(s.data) ? s.data : {};
  const t = typeof s.type === 'string' ? s.type : 'Opaque';
  return (t === 'kubernetes.io/tls' || t === 'Opaque') && typeof data['tls.crt'] === 'string' && typeof data['tls.key'] === 'string' && data['tls.crt'] !== '' && data['tls.key'] !== '';
}

function listenersOf(gw: KubeObject, secrets: ReadonlyMap<string, KubeObject>, grants: RouteContext['grants']): ListenerDraft[] {
  const ns = gw.metadata.namespace ?? 'default';
  const spec = isObject(gw.spec) ? gw.spec : {};
  const drafts: ListenerDraft[] = arr(spec.listeners).map((l) => {
    const name = str(l.name) ?? '?';
    const port = num(l.port) ?? 0;
    const protocol = str(l.protocol) ?? '?';
    const listener: GatewayListener = { name, port, protocol, certificates: [], supportedKinds: [], attachedRoutes: 0, programmed: false, conditions: [] };
    const hostname = str(l.hostname);
    if (hostname) listener.hostname = hostname.toLowerCase();
    const allowed = isObject(l.allowedRoutes) ? l.allowedRoutes : {};
    const conds: GatewayCondition[] = [];
    let accepted = PROTOCOLS.includes(protocol);
    conds.push(accepted ? cond('Accepted', true, 'Accepted', 'the listener is accepted') : cond('Accepted', false, 'UnsupportedProtocol', `protocol ${protocol} is not supported by mesh (HTTP, HTTPS)`));
    // Route kinds: the listed ones mesh supports, or HTTPRoute by default.
    const kinds = arr(allowed.kinds);
    const badKinds = kinds.filter((k) => (str(k.group) ?? GATEWAY_GROUP) !== GATEWAY_GROUP || !ROUTE_KINDS.includes(str(k.kind) ?? ''));
    listener.supportedKinds = kinds.length ? [...new Set(kinds.filter((k) => !badKinds.includes(k)).map((k) => String(k.kind)))] : [...ROUTE_KINDS];
    let resolved = cond('ResolvedRefs', true, 'ResolvedRefs', 'every reference resolves');
    if (badKinds.length) {
      resolved = cond('ResolvedRefs', false, 'InvalidRouteKinds', `route kinds ${badKinds.map((k) => `${str(k.group) ?? GATEWAY_GROUP}/${String(k.kind)}`).join(', ')} are not supported (${ROUTE_KINDS.join(', ')})`);
    }
    if (protocol === 'HTTPS') {
      const tls = isObject(l.tls) ? l.tls : {};
      const mode = str(tls.mode) ?? 'Terminate';
      if (mode !== 'Terminate') {
        accepted = false;
        conds[0] = cond('Accepted', false, 'UnsupportedValue', `tls.mode ${mode} is not supported on an HTTPS listener (Terminate)`);
      }
      const problems: { reason: string; message: string }[] = [];
      const refs = arr(tls.certificateRefs);
      if (!refs.length) problems.push({ reason: 'InvalidCertificateRef', message: 'an HTTPS listener needs tls.certificateRefs' });
      for (const ref of refs) {
        const sns = str(ref.namespace) ?? ns;
        const sname = str(ref.name) ?? '?';
        const kind = str(ref.kind) ?? 'Secret';
        const group = str(ref.group) ?? '';
        if (kind !== 'Secret' || group !== '') problems.push({ reason: 'InvalidCertificateRef', message: `certificateRef ${group ? `${group}/` : ''}${kind} ${sname} is not a Secret` });
        else if (sns !== ns && !referenceGranted(grants, 'Gateway', ns, 'Secret', sns, sname)) {
          problems.push({ reason: 'RefNotPermitted', message: `certificateRef Secret ${sns}/${sname} is in another namespace and no ReferenceGrant there allows it` });
        } else if (!usableTlsSecret(secrets.get(keyOf(sns, sname)))) {
          problems.push({ reason: 'InvalidCertificateRef', message: `certificateRef Secret ${sns}/${sname} ${secrets.has(keyOf(sns, sname)) ? 'has no tls.crt and tls.key' : 'does not exist'}` });
        } else listener.certificates.push(keyOf(sns, sname));
      }
      if (problems.length) resolved = cond('ResolvedRefs', false, problems[0]!.reason, problems.map((p) => p.message).join('; '));
    }
    conds.push(resolved);
    listener.conditions = conds;
    if (!accepted) listener.supportedKinds = [];
    return { listener, allowed };
  });
  // Conflicts on one port: different protocols, or the same hostname twice.
  for (const d of drafts) {
    const same = drafts.filter((o) => o !== d && o.listener.port === d.listener.port);
    let conflict: GatewayCondition = cond('Conflicted', false, 'NoConflicts', 'no other listener conflicts with it');
    const clash = drafts.find((o) => o.listener.port !== d.listener.port && gatewayBindPort(o.listener.port) === gatewayBindPort(d.listener.port));
    if (clash) {
      // 80 is bound at 8080 by the non-root proxy: a listener on 8080 too cannot both be served.
      d.listener.conditions[0] = cond('Accepted', false, 'PortUnavailable', `port ${d.listener.port} is served on ${gatewayBindPort(d.listener.port)} in the proxy, as is port ${clash.listener.port} of listener ${clash.listener.name}`);
    }
    if (same.some((o) => o.listener.protocol !== d.listener.protocol)) conflict = cond('Conflicted', true, 'ProtocolConflict', `another listener on port ${d.listener.port} has another protocol`);
    else if (same.some((o) => o.listener.hostname === d.listener.hostname)) conflict = cond('Conflicted', true, 'HostnameConflict', `another listener on port ${d.listener.port} has the same hostname`);
    d.listener.conditions.push(conflict);
  }
  for (const d of drafts) {
    const c = (type: string): GatewayCondition | undefined => d.listener.conditions.find((x) => x.type === type);
    const https = d.listener.protocol === 'HTTPS';
    const ok = c('Accepted')?.status === 'True' && c('Conflicted')?.status === 'False' && (!https || d.listener.certificates.length > 0) && d.listener.supportedKinds.length > 0;
    d.listener.programmed = ok;
    d.listener.conditions.push(ok ? cond('Programmed', true, 'Programmed', 'the listener is configured in the gateway proxies') : cond('Programmed', false, 'Invalid', 'the listener is not configured: see its other conditions'));
  }
  return drafts;
}

/** Whether a route in `routeNs` may attach to a listener of a Gateway in `gwNs` (allowedRoutes.namespaces). */
function namespaceAllowed(allowed: Obj, gwNs: string, routeNs: string, nsLabels: ReadonlyMap<string, Record<string, string>>): boolean {
  const namespaces = isObject(allowed.namespaces) ? allowed.namespaces : {};
  const from = str(namespaces.from) ?? 'Same';
  if (from === 'All') return true;
  if (from === 'Same') return routeNs === gwNs;
  if (from === 'Selector' && isObject(namespaces.selector)) return labelSelectorMatches(namespaces.selector, nsLabels.get(routeNs) ?? { 'kubernetes.io/metadata.name': routeNs });
  return false;
}

/** status.addresses of a Gateway from its provisioned Service: load balancer ingress, else the cluster IP of a non-LoadBalancer Service. */
function addressesOf(svc: KubeObject | undefined): MeshGateway['addresses'] {
  if (!svc) return [];
  const status = isObject(svc.status) ? svc.status : {};
  const lb = isObject(status.loadBalancer) ? status.loadBalancer : {};
  const out: MeshGateway['addresses'] = [];
  for (const i of arr(lb.ingress)) {
    const ip = str(i.ip);
    const host = str(i.hostname);
    if (ip) out.push({ type: 'IPAddress', value: ip });
    else if (host) out.push({ type: 'Hostname', value: host });
  }
  const spec = isObject(svc.spec) ? svc.spec : {};
  const ip = str(spec.clusterIP);
  if (!out.length && spec.type !== 'LoadBalancer' && ip && ip !== 'None') out.push({ type: 'IPAddress', value: ip });
  return out;
}

/**
 * GatewayClasses, the Gateways of mesh's classes with their listeners, the HTTPRoutes attached to
 * them and every route's conditions for its Gateway parents. Pure; problems go to `warnings`.
 */
export function gatewaysFrom(objects: readonly KubeObject[], ctx: RouteContext, trustDomain: string, warnings: ModelWarning[]): GatewayModel {
  const of = (kind: string): KubeObject[] => objects.filter((o) => o.kind === kind && o.apiVersion.startsWith(`${GATEWAY_GROUP}/`));
  const byKey = (kind: string, apiVersion: string): Map<string, KubeObject> =>
    new Map(objects.filter((o) => o.kind === kind && o.apiVersion === apiVersion).map((o) => [keyOf(o.metadata.namespace ?? 'default', o.metadata.name), o]));
  const secrets = byKey('Secret', 'v1');
  const configMaps = byKey('ConfigMap', 'v1');
  const services = byKey('Service', 'v1');
  const nsLabels = namespaceLabels(objects);

  const gatewayClasses: MeshGatewayClass[] = of('GatewayClass')
    .map((c) => {
      const spec = isObject(c.spec) ? c.spec : {};
      const controllerName = str(spec.controllerName) ?? '';
      const out: MeshGatewayClass = { name: c.metadata.name, controllerName, ours: controllerName === GATEWAY_CLASS_CONTROLLER, conditions: [] };
      if (!out.ours) return out;
      const p = isObject(spec.parametersRef) ? spec.parametersRef : undefined;
      if (p) {
        const key = keyOf(str(p.namespace) ?? 'default', str(p.name) ?? '?');
        out.parametersRef = key;
        if ((str(p.group) ?? '') !== '' || p.kind !== 'ConfigMap') {
          out.conditions.push(cond('Accepted', false, 'InvalidParameters', `parametersRef ${String(p.kind)} ${key} is not a ConfigMap (the only kind mesh reads)`));
          return out;
        }
        const cm = configMaps.get(key);
        if (cm) out.parameters = strMap(cm.data) ?? {};
      }
      out.conditions.push(cond('Accepted', true, 'Accepted', 'handled by mesh'));
      return out;
    })
    .sort((a, b) => cmp(a.name, b.name));
  const classes = new Map(gatewayClasses.filter((c) => c.ours).map((c) => [c.name, c]));

  const gateways: MeshGateway[] = [];
  const drafts = new Map<string, { gw: MeshGateway; listeners: ListenerDraft[] }>();
  for (const g of of('Gateway')) {
    const spec = isObject(g.spec) ? g.spec : {};
    const className = str(spec.gatewayClassName) ?? '';
    if (!classes.has(className)) continue;
    const ns = g.metadata.namespace ?? 'default';
    const workload = `${g.metadata.name}${GATEWAY_WORKLOAD_SUFFIX}`;
    const listeners = listenersOf(g, secrets, ctx.grants);
    const infra = isObject(spec.infrastructure) ? spec.infrastructure : {};
    const gw: MeshGateway = {
      name: g.metadata.name,
      namespace: ns,
      className,
      workload,
      identity: formatSpiffeId(trustDomain, ns, workload),
      addresses: addressesOf(services.get(keyOf(ns, workload))),
      listeners: listeners.map((d) => d.listener),
      routes: [],
      conditions: [],
      infrastructure: { labels: strMap(infra.labels) ?? {}, annotations: strMap(infra.annotations) ?? {} },
    };
    const valid = gw.listeners.filter((l) => l.programmed).length;
    if (arr(spec.addresses).length) gw.conditions.push(cond('Accepted', false, 'UnsupportedAddress', 'spec.addresses is not supported: the address comes from the provisioned Service'));
    else if (valid === gw.listeners.length) gw.conditions.push(cond('Accepted', true, 'Accepted', 'every listener is valid'));
    else gw.conditions.push(cond('Accepted', valid > 0, 'ListenersNotValid', `${gw.listeners.length - valid} of ${gw.listeners.length} listeners are not valid`));
    gw.conditions.push(
      gw.addresses.length
        ? cond('Programmed', true, 'Programmed', `served by Deployment and Service ${workload}`)
        : cond('Programmed', false, 'AddressNotAssigned', `Service ${ns}/${workload} has no address yet`),
    );
    gateways.push(gw);
    drafts.set(keyOf(ns, gw.name), { gw, listeners });
  }

  const gatewayRouteConditions: GatewayRouteCondition[] = [];
  const routes = objects
    .filter((o) => o.kind === 'HTTPRoute' && o.apiVersion.startsWith(`${GATEWAY_GROUP}/`))
    .sort((a, b) => cmp(a.metadata.namespace ?? '', b.metadata.namespace ?? '') || cmp(a.metadata.name, b.metadata.name));
  for (const r of routes) {
    const ns = r.metadata.namespace ?? 'default';
    const spec = isObject(r.spec) ? r.spec : {};
    const refs = arr(spec.parentRefs).filter(isGatewayRef).filter((ref) => drafts.has(keyOf(str(ref.namespace) ?? ns, str(ref.name) ?? '?')));
    if (!refs.length) continue;
    const hostnames = (Array.isArray(spec.hostnames) ? spec.hostnames : []).filter((h): h is string => typeof h === 'string' && h !== '');
    // Gateway routes have no GAMMA parent, so a backend elsewhere always needs a ReferenceGrant.
    const serviceParent = arr(spec.parentRefs).some((ref) => ref.kind === 'Service');
    const t = translateRoute({ ...r, kind: 'HTTPRoute' }, ctx, new Set(), serviceParent ? [] : warnings);
    const routeKey = keyOf(ns, r.metadata.name);
    for (const ref of refs) {
      const { gw, listeners } = drafts.get(keyOf(str(ref.namespace) ?? ns, str(ref.name) ?? '?'))!;
      const parent = gatewayParentKey(ref, ns);
      const push = (type: GatewayRouteCondition['type'], ok: boolean, reason: string, message: string): void => {
        gatewayRouteConditions.push({ route: routeKey, parent, type, status: ok ? 'True' : 'False', reason, message });
      };
      const section = str(ref.sectionName);
      const port = num(ref.port);
      const candidates = listeners.filter((d) => (section === undefined || d.listener.name === section) && (port === undefined || d.listener.port === port));
      const refused = (reason: string, message: string): void => {
        warnings.push({ object: describe(r), message: `not attached to Gateway ${parent}: ${message}` });
        push('Accepted', false, reason, message);
        push('ResolvedRefs', t.unresolved.length === 0, t.unresolved[0]?.reason ?? 'ResolvedRefs', t.unresolved.length ? t.unresolved.map((u) => u.message).join('; ') : 'every backendRef resolves');
      };
      if (!candidates.length) {
        refused('NoMatchingParent', `Gateway ${gw.namespace}/${gw.name} has no listener${section ? ` named ${section}` : ''}${port !== undefined ? ` on port ${port}` : ''}`);
        continue;
      }
      const allowed = candidates.filter((d) => d.listener.supportedKinds.includes('HTTPRoute') && namespaceAllowed(d.allowed, gw.namespace, ns, nsLabels));
      if (!allowed.length) {
        refused('NotAllowedByListeners', `no listener of Gateway ${gw.namespace}/${gw.name}${section ? ` named ${section}` : ''} allows HTTPRoutes from namespace ${ns}`);
        continue;
      }
      const attachments: GatewayAttachment[] = [];
      for (const d of allowed) {
        const hs = hostnames.length ? [...new Set(hostnames.flatMap((h) => intersectHostname(d.listener.hostname, h) ?? []))] : [d.listener.hostname ?? '*'];
        if (hs.length) attachments.push({ listener: d.listener.name, hostnames: hs });
      }
      if (!attachments.length) {
        refused('NoMatchingListenerHostname', `no hostname of the route (${hostnames.join(', ')}) matches a listener hostname of Gateway ${gw.namespace}/${gw.name}`);
        continue;
      }
      if (!t.rules) {
        refused('UnsupportedValue', t.refused ?? 'not translatable');
        continue;
      }
      push('Accepted', true, 'Accepted', `attached to listener${attachments.length > 1 ? 's' : ''} ${attachments.map((a) => a.listener).join(', ')}`);
      push('ResolvedRefs', t.unresolved.length === 0, t.unresolved[0]?.reason ?? 'ResolvedRefs', t.unresolved.length ? t.unresolved.map((u) => u.message).join('; ') : 'every backendRef resolves');
      const unsupported = t.failures.filter((f) => f.reason === 'UnsupportedValue');
      if (unsupported.length) push('PartiallyInvalid', true, 'UnsupportedValue', `${unsupported.map((f) => f.message).join('; ')}; requests those rules match get HTTP 500`);
      for (const a of attachments) {
        const l = gw.listeners.find((x) => x.name === a.listener)!;
        l.attachedRoutes++;
      }
      const gr: GatewayRoute = { name: r.metadata.name, namespace: ns, attachments, rules: t.rules };
      if (r.metadata.creationTimestamp) gr.createdAt = r.metadata.creationTimestamp;
      const existing = gw.routes.find((x) => x.name === gr.name && x.namespace === gr.namespace);
      // Two parentRefs to one Gateway (e.g. two sectionNames): one route with both attachments.
      if (existing) existing.attachments.push(...attachments.filter((a) => !existing.attachments.some((e) => e.listener === a.listener)));
      else gw.routes.push(gr);
    }
  }
  for (const gw of gateways) gw.routes.sort(byNsName);
  gateways.sort(byNsName);
  return { gatewayClasses, gateways, gatewayRouteConditions };
}
