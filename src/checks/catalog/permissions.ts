/**
 * Checks of the permissions category (pre-install): one check per resource install writes, each
 * asking SelfSubjectAccessReview for every verb install uses on it. The list is install's own
 * (../install-access.ts).
 */
import { describeAccess, PERMISSIONS_CATEGORY, requiredAccess } from '../install-access.js';
import { few } from '../k8s.js';
import { type C, fail, pass } from './shared.js';

/** One permissions check per resource install writes (pre-install). */
export function permissionChecks(): C[] {
  const byResource = new Map<string, { group: string; resource: string; clusterScoped: boolean }>();
  for (const a of requiredAccess('NAMESPACE')) byResource.set(`${a.group}/${a.resource}`, { group: a.group, resource: a.resource, clusterScoped: a.namespace === undefined });
  return [...byResource.values()].map(({ group, resource }) => ({
    id: `permissions.${resource}`,
    category: PERMISSIONS_CATEGORY,
    description: `can create and update ${group ? `${resource}.${group}` : resource}`,
    severity: 'error',
    hintAnchor: 'permissions',
    async run(ctx) {
      const wanted = requiredAccess(ctx.namespace).filter((a) => a.group === group && a.resource === resource);
      const answers = await Promise.all(wanted.map((a) => ctx.canI(a)));
      const denied = wanted.filter((_, i) => !answers[i]!.allowed);
      if (denied.length) {
        return fail(`not allowed to ${few(denied.map(describeAccess))}`, 'install needs cluster-admin or an equivalent role; use another --context or ask for these permissions');
      }
      return pass(`allowed: ${wanted.map((a) => a.verb).join(', ')}`);
    },
  }));
}
