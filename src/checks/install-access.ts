import type { AccessAttributes } from '../cluster/types.js';

/**
 * What `mesh install` needs from a cluster, as data the pre-install catalog (catalog/permissions.ts) checks:
 * the oldest supported Kubernetes and every (verb, resource) install writes with. One list, so the
 * checks `mesh check --pre` and `mesh install` run ask exactly for what install does.
 */

/** Category of the pre-install checks that ask SelfSubjectAccessReview: failing means forbidden (exit 3). */
export const PERMISSIONS_CATEGORY = 'permissions';

/** Oldest Kubernetes minor version the manifests target (policy/v1 PDB, admission v1, SSA GA). */
export const MIN_KUBE_MINOR = 27;

/** Every (verb, resource) install needs; server-side apply needs create and patch. */
export function requiredAccess(namespace: string): AccessAttributes[] {
  const cluster: [string, string][] = [
    ['apiextensions.k8s.io', 'customresourcedefinitions'],
    ['', 'namespaces'],
    ['rbac.authorization.k8s.io', 'clusterroles'],
    ['rbac.authorization.k8s.io', 'clusterrolebindings'],
    ['admissionregistration.k8s.io', 'mutatingwebhookconfigurations'],
  ];
  const namespaced: [string, string][] = [
    ['', 'serviceaccounts'],
    ['rbac.authorization.k8s.io', 'roles'],
    ['rbac.authorization.k8s.io', 'rolebindings'],
    ['', 'configmaps'],
    ['', 'secrets'],
    ['', 'services'],
    ['apps', 'deployments'],
    ['policy', 'poddisruptionbudgets'],
  ];
  const out: AccessAttributes[] = [];
  for (const verb of ['get', 'create', 'patch']) {
    for (const [group, resource] of cluster) out.push({ verb, group, resource });
    for (const [group, resource] of namespaced) out.push({ verb, group, resource, namespace });
  }
  return out;
}

/** Parse a Kubernetes minor version ("29", "29+") into a number, or undefined. */
export function parseMinor(minor: string): number | undefined {
  const m = /^(\d+)/.exec(minor);
  return m ? Number(m[1]) : undefined;
}

/** `verb resource.group` as RBAC and kubectl name it. */
export function describeAccess(a: AccessAttributes): string {
  return `${a.verb} ${a.group ? `${a.resource}.${a.group}` : a.resource}${a.namespace ? ` in namespace ${a.namespace}` : ' (cluster-wide)'}`;
}
