/** Checks of the control-plane category (post-install): namespace, pods, version and CRDs. */
import { CONTROLLER_NAME, LABEL_NAME, LABEL_VERSION, MESH_DOMAIN } from '../../constants.js';
import type { KubeObject } from '../../cluster/types.js';
import type { LiveContext } from '../context.js';
import { conditionStatus, podReady } from '../k8s.js';
import { type C, fail, pass } from './shared.js';
import { isObject } from '../../util/object.js';

/** control-plane.namespace: the control plane namespace exists. */
export const controlPlaneNamespace: C = {
  id: 'control-plane.namespace',
  category: 'control-plane',
  description: 'the control plane namespace exists',
  severity: 'error',
  hintAnchor: 'control-plane-namespace',
  async run(ctx) {
    const ns = await ctx.get('v1', 'Namespace', ctx.namespace);
    if (!ns) return fail(`namespace ${ctx.namespace} does not exist`, 'run "mesh install", or pass --mesh-namespace if the mesh lives elsewhere');
    return pass(`namespace ${ctx.namespace} exists`);
  },
};

function controllerPods(ctx: LiveContext): Promise<KubeObject[]> {
  return ctx.list('v1', 'Pod', { namespace: ctx.namespace, labelSelector: `${LABEL_NAME}=${CONTROLLER_NAME}` });
}

/** control-plane.pods-ready: control plane pods are ready. */
export const controlPlanePods: C = {
  id: 'control-plane.pods-ready',
  category: 'control-plane',
  description: 'control plane pods are ready',
  severity: 'error',
  hintAnchor: 'control-plane-pods-ready',
  async run(ctx) {
    const pods = await controllerPods(ctx);
    if (pods.length === 0) return fail(`no ${CONTROLLER_NAME} pods in ${ctx.namespace}`, `check the Deployment: kubectl -n ${ctx.namespace} describe deploy ${CONTROLLER_NAME}`);
    const notReady = pods.filter((p) => !podReady(p));
    if (notReady.length) return fail(`${pods.length - notReady.length}/${pods.length} ${CONTROLLER_NAME} pods ready`, `kubectl -n ${ctx.namespace} describe pod ${notReady[0]!.metadata.name}`, notReady.map((p) => `${p.metadata.name} is not ready`));
    return pass(`${pods.length}/${pods.length} ${CONTROLLER_NAME} pods ready`);
  },
};

/** control-plane.version: control plane runs the CLI's version. */
export const controlPlaneVersion: C = {
  id: 'control-plane.version',
  category: 'control-plane',
  description: "control plane runs the CLI's version",
  severity: 'warning',
  hintAnchor: 'control-plane-version',
  async run(ctx) {
    const dep = await ctx.get('apps/v1', 'Deployment', CONTROLLER_NAME, ctx.namespace);
    if (!dep) return fail(`Deployment ${ctx.namespace}/${CONTROLLER_NAME} not found`, 'run "mesh install"');
    const pods = await controllerPods(ctx);
    const versions = new Set<string>([dep.metadata.labels?.[LABEL_VERSION] ?? 'unknown', ...pods.map((p) => p.metadata.labels?.[LABEL_VERSION] ?? dep.metadata.labels?.[LABEL_VERSION] ?? 'unknown')]);
    const others = [...versions].filter((v) => v !== ctx.version);
    if (others.length) return fail(`control plane runs ${[...versions].join(', ')}, this CLI is ${ctx.version}`, 'run "mesh upgrade" with this CLI, or use the CLI matching the control plane');
    return pass(`control plane and CLI are both ${ctx.version}`);
  },
};

/** control-plane.crds-established: mesh.dev CRDs are installed and established. */
export const crdsEstablished: C = {
  id: 'control-plane.crds-established',
  category: 'control-plane',
  description: `${MESH_DOMAIN} CRDs are installed and established`,
  severity: 'error',
  hintAnchor: 'control-plane-crds-established',
  async run(ctx) {
    const crds = (await ctx.list('apiextensions.k8s.io/v1', 'CustomResourceDefinition')).filter((c) => isObject(c.spec) && c.spec.group === MESH_DOMAIN);
    const names = crds.map((c) => c.metadata.name);
    const missing = [`authorizationpolicies.${MESH_DOMAIN}`].filter((n) => !names.includes(n));
    const pending = crds.filter((c) => conditionStatus(c, 'Established') !== 'True').map((c) => c.metadata.name);
    if (missing.length) return fail(`missing: ${missing.join(', ')}`, 'run "mesh install" (or "mesh upgrade") to install the CRDs');
    if (pending.length) return fail(`not established: ${pending.join(', ')}`, 'the API server has not accepted them yet; wait, or check "kubectl describe crd NAME"');
    return pass(`${crds.length} CRD(s) established`);
  },
};
