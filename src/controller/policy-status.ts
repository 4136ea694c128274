import type { Cluster, KubeObject } from '../cluster/types.js';
import { StatusWriter } from './status-writer.js';
import { MESH_DOMAIN } from '../constants.js';
import { principalProblem } from '../analyzers/authz.js';
import { egressPlan, policyApplies, type MeshModel } from '../model/index.js';
import { deepEqual, isObject } from '../util/object.js';

// The `Accepted` condition on AuthorizationPolicies, ExternalServices and TrafficPolicies: what the controller made
// of each (the same readings `mesh check` reports as findings), so `kubectl get authz -o yaml`
// says why a policy does nothing. Written by the leader through the status subresource.

type Obj = Record<string, unknown>;

/** One policy's Accepted condition, by `KIND NS/NAME`. */
export interface PolicyCondition {
  status: 'True' | 'False';
  /** Accepted, Invalid (the controller skipped or dropped part of it), TargetNotFound (selects no workload), Conflicted (an older ExternalService has it). */
  reason: 'Accepted' | 'Invalid' | 'TargetNotFound' | 'Conflicted';
  message: string;
}

const isMeshPolicy = (o: KubeObject): boolean => (o.kind === 'AuthorizationPolicy' || o.kind === 'ExternalService' || o.kind === 'TrafficPolicy') && o.apiVersion.startsWith(`${MESH_DOMAIN}/`);
const keyOf = (o: KubeObject): string => `${o.kind} ${o.metadata.namespace ?? 'default'}/${o.metadata.name}`;

/** The Accepted condition of every AuthorizationPolicy and ExternalService in `objects` under `model` (built from them). Pure. */
export function policyConditions(objects: readonly KubeObject[], model: MeshModel): Map<string, PolicyCondition> {
  const out = new Map<string, PolicyCondition>();
  const warningsOf = (key: string) => model.warnings.filter((w) => w.object === key).map((w) => w.message);
  const conflicts = egressPlan(model).conflicts;
  for (const o of objects.filter(isMeshPolicy)) {
    const key = keyOf(o);
    const ns = o.metadata.namespace ?? 'default';
    const warnings = warningsOf(key);
    if (o.kind === 'TrafficPolicy') {
      // The model judges TrafficPolicies itself (GEP-713 reasons: TargetNotFound, Conflicted, Invalid).
      const c = (model.policyConditions ?? []).find((x) => x.policy === `${ns}/${o.metadata.name}`);
      if (c) out.set(key, { status: c.status, reason: c.reason, message: c.message });
      continue;
    }
    if (o.kind === 'AuthorizationPolicy') {
      const p = model.authz.find((x) => x.namespace === ns && x.name === o.metadata.name);
      if (!p) {
        out.set(key, { status: 'False', reason: 'Invalid', message: warnings.join('; ') || 'not read' });
        continue;
      }
      const bad = p.rules.flatMap((r) => r.from.flatMap((f) => f.principals)).map((x) => principalProblem(x, model.trustDomain)).filter((x): x is string => x !== undefined);
      if (warnings.length || bad.length) out.set(key, { status: 'False', reason: 'Invalid', message: `${[...warnings, ...bad].join('; ')} (the rest of the policy applies)` });
      else if (!model.workloads.some((w) => policyApplies(p, w.namespace, w.labels))) out.set(key, { status: 'False', reason: 'TargetNotFound', message: `${p.selector ? 'its selector' : 'namespace ' + ns} matches no workload, so the policy applies to nothing` });
      else out.set(key, { status: 'True', reason: 'Accepted', message: 'programmed on the workloads it selects' });
    } else {
      const mine = conflicts.filter((c) => c.service === `${ns}/${o.metadata.name}`);
      const skipped = !(model.externalServices ?? []).some((e) => e.namespace === ns && e.name === o.metadata.name);
      if (skipped || warnings.length) out.set(key, { status: 'False', reason: 'Invalid', message: `${warnings.join('; ')}${skipped ? '' : ' (the rest applies)'}` });
      else if (mine.length) out.set(key, { status: 'False', reason: 'Conflicted', message: mine.map((c) => `${c.host}:${c.port} not programmed: ${c.why}`).join('; ') });
      else out.set(key, { status: 'True', reason: 'Accepted', message: 'programmed on every sidecar' });
    }
  }
  return out;
}

/** The status an object should have for `c` (observedGeneration, a kept transition time), or undefined when it has it already. Pure. */
export function policyStatus(o: KubeObject, c: PolicyCondition, now: string): Obj | undefined {
  const current = isObject(o.status) ? o.status : {};
  const old = (Array.isArray(current.conditions) ? current.conditions : []).filter(isObject).find((x) => x.type === 'Accepted');
  const generation = typeof o.metadata.generation === 'number' ? o.metadata.generation : undefined;
  const cond: Obj = { type: 'Accepted', status: c.status, reason: c.reason, message: c.message.slice(0, 32_768), lastTransitionTime: old && old.status === c.status && typeof old.lastTransitionTime === 'string' ? old.lastTransitionTime : now };
  if (generation !== undefined) cond.observedGeneration = generation;
  const others = (Array.isArray(current.conditions) ? current.conditions : []).filter(isObject).filter((x) => x.type !== 'Accepted');
  const next: Obj = { ...current, conditions: [...others, cond] };
  if (generation !== undefined) next.observedGeneration = generation;
  return deepEqual(next, current) ? undefined : next;
}

/** Keeps the Accepted condition of AuthorizationPolicies and ExternalServices in step with the model (leader only; calls serialized; failures logged). */
export class PolicyStatusWriter {
  private readonly writer: StatusWriter;

  constructor(cluster: Cluster, log: (line: string) => void = () => undefined, now: () => Date = () => new Date()) {
    this.writer = new StatusWriter(cluster, 'policy status', log, now);
  }

  /** Bring every policy in `objects` to the condition `model` calls for. */
  sync(objects: readonly KubeObject[], model: MeshModel): Promise<void> {
    const policies = objects.filter(isMeshPolicy);
    const conditions = policyConditions(policies, model);
    return this.writer.sync((now) =>
      policies.map((o) => {
        const key = keyOf(o);
        const c = conditions.get(key);
        return { object: o, key, status: c && policyStatus(o, c, now), written: `${key} ${c?.status === 'True' ? 'accepted' : `not accepted (${c?.reason})`}` };
      }),
    );
  }
}
