import type { Cluster, KubeObject } from '../cluster/types.js';
import { StatusWriter } from './status-writer.js';
import { MESH_DOMAIN } from '../constants.js';
import { isMeshRouteKind } from '../model/routes.js';
import type { RouteCondition } from '../model/types.js';
import { deepEqual, isObject } from '../util/object.js';

/** The Gateway API controllerName mesh writes into `status.parents[].controllerName`. */
export const ROUTE_CONTROLLER_NAME = `${MESH_DOMAIN}/mesh-controller`;

type Obj = Record<string, unknown>;

/** `NS/NAME[:PORT]` of a Service parentRef, as the model names parents. */
function parentKey(ref: Obj, routeNs: string): string | undefined {
  if (ref.kind !== 'Service' || (ref.group !== undefined && ref.group !== '' && ref.group !== 'core')) return undefined;
  const ns = typeof ref.namespace === 'string' && ref.namespace ? ref.namespace : routeNs;
  return `${ns}/${String(ref.name)}${typeof ref.port === 'number' ? `:${ref.port}` : ''}`;
}

/**
 * The `status` an HTTPRoute or GRPCRoute should have after mesh reports `conditions` for its Service parents:
 * one `status.parents` entry per Service parentRef (the parentRef echoed as written), entries of
 * other controllers kept as they are, `lastTransitionTime` kept where a condition's status did not
 * change, `observedGeneration` the route's generation. Undefined when the route already has it,
 * so a sync with nothing new writes nothing. Pure; `now` is an RFC 3339 time.
 */
export function routeStatus(route: KubeObject, conditions: readonly RouteCondition[], now: string): Obj | undefined {
  const ns = route.metadata.namespace ?? 'default';
  const spec = isObject(route.spec) ? route.spec : {};
  const refs = (Array.isArray(spec.parentRefs) ? spec.parentRefs : []).filter(isObject);
  const current = isObject(route.status) ? route.status : {};
  const entries = (Array.isArray(current.parents) ? current.parents : []).filter(isObject);
  const others = entries.filter((p) => p.controllerName !== ROUTE_CONTROLLER_NAME);
  const ours = entries.filter((p) => p.controllerName === ROUTE_CONTROLLER_NAME);
  const generation = typeof route.metadata.generation === 'number' ? route.metadata.generation : undefined;
  const mine: Obj[] = [];
  for (const ref of refs) {
    const key = parentKey(ref, ns);
    if (!key) continue;
    const conds = conditions.filter((c) => c.parent === key);
    if (!conds.length) continue;
    const before = ours.find((p) => isObject(p.parentRef) && parentKey(p.parentRef, ns) === key);
    const oldConds = (before && Array.isArray(before.conditions) ? before.conditions : []).filter(isObject);
    mine.push({
      parentRef: ref,
      controllerName: ROUTE_CONTROLLER_NAME,
      conditions: conds.map((c) => {
        const old = oldConds.find((o) => o.type === c.type);
        const out: Obj = { type: c.type, status: c.status, reason: c.reason, message: c.message.slice(0, 32_768) };
        if (generation !== undefined) out.observedGeneration = generation;
        out.lastTransitionTime = old && old.status === c.status && typeof old.lastTransitionTime === 'string' ? old.lastTransitionTime : now;
        return out;
      }),
    });
  }
  const next: Obj = { ...current, parents: [...others, ...mine] };
  return deepEqual(next, { ...current, parents: entries }) ? undefined : next;
}

/**
 * Keeps the status of every HTTPRoute and GRPCRoute with a Service parent in step with the model: writes through
 * the status subresource, guarded by resourceVersion (a conflict is retried at the next sync with
 * the newer object). Only the leader should call sync(); calls are serialized.
 */
export class RouteStatusWriter {
  private readonly writer: StatusWriter;

  constructor(cluster: Cluster, log: (line: string) => void = () => undefined, now: () => Date = () => new Date()) {
    this.writer = new StatusWriter(cluster, 'route status', log, now);
  }

  /** Bring each route in `objects` to the status `conditions` call for. Failures are logged, never thrown. */
  sync(objects: readonly KubeObject[], conditions: readonly RouteCondition[]): Promise<void> {
    const routes = objects.filter(isMeshRouteKind);
    return this.writer.sync((now) =>
      routes.map((r) => {
        const key = `${r.metadata.namespace ?? 'default'}/${r.metadata.name}`;
        return { object: r, key: `${r.kind} ${key}`, status: routeStatus(r, conditions.filter((c) => c.route === key && (c.kind ?? 'HTTPRoute') === r.kind), now), written: `${r.kind} ${key} updated` };
      }),
    );
  }
}
