import { MESH_DOMAIN } from '../constants.js';
import { TRAFFIC_POLICY_KIND } from '../model/index.js';
import { CODES } from './codes.js';
import { refOf, where, type AnalysisIndex } from './lookup.js';
import type { Analyzer, Finding } from './types.js';

const BY_REASON = { TargetNotFound: CODES.policyTargetMissing, Conflicted: CODES.policyConflict, Invalid: CODES.policyInvalid } as const;

/**
 * TrafficPolicies the model did not accept, with the reason the controller writes into the
 * policy's Accepted condition: a targetRef to nothing (MSH0034), a target an older policy already
 * has (MSH0035), a value mesh refuses such as a limit of 0 (MSH0036). The same reading the xDS
 * translation and the status writer use, so check, status and proxies agree.
 */
export const trafficPolicy: Analyzer<AnalysisIndex> = {
  name: 'traffic policy',
  codes: [CODES.policyTargetMissing, CODES.policyConflict, CODES.policyInvalid],
  analyze(index) {
    const out: Finding[] = [];
    for (const p of (index.kinds.get(TRAFFIC_POLICY_KIND) ?? []).filter((s) => s.object.apiVersion.startsWith(`${MESH_DOMAIN}/`))) {
      const key = `${p.object.metadata.namespace ?? 'default'}/${p.object.metadata.name}`;
      const c = (index.model.policyConditions ?? []).find((x) => x.policy === key);
      if (!c || c.status === 'True' || c.reason === 'Accepted') continue;
      const code = BY_REASON[c.reason];
      out.push({ code: code.code, severity: code.severity, message: `${c.message} (Accepted=False, reason ${c.reason})`, resource: refOf(p.object), ...where(p) });
    }
    return out;
  },
};
