import type { Cluster, KubeObject } from '../cluster/types.js';
import { ConflictError } from '../cluster/conflict.js';
import { gatewayObjects, gatewayParameters, GATEWAY_DEFAULTS, type GatewayParameters } from '../manifests/gateway.js';
import type { Values } from '../manifests/values.js';
import type { MeshModel } from '../model/types.js';
import { deepEqual, isObject } from '../util/object.js';

/** The fields of a provisioned object mesh owns: a difference in any of them is corrected. */
function owned(o: KubeObject): unknown {
  const m = o.metadata;
  const spec = isObject(o.spec) ? { ...o.spec } : undefined;
  // The API server fills in clusterIP(s), nodePorts and the like: only what we set is compared.
  return { labels: m.labels, annotations: m.annotations ?? {}, ownerReferences: m.ownerReferences, spec, automount: (o as Record<string, unknown>).automountServiceAccountToken };
}

function subset(want: unknown, have: unknown): boolean {
  if (Array.isArray(want)) return Array.isArray(have) && want.length === have.length && want.every((w, i) => subset(w, have[i]));
  if (isObject(want)) return isObject(have) && Object.entries(want).every(([k, v]) => v === undefined || subset(v, have[k]));
  return deepEqual(want, have);
}

/**
 * Provisions the proxies of every Gateway of a mesh GatewayClass: creates or updates its
 * ServiceAccount, Deployment and Service (src/manifests/gateway.ts), owned by the Gateway so
 * Kubernetes deletes them with it. A GatewayClass parametersRef ConfigMap is read on each sync
 * (replicas, serviceType); a bad one is logged and the defaults apply. Only the leader should
 * call sync(); calls are serialized and failures are logged, never thrown.
 */
export class GatewayProvisioner {
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly cluster: Cluster,
    private readonly version: string,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  private async parameters(ref: string | undefined): Promise<GatewayParameters> {
    if (!ref) return GATEWAY_DEFAULTS;
    const [ns, name] = ref.split('/') as [string, string];
    const cm = await this.cluster.get('v1', 'ConfigMap', name, ns).catch((err: unknown) => {
      this.log(`gateway: cannot read parameters ConfigMap ${ref}: ${(err as Error).message}; defaults apply`);
      return undefined;
    });
    const data = cm && isObject(cm.data) ? (cm.data as Record<string, string>) : undefined;
    if (!cm) return GATEWAY_DEFAULTS;
    const p = gatewayParameters(data);
    if ('problem' in p) {
      this.log(`gateway: parameters ConfigMap ${ref}: ${p.problem}; defaults apply`);
      return GATEWAY_DEFAULTS;
    }
    return p;
  }

  private queued = false;

  /** Bring every Gateway's objects to what the model calls for; `state` is read when the work runs (asks made meanwhile fold into it). */
  sync(state: () => { objects: readonly KubeObject[]; model: Pick<MeshModel, 'gateways' | 'gatewayClasses'> | undefined }, values: Values): Promise<void> {
    if (this.queued) return this.chain;
    this.queued = true;
    this.chain = this.chain.then(async () => {
      this.queued = false;
      const { objects, model } = state();
      if (!model) return;
      for (const gw of model.gateways ?? []) {
        const obj = objects.find((o) => o.kind === 'Gateway' && o.metadata.name === gw.name && o.metadata.namespace === gw.namespace && o.apiVersion.startsWith('gateway.networking.k8s.io/'));
        const uid = obj?.metadata.uid;
        if (!obj || !uid) continue;
        const cls = (model.gatewayClasses ?? []).find((c) => c.name === gw.className);
        const params = await this.parameters(cls?.parametersRef);
        for (const want of gatewayObjects(gw, { apiVersion: obj.apiVersion, uid }, params, values, this.version)) {
          const what = `${want.kind} ${gw.namespace}/${want.metadata.name}`;
          try {
            const have = await this.cluster.get(want.apiVersion, want.kind, want.metadata.name, gw.namespace);
            if (!have) {
              await this.cluster.create(want);
              this.log(`gateway: created ${what}`);
            } else if (!subset(owned(want), owned(have))) {
              const spec = isObject(have.spec) && isObject(want.spec) ? { ...have.spec, ...want.spec } : want.spec;
              await this.cluster.replace({ ...have, ...want, metadata: { ...have.metadata, ...want.metadata, resourceVersion: have.metadata.resourceVersion }, ...(spec ? { spec } : {}) });
              this.log(`gateway: updated ${what}`);
            }
          } catch (err) {
            const why = err instanceof ConflictError ? 'changed meanwhile' : (err as Error).message;
            this.log(`gateway: cannot provision ${what} (will retry): ${why}`);
          }
        }
      }
    });
    return this.chain;
  }
}
