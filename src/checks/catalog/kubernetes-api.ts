/** Checks of the kubernetes-api category: is the API server reachable and recent enough (pre and post). */
import { MIN_KUBE_MINOR, parseMinor } from '../install-access.js';
import { type C, fail, pass } from './shared.js';

/** kubernetes-api.reachable: can reach the Kubernetes API server. */
export const apiReachable: C = {
  id: 'kubernetes-api.reachable',
  category: 'kubernetes-api',
  description: 'can reach the Kubernetes API server',
  severity: 'error',
  hintAnchor: 'kubernetes-api-reachable',
  async run(ctx) {
    const v = await ctx.serverVersion();
    return pass(`${ctx.cluster.server}, Kubernetes ${v.gitVersion}, context ${ctx.cluster.contextName}`);
  },
};

/** kubernetes-api.version: Kubernetes version is supported (1.MIN_KUBE_MINOR or newer). */
export const apiVersion: C = {
  id: 'kubernetes-api.version',
  category: 'kubernetes-api',
  description: `Kubernetes version is supported (1.${MIN_KUBE_MINOR} or newer)`,
  severity: 'error',
  hintAnchor: 'kubernetes-api-version',
  async run(ctx) {
    const v = await ctx.serverVersion();
    const minor = parseMinor(v.minor);
    if (v.major !== '1' || minor === undefined || minor < MIN_KUBE_MINOR) {
      return fail(`the cluster runs ${v.gitVersion || `${v.major}.${v.minor}`}`, `upgrade the cluster to Kubernetes 1.${MIN_KUBE_MINOR} or newer`);
    }
    return pass(`Kubernetes ${v.gitVersion}`);
  },
};
