import type { AccessAttributes, Cluster } from '../cluster/types.js';
import { ExitCode, MeshError } from '../ui/errors.js';

/**
 * The minimal checks `mesh install` runs before changing anything (the full catalog is
 * `mesh check`): the API server answers, its version is supported, and the user may do every verb
 * install needs. Skipped with --skip-checks.
 */

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

/** Run the pre-install checks; throws a MeshError (exit 3 unreachable/forbidden, 1 unsupported). */
export async function preInstallChecks(cluster: Cluster, namespace: string): Promise<{ kubernetes: string }> {
  const v = await cluster.serverVersion();
  const minor = parseMinor(v.minor);
  if (v.major !== '1' || minor === undefined || minor < MIN_KUBE_MINOR) {
    throw new MeshError(`Kubernetes ${v.gitVersion || `${v.major}.${v.minor}`} is not supported: mesh needs 1.${MIN_KUBE_MINOR} or newer`, {
      hint: 'upgrade the cluster, or pass --skip-checks to try anyway',
      exitCode: ExitCode.Failed,
    });
  }
  const wanted = requiredAccess(namespace);
  const results = await Promise.all(wanted.map((a) => cluster.canI(a)));
  const denied = wanted.filter((_, i) => !results[i]!.allowed);
  if (denied.length) {
    const more = denied.length > 1 ? ` (and ${denied.length - 1} more: ${denied.slice(1, 4).map(describeAccess).join('; ')}${denied.length > 4 ? '; ...' : ''})` : '';
    throw new MeshError(`forbidden: you may not ${describeAccess(denied[0]!)}${more}`, {
      hint: 'install needs cluster-admin or an equivalent role; use another --context, or ask for these permissions',
      exitCode: ExitCode.Cluster,
    });
  }
  return { kubernetes: v.gitVersion };
}
