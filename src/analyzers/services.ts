import { CODES } from './codes.js';
import { namesCaller, policyApplies, type MtlsMode } from '../model/index.js';
import { authzPolicies, modelPolicy } from './authz.js';
import { arr, describeRef, refOf, str, where, type AnalysisIndex, type WorkloadInfo } from './lookup.js';
import { mapSelects } from '../util/labels.js';
import { isObject } from '../util/object.js';
import type { Analyzer, Finding, SourcedObject } from './types.js';

/** appProtocol values and port-name prefixes that declare a protocol (same set the model reads). */
const KNOWN_PROTOCOLS = new Set(['http', 'http2', 'h2c', 'grpc', 'grpc-web', 'https', 'tls', 'tcp', 'mongo', 'mysql', 'redis', 'udp']);

function serviceSelector(s: SourcedObject): Record<string, string> | undefined {
  const spec = isObject(s.object.spec) ? s.object.spec : {};
  if (!isObject(spec.selector)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(spec.selector)) if (typeof v === 'string') out[k] = v;
  return Object.keys(out).length ? out : undefined;
}

/**
 * Service ports whose protocol the mesh has to guess (MSH0010): no appProtocol and no recognised
 * name prefix (`http-`, `grpc-`, `tcp-`...). The mesh then treats them as opaque TCP: no routes,
 * retries or per-request metrics.
 */
export const portProtocols: Analyzer<AnalysisIndex> = {
  name: 'port protocols',
  codes: [CODES.portNoProtocol],
  analyze(index) {
    const out: Finding[] = [];
    for (const s of index.services.values()) {
      const spec = isObject(s.object.spec) ? s.object.spec : {};
      if (spec.type === 'ExternalName') continue;
      for (const p of arr(spec.ports)) {
        if (p.protocol !== undefined && p.protocol !== 'TCP') continue;
        if (str(p.appProtocol)) continue;
        const name = str(p.name) ?? '';
        const prefix = name.split('-')[0]!.toLowerCase();
        if (KNOWN_PROTOCOLS.has(prefix)) continue;
        const label = name ? `port ${name} (${String(p.port)})` : `port ${String(p.port)}`;
        out.push({ code: CODES.portNoProtocol.code, severity: CODES.portNoProtocol.severity, message: `${label} has no appProtocol and no protocol name prefix; the mesh treats it as opaque TCP`, resource: refOf(s.object), ...where(s) });
      }
    }
    return out;
  },
};

/** Workloads no Service selects (MSH0011): they get no inbound mesh traffic or policy by name. */
export const unselectedWorkloads: Analyzer<AnalysisIndex> = {
  name: 'unselected workloads',
  codes: [CODES.workloadNoService],
  analyze(index) {
    // Every workload some Service selects, found from the Services' side through the label index.
    const selected = new Set<WorkloadInfo>();
    for (const s of index.services.values()) {
      for (const w of index.selectedBy(s.object.metadata.namespace ?? 'default', serviceSelector(s))) selected.add(w);
    }
    const out: Finding[] = [];
    for (const w of index.workloads) {
      if (!w.serves) continue;
      if (selected.has(w)) continue;
      out.push({ code: CODES.workloadNoService.code, severity: CODES.workloadNoService.severity, message: `no Service in namespace ${w.namespace} selects its pods (labels ${Object.entries(w.labels).map(([k, v]) => `${k}=${v}`).join(',') || 'none'})`, resource: w.ref, ...where(w.src) });
    }
    return out;
  },
};

/** Hostnames a workload's containers name in env values, args and commands. */
function namedHosts(w: WorkloadInfo): { text: string; where: string }[] {
  const out: { text: string; where: string }[] = [];
  for (const c of w.containers) {
    const cname = str(c.name) ?? '?';
    for (const e of arr(c.env)) if (typeof e.value === 'string') out.push({ text: e.value, where: `container ${cname} env ${str(e.name) ?? '?'}` });
    for (const field of ['args', 'command'] as const) {
      const v = c[field];
      if (Array.isArray(v)) for (const a of v) if (typeof a === 'string') out.push({ text: a, where: `container ${cname} ${field}` });
    }
  }
  return out;
}

const FQDN = /\b([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)(?:\.svc(?:\.[a-z0-9.-]+)?)?(?::\d+)?\b/g;
const URL_HOST = /:\/\/([a-z0-9]([-a-z0-9]*[a-z0-9])?)(?=[:/]|$)/g;

/** Services (`NS/NAME`) a text names: `name.ns[.svc[.domain]]` or `scheme://name` in the same namespace. */
export function servicesNamedIn(text: string, ns: string, known: ReadonlyMap<string, unknown>): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(FQDN)) {
    const key = `${m[3]}/${m[1]}`;
    if (known.has(key)) out.add(key);
  }
  for (const m of text.matchAll(URL_HOST)) {
    const key = `${ns}/${m[1]}`;
    if (known.has(key)) out.add(key);
  }
  return [...out];
}

/**
 * STRICT mTLS where a client without a sidecar calls (MSH0009): such a client sends plain text and
 * a STRICT inbound rejects it. Static config cannot see traffic, so callers are inferred from:
 * (1) Service hostnames in a workload's env values, args and commands (`catalog.shop.svc...`,
 * `http://catalog:8080` in the same namespace), and (2) AuthorizationPolicy ALLOW rules naming a
 * caller's service account or namespace. Only callers known to be uninjected are reported.
 */
export const strictMtls: Analyzer<AnalysisIndex> = {
  name: 'strict mTLS callers',
  codes: [CODES.strictUninjectedCaller],
  analyze(index) {
    const strictServices = new Map<string, SourcedObject>();
    const nsModes = new Map<string, MtlsMode>();
    for (const n of index.model.namespaces) if (!nsModes.has(n.name)) nsModes.set(n.name, n.mtls);
    for (const [key, s] of index.services) {
      const sel = serviceSelector(s);
      const ns = s.object.metadata.namespace ?? 'default';
      const backends = index.selectedBy(ns, sel);
      const nsMode = nsModes.get(ns) ?? 'PERMISSIVE';
      const strict = backends.length ? backends.some((w) => w.mtls === 'STRICT') : nsMode === 'STRICT';
      if (strict) strictServices.set(key, s);
    }
    if (strictServices.size === 0) return [];
    const out: Finding[] = [];
    const report = (caller: WorkloadInfo, svcKey: string, how: string): void => {
      out.push({
        code: CODES.strictUninjectedCaller.code,
        severity: CODES.strictUninjectedCaller.severity,
        message: `has no sidecar but calls Service ${svcKey}, which requires mTLS (STRICT): its requests will be refused (${how})`,
        resource: caller.ref,
        ...where(caller.src),
      });
    };
    const uninjected = index.workloads.filter((w) => w.injected === false);
    for (const w of uninjected) {
      const done = new Set<string>();
      for (const h of namedHosts(w)) {
        for (const key of servicesNamedIn(h.text, w.namespace, strictServices)) {
          if (done.has(key)) continue;
          done.add(key);
          report(w, key, `named in ${h.where}`);
        }
      }
    }
    // Callers an ALLOW policy names: the policy's targets expect them.
    for (const p of authzPolicies(index)) {
      const policy = modelPolicy(index, p);
      if (!policy || policy.action === 'DENY') continue;
      const ns = policy.namespace;
      const targets = [...strictServices.entries()].filter(([, s]) => s.object.metadata.namespace === ns && (!policy.selector || index.workloadsIn(ns).some((w) => policyApplies(policy, ns, w.labels) && mapSelects(serviceSelector(s), w.labels))));
      if (targets.length === 0) continue;
      const sources = policy.rules.flatMap((r) => r.from);
      for (const w of uninjected) {
        if (!sources.some((src) => namesCaller(src, w.namespace, w.serviceAccount))) continue;
        for (const [key] of targets) report(w, key, `allowed as a caller by ${describeRef(refOf(p.object))}`);
      }
    }
    // One finding per caller and service, whichever way it was found.
    const seen = new Set<string>();
    return out.filter((f) => {
      const k = `${describeRef(f.resource)}|${/Service (\S+),/.exec(f.message)?.[1]}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
  },
};
