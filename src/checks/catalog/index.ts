/**
 * The live check catalog: one file per check category, assembled here in the order `mesh check`
 * and `mesh check --pre` run and print them.
 */
import { apiReachable, apiVersion } from './kubernetes-api.js';
import { controlPlaneNamespace, controlPlanePods, controlPlaneVersion, crdsEstablished } from './control-plane.js';
import { missingSidecars, proxiesSynced, proxyVersions } from './data-plane.js';
import { clusterDns, serviceDns } from './dns.js';
import { crdsCompatible, httpRouteCrd, otherInjectors, podSecurity } from './environment.js';
import { proxyCerts, rootCa, trustBundle } from './identity.js';
import { permissionChecks } from './permissions.js';
import { policyAnalysis } from './policy.js';
import type { C } from './shared.js';
import { webhookCaBundle, webhookDryRun, webhookEndpoints } from './webhook.js';

export { MIN_KUBE_MINOR } from '../install-access.js';
export { parseLookups } from './dns.js';
export { KNOWN_MESH_INJECTORS } from './environment.js';
export { ROOT_ERROR_DAYS, ROOT_WARN_DAYS } from './identity.js';
export { policyAnalysis, summarizeFindings } from './policy.js';

/** `mesh check --pre`: can mesh be installed here? */
export function preInstallCatalog(): C[] {
  return [apiReachable, apiVersion, ...permissionChecks(), httpRouteCrd, otherInjectors, crdsCompatible, clusterDns, podSecurity];
}

/** `mesh check`: is the installed mesh healthy, and is its configuration right? */
export function postInstallCatalog(): C[] {
  return [
    apiReachable,
    apiVersion,
    controlPlaneNamespace,
    controlPlanePods,
    controlPlaneVersion,
    crdsEstablished,
    webhookEndpoints,
    webhookCaBundle,
    webhookDryRun,
    rootCa,
    trustBundle,
    proxyCerts,
    proxiesSynced,
    proxyVersions,
    missingSidecars,
    clusterDns,
    serviceDns,
    podSecurity,
    policyAnalysis,
  ];
}
