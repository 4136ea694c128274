import { FIELD_MANAGER, LABEL_NAME } from '../constants.js';
import type { Cluster, KubeObject } from '../cluster/types.js';
import { objectRef, STAGES, stageOf, type Stage } from '../manifests/render.js';
import { ExitCode, MeshError, toMeshError } from '../errors.js';

/**
 * Staged server-side apply: stages in dependency order (CRDs, then waiting until Established;
 * namespace; RBAC; config; workloads, then waiting for rollout; the webhook last), objects within a
 * stage in parallel. Any failure becomes an ApplyInterrupted that lists what was applied.
 */

export type ApplyAction = 'created' | 'configured' | 'unchanged';

/** One applied object and what the apply did to it. */
export interface ApplyRecord {
  ref: string;
  kind: string;
  name: string;
  namespace?: string;
  stage: Stage;
  action: ApplyAction;
}

/** Progress callbacks of applyStaged (all optional, called synchronously). */
export interface ApplyHooks {
  /** A stage starts (`what` is a short description for the progress line). */
  onStage?(stage: Stage, what: string): void;
  /** An object was applied. */
  onApplied?(rec: ApplyRecord): void;
  /** A wait is under way (progress text). */
  onWait?(text: string): void;
}

/** Options of applyStaged. */
export interface StagedApplyOptions extends ApplyHooks {
  /** Take over fields other field managers own. */
  force?: boolean;
  /** Wait for CRDs (always) and, when true, for the Deployment rollout before the webhook. */
  wait: boolean;
  /** Overall deadline for waits, ms. */
  timeoutMs: number;
  /** Longest poll interval of waits, ms (default 500; polls start at 25 ms and double). */
  pollMs?: number;
  /** Stop between stages and during waits (Ctrl-C); in-flight requests of a stage finish first. */
  signal?: AbortSignal;
}

/** Thrown when applying stops part-way: `applied` is exactly what reached the cluster. */
export class ApplyInterrupted extends MeshError {
  constructor(readonly applied: readonly ApplyRecord[], readonly total: number, readonly failure: MeshError) {
    super(failure.message, { hint: failure.hint, exitCode: failure.exitCode, cause: failure });
    this.name = 'ApplyInterrupted';
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Poll delays: quick at first (most waits end within a few hundred ms), then every `max` ms. */
function backoff(max: number): () => number {
  let d = Math.min(25, max);
  return () => {
    const now = d;
    d = Math.min(max, d * 2);
    return now;
  };
}

/**
 * Compare an object before and after apply. An unchanged resourceVersion means no write; a changed
 * one still counts as unchanged when only bookkeeping or status moved (managedFields timestamps,
 * CRD conditions: some servers rewrite those on a no-op apply).
 */
export function classify(before: KubeObject | undefined, after: KubeObject): ApplyAction {
  if (!before) return 'created';
  if (before.metadata.resourceVersion !== undefined && before.metadata.resourceVersion === after.metadata.resourceVersion) return 'unchanged';
  return JSON.stringify(comparable(before)) === JSON.stringify(comparable(after)) ? 'unchanged' : 'configured';
}

/** What an apply can change: status belongs to controllers, RV and managedFields to bookkeeping. */
function comparable(o: KubeObject): unknown {
  const { resourceVersion: _r, managedFields: _m, ...meta } = o.metadata;
  const { status: _s, ...rest } = o;
  return { ...rest, metadata: meta };
}

/**
 * Apply one object as our field manager and say what happened to it. `before` is the object as
 * read earlier (undefined: absent); when not given it is read now.
 */
export async function applyOne(cluster: Cluster, obj: KubeObject, force: boolean, read?: Promise<KubeObject | undefined>): Promise<ApplyRecord> {
  const before = await (read ?? cluster.get(obj.apiVersion, obj.kind, obj.metadata.name, obj.metadata.namespace));
  const after = await cluster.apply(obj, { fieldManager: FIELD_MANAGER, force });
  return { ref: objectRef(obj), kind: obj.kind, name: obj.metadata.name, namespace: obj.metadata.namespace, stage: stageOf(obj), action: classify(before, after) };
}

const STAGE_TEXT: Record<Stage, string> = {
  crds: 'custom resource definitions',
  namespace: 'namespace',
  rbac: 'service account and RBAC',
  config: 'configuration and root CA',
  workloads: 'control plane',
  webhook: 'sidecar-injection webhook',
};

/**
 * What each stage's objects need in the cluster before they are sent: namespaced objects their
 * namespace; the Deployment its ServiceAccount, RBAC, ConfigMaps and Secret, and Established CRDs
 * (the controller watches them); the webhook a rolled-out controller (it answers the webhook).
 * A stage is sent as soon as the stages it needs are applied (and waited for), so the namespace
 * goes out with the CRDs and RBAC with the configuration; progress is still reported stage by
 * stage, in STAGES order.
 */
const NEEDS: Record<Stage, readonly Stage[]> = {
  crds: [],
  namespace: [],
  rbac: ['namespace'],
  config: ['namespace'],
  workloads: ['crds', 'namespace', 'rbac', 'config'],
  webhook: ['crds', 'namespace', 'rbac', 'config', 'workloads'],
};

/** Apply `objects` stage by stage. Returns every record, in apply order within each stage's input order. */
export async function applyStaged(cluster: Cluster, objects: readonly KubeObject[], opts: StagedApplyOptions): Promise<ApplyRecord[]> {
  const applied: ApplyRecord[] = [];
  const deadline = Date.now() + opts.timeoutMs;
  // Read every object's current state up front, in parallel: one round trip instead of one per
  // stage. Each stage awaits only its own reads. Stages never change each other's objects.
  const befores = new Map<KubeObject, Promise<KubeObject | undefined>>();
  for (const o of objects) {
    const p = cluster.get(o.apiVersion, o.kind, o.metadata.name, o.metadata.namespace);
    p.catch(() => undefined); // a failed read is reported when its stage awaits it
    befores.set(o, p);
  }
  const batches = new Map(STAGES.map((stage) => [stage, objects.filter((o) => stageOf(o) === stage)] as const));
  // A stage is ready once applied without failure and, for CRDs and workloads, waited for.
  const ready = new Set<Stage>(STAGES.filter((stage) => batches.get(stage)!.length === 0));
  const sent = new Map<Stage, Promise<PromiseSettledResult<ApplyRecord>[]>>();
  let stopped = false;
  const send = (stage: Stage) => {
    let results = sent.get(stage);
    if (!results) {
      results = Promise.allSettled(batches.get(stage)!.map((o) => applyOne(cluster, o, opts.force === true, befores.get(o))));
      sent.set(stage, results);
      // A stage with nothing to wait for is ready when its applies are; CRDs and workloads are
      // ready after their waits, in the loop below (their progress line shows the wait).
      if (stage !== 'crds' && stage !== 'workloads') {
        void results.then((rs) => {
          if (rs.every((r) => r.status === 'fulfilled')) {
            ready.add(stage);
            sendReady();
          }
        });
      }
    }
    return results;
  };
  // Send every stage whose needs are met; never after a failure or Ctrl-C.
  function sendReady(): void {
    if (stopped || opts.signal?.aborted) return;
    for (const stage of STAGES) if (!ready.has(stage) && !sent.has(stage) && NEEDS[stage].every((n) => ready.has(n))) void send(stage);
  }
  const reported = new Set<Stage>();
  try {
    sendReady();
    for (const stage of STAGES) {
      const batch = batches.get(stage)!;
      if (batch.length === 0) continue;
      checkAborted(opts.signal);
      opts.onStage?.(stage, STAGE_TEXT[stage]);
      const results = await send(stage);
      reported.add(stage);
      for (const r of results) {
        if (r.status === 'fulfilled') {
          applied.push(r.value);
          opts.onApplied?.(r.value);
        }
      }
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      if (stage === 'crds') await waitForCrds(cluster, batch.map((o) => o.metadata.name), deadline, opts);
      if (stage === 'workloads' && opts.wait) {
        for (const d of batch.filter((o) => o.kind === 'Deployment')) await waitForRollout(cluster, d.metadata.name, d.metadata.namespace ?? '', deadline, opts);
      }
      ready.add(stage);
      sendReady();
    }
  } catch (err) {
    stopped = true;
    // Stages sent ahead of the one that failed may have reached the cluster too: list them.
    for (const stage of STAGES) {
      const results = sent.get(stage);
      if (!results || reported.has(stage)) continue;
      for (const r of await results) if (r.status === 'fulfilled') applied.push(r.value);
    }
    throw new ApplyInterrupted(applied, objects.length, toMeshError(err));
  }
  return applied;
}

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new MeshError('interrupted (Ctrl-C)', { exitCode: ExitCode.Failed });
}

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

/** Wait until every named CRD has condition Established=True; exit 1 naming the laggard otherwise. */
export async function waitForCrds(cluster: Cluster, names: readonly string[], deadline: number, opts: Pick<StagedApplyOptions, 'onWait' | 'pollMs' | 'timeoutMs' | 'signal'>): Promise<void> {
  const pending = new Set(names);
  let last: Record<string, Condition[]> = {};
  const delay = backoff(opts.pollMs ?? 500);
  for (;;) {
    checkAborted(opts.signal);
    const got = await Promise.all([...pending].map((n) => cluster.get('apiextensions.k8s.io/v1', 'CustomResourceDefinition', n)));
    last = {};
    for (const crd of got) {
      if (!crd) continue;
      const conds = ((crd.status as { conditions?: Condition[] } | undefined)?.conditions ?? []);
      last[crd.metadata.name] = conds;
      if (conds.some((c) => c.type === 'Established' && c.status === 'True')) pending.delete(crd.metadata.name);
    }
    if (pending.size === 0) return;
    if (Date.now() >= deadline) {
      const name = [...pending][0]!;
      const why = (last[name] ?? []).find((c) => c.status !== 'True' && c.message);
      throw new MeshError(`CustomResourceDefinition ${name} did not become Established within ${Math.round(opts.timeoutMs / 1000)}s${why ? `: ${why.reason ?? why.type}: ${why.message}` : ''}`, {
        hint: `inspect it with "kubectl get crd ${name} -o yaml"; re-run with a longer --timeout`,
      });
    }
    opts.onWait?.(`waiting for ${pending.size} CRD(s) to be Established`);
    await sleep(Math.max(0, Math.min(delay(), deadline - Date.now())));
  }
}

interface DeploymentStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
}

/** True when the Deployment's current generation is fully rolled out and available. */
export function rolledOut(d: KubeObject): boolean {
  const want = (d.spec as { replicas?: number } | undefined)?.replicas ?? 1;
  const s = (d.status ?? {}) as DeploymentStatus;
  return (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 0) && (s.updatedReplicas ?? 0) >= want && (s.availableReplicas ?? 0) >= want && (s.replicas ?? 0) <= want;
}

/** Wait for a Deployment rollout; on timeout, exit 1 with the failing pods' reasons. */
export async function waitForRollout(cluster: Cluster, name: string, namespace: string, deadline: number, opts: Pick<StagedApplyOptions, 'onWait' | 'pollMs' | 'timeoutMs' | 'signal'>): Promise<void> {
  const delay = backoff(opts.pollMs ?? 500);
  for (;;) {
    checkAborted(opts.signal);
    const d = await cluster.get('apps/v1', 'Deployment', name, namespace);
    if (d && rolledOut(d)) return;
    const s = (d?.status ?? {}) as DeploymentStatus;
    const want = (d?.spec as { replicas?: number } | undefined)?.replicas ?? 1;
    if (Date.now() >= deadline) {
      const reasons = await podProblems(cluster, namespace, `${LABEL_NAME}=${name}`);
      throw new MeshError(
        `Deployment ${namespace}/${name} did not roll out within ${Math.round(opts.timeoutMs / 1000)}s (${s.readyReplicas ?? 0}/${want} ready)${reasons.length ? `: ${reasons.join('; ')}` : ''}`,
        { hint: `inspect with "kubectl -n ${namespace} describe pods -l ${LABEL_NAME}=${name}"; re-run with a longer --timeout to keep waiting` },
      );
    }
    opts.onWait?.(`waiting for ${namespace}/${name}: ${s.readyReplicas ?? 0}/${want} replicas ready`);
    await sleep(Math.max(0, Math.min(delay(), deadline - Date.now())));
  }
}

interface PodStatus {
  phase?: string;
  conditions?: Condition[];
  containerStatuses?: { name: string; ready?: boolean; state?: { waiting?: { reason?: string; message?: string }; terminated?: { reason?: string; exitCode?: number } } }[];
}

/** One line per unready pod: why it is not ready, from its status and its Warning events. */
export async function podProblems(cluster: Cluster, namespace: string, labelSelector: string): Promise<string[]> {
  const [pods, events] = await Promise.all([
    cluster.list('v1', 'Pod', { namespace, labelSelector }).catch(() => [] as KubeObject[]),
    cluster.list('v1', 'Event', { namespace }).catch(() => [] as KubeObject[]),
  ]);
  const out: string[] = [];
  for (const p of [...pods].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))) {
    const st = (p.status ?? {}) as PodStatus;
    const ready = st.conditions?.find((c) => c.type === 'Ready');
    if (ready?.status === 'True') continue;
    const why: string[] = [];
    for (const c of st.containerStatuses ?? []) {
      const w = c.state?.waiting;
      const t = c.state?.terminated;
      if (w?.reason) why.push(`${c.name} ${w.reason}${w.message ? ` (${w.message})` : ''}`);
      else if (t?.reason) why.push(`${c.name} ${t.reason} (exit ${t.exitCode ?? '?'})`);
      else if (c.ready === false) why.push(`${c.name} not ready`);
    }
    if (why.length === 0 && ready?.reason) why.push(`${ready.reason}${ready.message ? ` (${ready.message})` : ''}`);
    const warn = events
      .filter((e) => (e.involvedObject as { name?: string } | undefined)?.name === p.metadata.name && e.type === 'Warning')
      .map((e) => `${String(e.reason ?? '')}: ${String(e.message ?? '')}`);
    if (warn.length) why.push(warn[warn.length - 1]!);
    out.push(`pod ${p.metadata.name} ${st.phase ?? 'Unknown'}${why.length ? `: ${why.join(', ')}` : ''}`);
  }
  return out;
}
