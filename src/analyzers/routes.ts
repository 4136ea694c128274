import { isMeshRouteKind, routeOrder } from '../model/routes.js';
import { CODES } from './codes.js';
import { arr, describeRef, refOf, str, where, type AnalysisIndex } from './lookup.js';
import { isObject } from '../util/object.js';
import type { Analyzer, Finding, SourcedObject } from './types.js';

type Obj = Record<string, unknown>;

function isServiceRef(r: Obj): boolean {
  const kind = str(r.kind) ?? 'Service';
  const group = str(r.group) ?? '';
  return kind === 'Service' && (group === '' || group === 'core');
}

function servicePorts(svc: SourcedObject | undefined): number[] {
  const spec = isObject(svc?.object.spec) ? svc.object.spec : {};
  return arr(spec.ports).map((p) => p.port).filter((p): p is number => typeof p === 'number');
}

/** The HTTPRoutes and GRPCRoutes of the input. */
function meshRouteObjects(index: AnalysisIndex): SourcedObject[] {
  return [...(index.kinds.get('HTTPRoute') ?? []), ...(index.kinds.get('GRPCRoute') ?? [])].filter((s) => isMeshRouteKind(s.object));
}

/** The model's `Kind NS/NAME` of a route (conditions and routes carry no kind for HTTPRoutes). */
function kindKey(kind: string | undefined, ns: string, name: string): string {
  return `${kind ?? 'HTTPRoute'} ${ns}/${name}`;
}

function finding(code: { code: string; severity: Finding['severity'] }, src: SourcedObject, message: string): Finding {
  return { code: code.code, severity: code.severity, message, resource: refOf(src.object), ...where(src) };
}

/**
 * HTTPRoute and GRPCRoute references (GAMMA: parentRef kind Service): parents and backends must name an existing
 * Service and one of its ports (MSH0001-0004); a rule's weights must not sum to zero (MSH0005).
 */
export const routeReferences: Analyzer<AnalysisIndex> = {
  name: 'route references',
  codes: [CODES.routeParentMissing, CODES.routeParentPort, CODES.routeBackendMissing, CODES.routeBackendPort, CODES.routeZeroWeights],
  analyze(index) {
    const out: Finding[] = [];
    for (const r of meshRouteObjects(index)) {
      const ns = r.object.metadata.namespace ?? 'default';
      const spec = isObject(r.object.spec) ? r.object.spec : {};
      for (const p of arr(spec.parentRefs)) {
        if (!isServiceRef({ ...p, kind: p.kind ?? 'Gateway' })) continue; // Gateways are not ours to check
        const pns = str(p.namespace) ?? ns;
        const name = str(p.name) ?? '';
        const svc = index.services.get(`${pns}/${name}`);
        if (!svc) {
          out.push(finding(CODES.routeParentMissing, r, `parentRef Service ${pns}/${name} does not exist, so the route attaches to nothing`));
          continue;
        }
        const port = typeof p.port === 'number' ? p.port : undefined;
        const ports = servicePorts(svc);
        if (port !== undefined && !ports.includes(port)) {
          out.push(finding(CODES.routeParentPort, r, `parentRef Service ${pns}/${name} has no port ${port} (ports: ${ports.join(', ') || 'none'})`));
        }
      }
      arr(spec.rules).forEach((rule, i) => {
        const refs = arr(rule.backendRefs);
        let total = 0;
        for (const b of refs) {
          const weight = typeof b.weight === 'number' ? b.weight : 1;
          total += weight;
          if (!isServiceRef(b)) continue;
          const bns = str(b.namespace) ?? ns;
          const name = str(b.name) ?? '';
          const svc = index.services.get(`${bns}/${name}`);
          if (!svc) {
            out.push(finding(CODES.routeBackendMissing, r, `rule ${i + 1}: backendRef Service ${bns}/${name} does not exist; its share of traffic fails with 500`));
            continue;
          }
          const ports = servicePorts(svc);
          if (typeof b.port !== 'number') {
            out.push(finding(CODES.routeBackendPort, r, `rule ${i + 1}: backendRef Service ${bns}/${name} has no port (required for Service backends; ports: ${ports.join(', ') || 'none'})`));
          } else if (!ports.includes(b.port)) {
            out.push(finding(CODES.routeBackendPort, r, `rule ${i + 1}: backendRef Service ${bns}/${name} has no port ${b.port} (ports: ${ports.join(', ') || 'none'})`));
          }
        }
        if (refs.length > 0 && total === 0) {
          out.push(finding(CODES.routeZeroWeights, r, `rule ${i + 1}: backend weights sum to zero, so every request it matches gets a 500`));
        }
      });
    }
    return out;
  },
};

/** A match normalised so equal matches compare equal (a rule without matches matches PathPrefix /, or every gRPC method). */
function matchKeys(rule: Obj, kind: string): string[] {
  const ms = arr(rule.matches);
  const grpc = (m: Obj): string => {
    const method = isObject(m.method) ? m.method : {};
    const headers = arr(m.headers).map((h) => `${(str(h.name) ?? '').toLowerCase()}:${str(h.type) ?? 'Exact'}:${String(h.value)}`).sort();
    return JSON.stringify(['gRPC method', `${str(method.type) ?? 'Exact'} ${str(method.service) ?? '*'}/${str(method.method) ?? '*'}`, '', headers, []]);
  };
  const norm = (m: Obj): string => {
    if (kind === 'GRPCRoute') return grpc(m);
    const path = isObject(m.path) ? { type: str(m.path.type) ?? 'PathPrefix', value: str(m.path.value) ?? '/' } : { type: 'PathPrefix', value: '/' };
    const headers = arr(m.headers).map((h) => `${(str(h.name) ?? '').toLowerCase()}:${str(h.type) ?? 'Exact'}:${String(h.value)}`).sort();
    const query = arr(m.queryParams).map((q) => `${str(q.name) ?? ''}:${str(q.type) ?? 'Exact'}:${String(q.value)}`).sort();
    return JSON.stringify([path.type, path.value, str(m.method) ?? '', headers, query]);
  };
  return ms.length ? ms.map(norm) : [norm({})];
}

/**
 * Two HTTPRoutes attached to the same Service port with an identical match (MSH0006): Gateway API
 * gives the older route precedence, so the newer one's rule silently never applies.
 * Reported on every route but the one that wins (oldest creationTimestamp, then namespace/name).
 */
export const routeConflicts: Analyzer<AnalysisIndex> = {
  name: 'route conflicts',
  codes: [CODES.routeConflict],
  analyze(index) {
    const claims = new Map<string, SourcedObject[]>();
    for (const r of meshRouteObjects(index)) {
      const ns = r.object.metadata.namespace ?? 'default';
      const spec = isObject(r.object.spec) ? r.object.spec : {};
      const keys = new Set(arr(spec.rules).flatMap((rule) => matchKeys(rule, r.object.kind)));
      for (const p of arr(spec.parentRefs)) {
        if (!isServiceRef({ ...p, kind: p.kind ?? 'Gateway' })) continue;
        const parent = `${str(p.namespace) ?? ns}/${str(p.name) ?? ''}:${typeof p.port === 'number' ? p.port : '*'}`;
        for (const k of keys) {
          const id = `${parent}|${k}`;
          const list = claims.get(id) ?? [];
          if (!list.includes(r)) list.push(r);
          claims.set(id, list);
        }
      }
    }
    const out: Finding[] = [];
    const seen = new Set<string>();
    for (const [id, list] of claims) {
      if (list.length < 2) continue;
      const sorted = [...list].sort(precedence);
      const winner = sorted[0]!;
      const [parent, match] = id.split('|') as [string, string];
      const m = JSON.parse(match) as [string, string, string, string[], string[]];
      const matchText = `${m[0]} ${m[1]}${m[2] ? ` ${m[2]}` : ''}${m[3].length ? ` headers ${m[3].join(',')}` : ''}`;
      for (const loser of sorted.slice(1)) {
        const key = `${describeRef(refOf(loser.object))}|${parent}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push(finding(CODES.routeConflict, loser, `claims parent ${parent.replace(/:\*$/, '')} with match "${matchText}" already claimed by ${describeRef(refOf(winner.object))}, which takes precedence`));
      }
    }
    return out;
  },
};

function precedence(a: SourcedObject, b: SourcedObject): number {
  const key = (o: SourcedObject): { createdAt?: string; namespace: string; name: string } => ({ createdAt: o.object.metadata.creationTimestamp, namespace: o.object.metadata.namespace ?? '', name: o.object.metadata.name });
  return routeOrder(key(a), key(b));
}

/**
 * What the mesh model decided about each route (the same decision the control plane programs):
 * a route refused for a match it cannot translate (MSH0014), rules that answer 500 because they
 * cannot forward (MSH0015), backendRefs refused by ReferenceGrant or kind (MSH0016), and an
 * HTTPRoute or GRPCRoute refused because the other kind, older, holds the parent (MSH0006). Missing
 * parents and backends are MSH0001-0004 above.
 */
export const routeProgramming: Analyzer<AnalysisIndex> = {
  name: 'route programming',
  codes: [CODES.routeNotProgrammed, CODES.routeRuleFails, CODES.routeRefNotPermitted, CODES.routeConflict],
  analyze(index) {
    const byKey = new Map(meshRouteObjects(index).map((r) => [kindKey(r.object.kind, r.object.metadata.namespace ?? 'default', r.object.metadata.name), r]));
    const out: Finding[] = [];
    const seen = new Set<string>();
    const once = (code: { code: string; severity: Finding['severity'] }, src: SourcedObject, message: string): void => {
      const key = `${code.code}|${src.object.metadata.namespace}/${src.object.metadata.name}|${message}`;
      if (seen.has(key)) return;
      seen.add(key);
      out.push(finding(code, src, message));
    };
    for (const c of index.model.routeConditions) {
      const src = byKey.get(`${c.kind ?? 'HTTPRoute'} ${c.route}`);
      if (!src || c.status === (c.type === 'PartiallyInvalid' ? 'False' : 'True')) continue;
      if (c.type === 'Accepted' && c.reason === 'Conflicted') once(CODES.routeConflict, src, `not attached to Service ${c.parent} (Accepted=False, Conflicted): ${c.message}`);
      else if (c.type === 'Accepted' && c.reason === 'UnsupportedValue') once(CODES.routeNotProgrammed, src, `not programmed (Accepted=False, UnsupportedValue): ${c.message}`);
      else if (c.type === 'PartiallyInvalid') once(CODES.routeRuleFails, src, c.message);
      else if (c.type === 'ResolvedRefs' && c.reason !== 'BackendNotFound') {
        for (const part of c.message.split('; ')) if (/another namespace|is not a Service/.test(part)) once(CODES.routeRefNotPermitted, src, `${part} (ResolvedRefs=False, ${c.reason})`);
      }
    }
    for (const r of index.model.routes) {
      const src = byKey.get(kindKey(r.kind, r.namespace, r.name));
      if (!src) continue;
      for (const rule of r.rules) if (rule.failure?.reason === 'NoBackends' && !/weight 0/.test(rule.failure.message)) once(CODES.routeRuleFails, src, `${rule.failure.message}, so requests it matches get HTTP 500`);
    }
    return out;
  },
};
