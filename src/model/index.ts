/** The pure mesh model: Kubernetes objects in, the mesh's view out (see DESIGN.md). */
export * from './types.js';
export { namesCaller, parsePrincipal, policyApplies, principalId } from './authz.js';
export { authzFrom, buildModel, templatePods, withPods, withTemplatePods, isEndpointSlice, namespacesFrom, parseSamplingAnnotation, telemetryOverride, servicesFrom, workloadsFrom, isHttp, policiesFor, portProtocol, reachableServices, sameEndpoints, serviceKey, sliceService, updateEndpoints } from './build.js';
export type { PodLookup } from './build.js';
export type { ModelOptions } from './build.js';
export { actionRules, decide, firstMatch, permissionMatches, portAuthz, requestDependentRules, sourceMatches } from './authz.js';
export type { ActionRules, AuthzDecision, AuthzRequest, DroppedRule, IdMatch, PathMatch, PermissionMatch, PortAuthz, RuleMatch } from './authz.js';
export { defaultDenies, inboundDecision, inboundPort, inboundPortAuthz } from './inbound-authz.js';
export { byNamespace, inNamespace, selectedIn, selecting } from './grouped.js';
export { egressPlan, egressVerdict, EGRESS_BLOCKED_CLUSTER } from './egress.js';
export type { EgressConflict, EgressEntry, EgressPlan, EgressVerdict } from './egress.js';
export { externalServicesFrom } from './build.js';
export { backendPolicy, trafficPolicies, TRAFFIC_POLICY_KIND, LB_TYPES } from './policy.js';
export type { PolicyResult } from './policy.js';
