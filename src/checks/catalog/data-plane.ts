/** Checks of the data-plane category (post-install): proxies connected, in sync, current and present. */
import { CONTROLLER_NAME, LABEL_INJECT, LABEL_PROXY_VERSION, LABEL_VERSION, MESH_DOMAIN, PROXY_CONTAINER } from '../../constants.js';
import type { KubeObject } from '../../cluster/types.js';
import type { LiveContext } from '../context.js';
import { containerNames, nsName } from '../k8s.js';
import { readSyncz, SynczUnavailable } from '../syncz.js';
import { type C, fail, pass, skip, warn } from './shared.js';
import { isObject } from '../../util/object.js';

function meshedPods(ctx: LiveContext): Promise<KubeObject[]> {
  return ctx.list('v1', 'Pod', { labelSelector: LABEL_PROXY_VERSION });
}

function running(p: KubeObject): boolean {
  return isObject(p.status) && p.status.phase === 'Running' && !p.metadata.deletionTimestamp;
}

/** data-plane.proxies-synced: every injected proxy is connected to the control plane and in sync. */
export const proxiesSynced: C = {
  id: 'data-plane.proxies-synced',
  category: 'data-plane',
  description: 'every injected proxy is connected to the control plane and in sync',
  severity: 'error',
  hintAnchor: 'data-plane-proxies-synced',
  async run(ctx) {
    const pods = (await meshedPods(ctx)).filter(running);
    if (pods.length === 0) return pass('no injected pods running');
    let sync;
    try {
      sync = await readSyncz(ctx);
    } catch (err) {
      if (err instanceof SynczUnavailable) return skip(err.message, `allow "get pods/proxy" in ${ctx.namespace}, and check the control plane pods are ready`);
      throw err;
    }
    const byPod = new Map(sync.map((s) => [`${s.namespace}/${s.pod}`, s]));
    const problems: string[] = [];
    for (const p of pods) {
      const s = byPod.get(nsName(p));
      if (!s) problems.push(`${nsName(p)}: not connected to any control plane replica`);
      else if (!s.connected) problems.push(`${nsName(p)}: disconnected from ${s.controller}`);
      else {
        for (const t of s.types) {
          if (t.nack) problems.push(`${nsName(p)}: ${t.type} NACKed: ${t.nack}`);
          else if (t.sent !== undefined && t.sent !== t.acked) problems.push(`${nsName(p)}: ${t.type} stale (sent ${t.sent}, acked ${t.acked ?? 'nothing'})`);
        }
      }
    }
    if (problems.length) return fail(`${new Set(problems.map((x) => x.split(':')[0])).size}/${pods.length} proxies not in sync`, 'see "mesh proxy-status" and the control plane logs; a NACK names the rejected config', problems);
    return pass(`${pods.length} prox${pods.length === 1 ? 'y' : 'ies'} connected and in sync`);
  },
};

/** data-plane.version: proxies run the control plane's version. */
export const proxyVersions: C = {
  id: 'data-plane.version',
  category: 'data-plane',
  description: "proxies run the control plane's version",
  severity: 'warning',
  hintAnchor: 'data-plane-version',
  async run(ctx) {
    const pods = (await meshedPods(ctx)).filter(running);
    const dep = await ctx.get('apps/v1', 'Deployment', CONTROLLER_NAME, ctx.namespace);
    const want = dep?.metadata.labels?.[LABEL_VERSION] ?? ctx.version;
    const old = pods.filter((p) => p.metadata.labels?.[LABEL_PROXY_VERSION] !== want);
    if (old.length) return warn(`${old.length}/${pods.length} proxies are not on ${want}`, 'restart those workloads (kubectl rollout restart) so they get the current proxy', old.map((p) => `${nsName(p)} runs ${p.metadata.labels?.[LABEL_PROXY_VERSION]}`));
    return pass(pods.length ? `${pods.length} prox${pods.length === 1 ? 'y' : 'ies'} on ${want}` : 'no injected pods running');
  },
};

/** data-plane.injection: pods in namespaces labelled for injection have the sidecar. */
export const missingSidecars: C = {
  id: 'data-plane.injection',
  category: 'data-plane',
  description: 'pods in namespaces labelled for injection have the sidecar',
  severity: 'warning',
  hintAnchor: 'data-plane-injection',
  async run(ctx) {
    const namespaces = (await ctx.list('v1', 'Namespace')).filter((n) => n.metadata.labels?.[LABEL_INJECT] === 'enabled');
    if (namespaces.length === 0) return pass(`no namespace is labelled ${LABEL_INJECT}=enabled`);
    const lists = await Promise.all(namespaces.map((n) => ctx.list('v1', 'Pod', { namespace: n.metadata.name })));
    const lacking = lists
      .flat()
      .filter(running)
      .filter((p) => p.metadata.annotations?.[`${MESH_DOMAIN}/inject`] !== 'disabled' && p.metadata.labels?.[`${MESH_DOMAIN}/inject`] !== 'disabled')
      .filter((p) => !(isObject(p.spec) && p.spec.hostNetwork === true))
      .filter((p) => !containerNames(p).includes(PROXY_CONTAINER));
    if (lacking.length) return warn(`${lacking.length} pod(s) have no sidecar: they started before injection was enabled`, `restart them, e.g. kubectl -n ${lacking[0]!.metadata.namespace} rollout restart deploy`, lacking.map((p) => `${nsName(p)} needs a restart`));
    return pass(`every pod in ${namespaces.length} injected namespace(s) has the sidecar`);
  },
};
