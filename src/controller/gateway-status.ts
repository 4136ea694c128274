import type { Cluster, KubeObject } from '../cluster/types.js';
import { ConflictError } from '../cluster/conflict.js';
import { GATEWAY_CLASS_CONTROLLER } from '../constants.js';
import { gatewayParentKey, isGatewayRef, type GatewayRouteCondition, type MeshGateway, type MeshGatewayClass } from '../model/gateway.js';
import type { MeshModel } from '../model/types.js';
import { deepEqual, isObject } from '../util/object.js';

type Obj = Record<string, unknown>;

/** Conditions as written: `observedGeneration`, and `lastTransitionTime` kept where the status did not change. */
export function stampConditions(conds: readonly { type: string; status: string; reason: string; message: string }[], old: unknown, generation: number | undefined, now: string): Obj[] {
  const before = (Array.isArray(old) ? old : []).filter(isObject);
  return conds.map((c) => {
    const prev = before.find((o) => o.type === c.type);
    const out: Obj = { type: c.type, status: c.status, reason: c.reason, message: c.message.slice(0, 32_768) };
    if (generation !== undefined) out.observedGeneration = generation;
    out.lastTransitionTime = prev && prev.status === c.status && typeof prev.lastTransitionTime === 'string' ? prev.lastTransitionTime : now;
    return out;
  });
}

function generationOf(o: KubeObject): number | undefined {
  return typeof o.metadata.generation === 'number' ? o.metadata.generation : undefined;
}

/** The status of a GatewayClass of mesh's: its Accepted condition. Undefined when it already has it. Pure. */
export function gatewayClassStatus(obj: KubeObject, cls: MeshGatewayClass, now: string): Obj | undefined {
  const current = isObject(obj.status) ? obj.status : {};
  const next: Obj = { ...current, conditions: stampConditions(cls.conditions, current.conditions, generationOf(obj), now) };
  return deepEqual(next, current) ? undefined : next;
}

/**
 * The status of a Gateway of a mesh class: addresses, Accepted/Programmed, and per listener its
 * supportedKinds, attachedRoutes and Accepted/ResolvedRefs/Conflicted/Programmed conditions.
 * Undefined when it already has it. Pure.
 */
export function gatewayStatus(obj: KubeObject, gw: MeshGateway, now: string): Obj | undefined {
  const current = isObject(obj.status) ? obj.status : {};
  const generation = generationOf(obj);
  const oldListeners = (Array.isArray(current.listeners) ? current.listeners : []).filter(isObject);
  const next: Obj = {
    ...current,
    addresses: gw.addresses.map((a) => ({ type: a.type, value: a.value })),
    conditions: stampConditions(gw.conditions, current.conditions, generation, now),
    listeners: gw.listeners.map((l) => ({
      name: l.name,
      supportedKinds: l.supportedKinds.map((kind) => ({ group: 'gateway.networking.k8s.io', kind })),
      attachedRoutes: l.attachedRoutes,
      conditions: stampConditions(l.conditions, oldListeners.find((o) => o.name === l.name)?.conditions, generation, now),
    })),
  };
  return deepEqual(next, current) ? undefined : next;
}

/**
 * The status of an HTTPRoute after mesh reports `conditions` for its Gateway parents (those of a
 * mesh GatewayClass): one `status.parents` entry per such parentRef (echoed as written) under
 * mesh's gateway controllerName; entries of other controllers (including mesh's GAMMA one) kept.
 * Undefined when the route already has it. Pure.
 */
export function gatewayRouteStatus(route: KubeObject, conditions: readonly GatewayRouteCondition[], now: string): Obj | undefined {
  const ns = route.metadata.namespace ?? 'default';
  const spec = isObject(route.spec) ? route.spec : {};
  const refs = (Array.isArray(spec.parentRefs) ? spec.parentRefs : []).filter(isObject).filter(isGatewayRef);
  const current = isObject(route.status) ? route.status : {};
  const entries = (Array.isArray(current.parents) ? current.parents : []).filter(isObject);
  const ours = entries.filter((p) => p.controllerName === GATEWAY_CLASS_CONTROLLER);
  const mine: Obj[] = [];
  for (const ref of refs) {
    const key = gatewayParentKey(ref, ns);
    const conds = conditions.filter((c) => c.parent === key);
    if (!conds.length) continue;
    const before = ours.find((p) => isObject(p.parentRef) && gatewayParentKey(p.parentRef, ns) === key);
    mine.push({ parentRef: ref, controllerName: GATEWAY_CLASS_CONTROLLER, conditions: stampConditions(conds, before?.conditions, generationOf(route), now) });
  }
  const next: Obj = { ...current, parents: [...entries.filter((p) => p.controllerName !== GATEWAY_CLASS_CONTROLLER), ...mine] };
  return deepEqual(next, { ...current, parents: entries }) ? undefined : next;
}

/**
 * Keeps the status of mesh's GatewayClasses, their Gateways and the HTTPRoutes attached to them in
 * step with the model, through the status subresource guarded by resourceVersion (a conflict is
 * retried at the next sync). Only the leader should call sync(); calls are serialized.
 */
export class GatewayStatusWriter {
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly cluster: Cluster,
    private readonly log: (line: string) => void = () => undefined,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private queued = false;

  /**
   * Bring every object to the status the model calls for. `state` is read when the write runs, not
   * when it is asked for, and asks made while one waits are folded into it: a write never works
   * from objects older than the last one wrote. Failures are logged, never thrown.
   */
  sync(state: () => { objects: readonly KubeObject[]; model: Pick<MeshModel, 'gatewayClasses' | 'gateways' | 'gatewayRouteConditions'> | undefined }): Promise<void> {
    const replaceStatus = this.cluster.replaceStatus?.bind(this.cluster);
    if (!replaceStatus || this.queued) return this.chain;
    this.queued = true;
    const gw = (o: KubeObject): boolean => o.apiVersion.startsWith('gateway.networking.k8s.io/');
    this.chain = this.chain.then(async () => {
      this.queued = false;
      const { objects, model } = state();
      if (!model) return;
      const now = this.now().toISOString().replace(/\.\d{3}Z$/, 'Z');
      const writes: [KubeObject, Obj | undefined][] = [];
      for (const o of objects) {
        if (!gw(o)) continue;
        if (o.kind === 'GatewayClass') {
          const c = (model.gatewayClasses ?? []).find((x) => x.ours && x.name === o.metadata.name);
          if (c) writes.push([o, gatewayClassStatus(o, c, now)]);
        } else if (o.kind === 'Gateway') {
          const g = (model.gateways ?? []).find((x) => x.name === o.metadata.name && x.namespace === (o.metadata.namespace ?? 'default'));
          if (g) writes.push([o, gatewayStatus(o, g, now)]);
        } else if (o.kind === 'HTTPRoute') {
          const key = `${o.metadata.namespace ?? 'default'}/${o.metadata.name}`;
          const conds = (model.gatewayRouteConditions ?? []).filter((c) => c.route === key);
          if (conds.length) writes.push([o, gatewayRouteStatus(o, conds, now)]);
        }
      }
      for (const [o, status] of writes) {
        if (!status) continue;
        const what = `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
        try {
          await replaceStatus({ ...o, status });
          this.log(`gateway status: ${what} updated`);
        } catch (err) {
          const why = err instanceof ConflictError ? 'changed meanwhile' : (err as Error).message;
          this.log(`gateway status: cannot write ${what} (will retry): ${why}`);
        }
      }
    });
    return this.chain;
  }
}
