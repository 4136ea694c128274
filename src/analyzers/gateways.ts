import { CODES } from './codes.js';
import { refOf, where, type AnalysisIndex } from './lookup.js';
import type { Analyzer, Finding, SourcedObject } from './types.js';

function finding(code: { code: string; severity: Finding['severity'] }, src: SourcedObject, message: string): Finding {
  return { code: code.code, severity: code.severity, message, resource: refOf(src.object), ...where(src) };
}

/**
 * Ingress Gateways of mesh's GatewayClasses, as the model (and so the status the controller
 * writes) sees them: an HTTPRoute a Gateway does not take, or whose backends do not resolve there,
 * with the spec's reason (MSH0020: NotAllowedByListeners, NoMatchingListenerHostname,
 * NoMatchingParent, BackendNotFound, RefNotPermitted, ...), and a listener that is not programmed
 * (MSH0021: InvalidCertificateRef, RefNotPermitted, UnsupportedProtocol, HostnameConflict, ...).
 */
export const gateways: Analyzer<AnalysisIndex> = {
  name: 'gateways',
  codes: [CODES.gatewayRouteNotAttached, CODES.gatewayListenerInvalid],
  analyze(index) {
    const out: Finding[] = [];
    const byKey = (kind: string): Map<string, SourcedObject> => new Map((index.kinds.get(kind) ?? []).filter((s) => s.object.apiVersion.startsWith('gateway.networking.k8s.io/')).map((s) => [`${s.object.metadata.namespace ?? 'default'}/${s.object.metadata.name}`, s]));
    const routes = byKey('HTTPRoute');
    for (const c of index.model.gatewayRouteConditions ?? []) {
      const src = routes.get(c.route);
      if (!src || c.status === 'True' || c.type === 'PartiallyInvalid') continue;
      const what = c.type === 'Accepted' ? 'not attached to' : 'has unresolved backends on';
      out.push(finding(CODES.gatewayRouteNotAttached, src, `${what} Gateway ${c.parent} (${c.type}=False, ${c.reason}): ${c.message}`));
    }
    const gws = byKey('Gateway');
    for (const gw of index.model.gateways ?? []) {
      const src = gws.get(`${gw.namespace}/${gw.name}`);
      if (!src) continue;
      for (const l of gw.listeners) {
        if (l.programmed) continue;
        const bad = l.conditions.filter((c) => (c.type === 'Conflicted' ? c.status === 'True' : c.status === 'False') && c.type !== 'Programmed');
        out.push(finding(CODES.gatewayListenerInvalid, src, `listener ${l.name} (port ${l.port}) is not programmed: ${bad.map((c) => `${c.type}=${c.status}, ${c.reason}: ${c.message}`).join('; ') || 'no route kind it may take'}`));
      }
    }
    return out;
  },
};
