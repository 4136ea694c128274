import { setTimeout as delay } from 'node:timers/promises';
import { ConflictError } from '../cluster/conflict.js';
import type { Cluster, KubeObject } from '../cluster/types.js';
import { HTTPROUTE_API_VERSION, HTTPROUTE_CRD, HTTPROUTE_KIND, ANNOTATION_FAULT, ANNOTATION_RETRY } from '../constants.js';
import { ExitCode, MeshError, toMeshError } from '../errors.js';
import {
  buildCanaryRoute,
  readCanaryConfig,
  rolloutOf,
  ruleViews,
  setWeights,
  splitWeights,
  type CanaryConfig,
  type CanaryStage,
  type RuleView,
} from './httproute.js';
import type { MetricsSource } from './metrics.js';
import type { CanaryOptions } from './options.js';
import {
  decide,
  effectivePhase,
  evaluateGates,
  resumeStep,
  splitFor,
  watchExitCode,
  type BackendStats,
  type GateReading,
  type Phase,
  type RolloutState,
} from './rollout.js';

/**
 * The route operations behind `mesh route`: read the cluster, decide, write, and report what
 * happened as RouteEvents (printing them is src/commands/route-run.ts). Time comes from an injected
 * Clock, so a rollout's minutes run in milliseconds in tests.
 */

/** Something a route operation did or saw, in order; the command prints each as it comes. */
export type RouteEvent =
  /** Another HTTPRoute attaches to the same Service. */
  | { type: 'warning'; message: string }
  | { type: 'note'; message: string }
  /** A route was written (or, with dryRun, would have been): `verb` says how (created, configured, ...). */
  | { type: 'route'; route: KubeObject; verb: string; dryRun: boolean }
  /** --dry-run of a progressive rollout: where it would start. */
  | { type: 'rollout-planned'; step: number; steps: number; weight: number; intervalMs: number }
  | { type: 'rollout-resumed'; canary: string; step: number; steps: number; weight: number }
  /** A step's wait began; `label` names the step ("step 2/4: 25% to web-v2"). */
  | { type: 'step-started'; label: string; intervalMs: number; judgeAt: string }
  /** The gates were judged at the end of a step and the next state was written. */
  | { type: 'step-judged'; label: string; reading: GateReading }
  /** The step ended without a judgement: `why` says how (interrupted, a failed write). */
  | { type: 'step-failed'; label: string; why: string }
  /** Interrupted: the pause was recorded on the route (phase Paused). */
  | { type: 'paused'; service: string; stable: string; canary: string; weight: number }
  /** Interrupted, but recording the pause failed. */
  | { type: 'pause-not-recorded'; canary: string; weight: number; error: string }
  /** The next state was not written because someone else changed the route; what it says now. */
  | { type: 'changed-by-other'; phase?: Phase; weights: string }
  /** The next state was not written: the API server refused. */
  | { type: 'write-failed'; canary: string; weight: number; phase: Phase }
  | { type: 'promoted'; canary: string }
  | { type: 'rolled-back'; stable: string; reason: string }
  /** A progressive rollout ended (promoted, rolled back or interrupted): the route's final status. */
  | { type: 'rollout-finished'; report: StatusReport }
  /** The status of the route: once, or (watching) each time it changes. */
  | { type: 'status'; report: StatusReport; watching: boolean }
  /** A watch stopped before the rollout finished. */
  | { type: 'watch-stopped'; reason: 'no-rollout' | 'timeout' | 'deleted'; route: string; phase?: Phase | 'None'; timeoutMs?: number }
  | { type: 'show'; report: ShowReport };

/** Where route operations send their events. */
export type Emit = (event: RouteEvent) => void;

/** Time, injectable so tests run a rollout's minutes in milliseconds. */
export interface Clock {
  now(): number;
  /** Resolve after `ms`; reject with an AbortError when `signal` aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The wall clock. */
export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => delay(ms, undefined, { signal }),
};

/** What route operations need from outside: the cluster, optional metrics, time and cancellation. */
export interface RouteDeps {
  cluster: Cluster;
  metrics?: MetricsSource;
  clock?: Clock;
  /** Aborting it (Ctrl-C) stops a progressive rollout or a watch at the next wait, in a stated state. */
  signal?: AbortSignal;
}

/** Output format of the route commands: a human summary, or the object/report as data. */
export type RouteOutput = 'table' | 'json' | 'yaml';

/** Options every route subcommand takes. */
export interface RouteCommon {
  namespace: string;
  output: RouteOutput;
}

const HINT_CRD = `run "mesh install --gateway-api", or apply the upstream Gateway API CRDs (standard channel, v1.1 or later: kubectl apply -f standard-install.yaml from github.com/kubernetes-sigs/gateway-api/releases)`;

/** Fail with a clear error (exit 1) when the HTTPRoute CRD is not served. */
export async function requireHttpRouteCrd(cluster: Cluster): Promise<void> {
  if (!(await cluster.hasKind(HTTPROUTE_API_VERSION, HTTPROUTE_KIND))) {
    throw new MeshError(`the cluster does not serve ${HTTPROUTE_KIND} ${HTTPROUTE_API_VERSION}: the CRD ${HTTPROUTE_CRD} is missing`, { hint: HINT_CRD, exitCode: ExitCode.Failed });
  }
}

function routeName(ns: string, name: string): string {
  return `HTTPRoute ${ns}/${name}`;
}

async function getRoute(cluster: Cluster, ns: string, service: string): Promise<KubeObject> {
  const route = await cluster.get(HTTPROUTE_API_VERSION, HTTPROUTE_KIND, service, ns);
  if (!route) throw new MeshError(`no ${routeName(ns, service)}`, { hint: `create it with "mesh route canary ${service} --canary ${service}-v2 --weight 10 -n ${ns}"` });
  return route;
}

interface SvcPort {
  port: number;
  name?: string;
}

/**
 * A read started before it is awaited (independent reads in parallel). It may never be awaited,
 * when an earlier step throws: its failure is then not an unhandled rejection.
 */
function early<T>(read: Promise<T>): Promise<T> {
  read.catch(() => undefined);
  return read;
}

async function servicePorts(cluster: Cluster, ns: string, name: string, role: string): Promise<SvcPort[]> {
  const svc = await cluster.get('v1', 'Service', name, ns);
  if (!svc) throw new MeshError(`${role} Service ${ns}/${name} does not exist`, { hint: `create the Service first (kubectl get svc -n ${ns})` });
  const spec = (svc.spec ?? {}) as { ports?: { port?: unknown; name?: unknown }[] };
  return (spec.ports ?? []).flatMap((p) => (typeof p.port === 'number' ? [{ port: p.port, ...(typeof p.name === 'string' ? { name: p.name } : {}) }] : []));
}

/** Pick a backend Service's port: the one numbered like the parent port, or its only port. */
function pickPort(ports: SvcPort[], wanted: number | undefined, ns: string, name: string): number {
  if (wanted !== undefined && ports.some((p) => p.port === wanted)) return wanted;
  if (ports.length === 1) return ports[0]!.port;
  if (ports.length === 0) throw new MeshError(`Service ${ns}/${name} has no ports`, { hint: 'a route needs a Service port to send traffic to' });
  throw new MeshError(`Service ${ns}/${name} has ${ports.length} ports (${ports.map((p) => p.port).join(', ')})${wanted !== undefined ? ` and none is ${wanted}` : ''}`, {
    hint: 'pick the port to route with --port PORT',
    exitCode: ExitCode.Usage,
  });
}

function nowIso(clock: Clock): string {
  return new Date(clock.now()).toISOString();
}

/** Write `route`: replace when it was read (its resourceVersion guards the write), else create. */
async function write(cluster: Cluster, route: KubeObject): Promise<KubeObject> {
  return route.metadata.resourceVersion ? cluster.replace(route) : cluster.create(route);
}

/**
 * `mesh route canary`: create or update the service's HTTPRoute with a stable/canary split, then,
 * with --steps, run the progressive rollout. Returns the exit code.
 */
export async function canaryRoute(opts: CanaryOptions & RouteCommon, deps: RouteDeps, emit: Emit): Promise<number> {
  const { cluster } = deps;
  const clock = deps.clock ?? realClock;
  const ns = opts.namespace;
  const gatesNeedData = opts.gates.maxErrorRatePercent !== undefined || opts.gates.maxP99Ms !== undefined;
  if (opts.steps && gatesNeedData && !deps.metrics) {
    throw new MeshError('metrics unavailable: pass --prometheus-url', { hint: 'the --max-error-rate / --max-p99 gates are judged on live metrics; without gates a rollout advances on time alone', exitCode: ExitCode.Usage });
  }
  // Every read that does not depend on another starts now (one round trip instead of six); each is
  // awaited where it is needed, so the first failure reported is the same as one after another.
  const crdServed = early(requireHttpRouteCrd(cluster));
  const parentRead = early(servicePorts(cluster, ns, opts.service, 'parent'));
  const existingRead = early(cluster.get(HTTPROUTE_API_VERSION, HTTPROUTE_KIND, opts.service, ns));
  const routesRead = early(cluster.list(HTTPROUTE_API_VERSION, HTTPROUTE_KIND, { namespace: ns }));
  const stableRead = opts.stable !== undefined && opts.stable !== opts.service ? early(servicePorts(cluster, ns, opts.stable, 'stable')) : undefined;
  const canaryRead = early(servicePorts(cluster, ns, opts.canary, 'canary'));
  const mirrorRead = opts.mirror ? early(servicePorts(cluster, ns, opts.mirror, 'mirror')) : undefined;
  await crdServed;
  const parentPorts = await parentRead;
  const existing = await existingRead;
  const prevCfg = existing ? readCanaryConfig(existing) : undefined;
  if (existing && !prevCfg) {
    throw new MeshError(`${routeName(ns, opts.service)} exists and was not created by "mesh route canary"; its rules would be replaced`, {
      hint: `change its weights with "mesh route set ${opts.service} BACKEND=WEIGHT...", or delete it (kubectl delete httproute ${opts.service} -n ${ns}) to let mesh manage it`,
    });
  }
  const others = (await routesRead).filter(
    (r) => r.metadata.name !== opts.service && JSON.stringify((r.spec as { parentRefs?: unknown } | undefined)?.parentRefs ?? []).includes(`"name":"${opts.service}"`),
  );
  for (const o of others) emit({ type: 'warning', message: `${routeName(ns, o.metadata.name)} also attaches to Service ${opts.service}; both routes apply` });
  const stable = opts.stable ?? prevCfg?.stable ?? opts.service;
  const parentPort = opts.port ?? prevCfg?.parentPort;
  const refPort = parentPort ?? pickPort(parentPorts, undefined, ns, opts.service);
  if (parentPort !== undefined && !parentPorts.some((p) => p.port === parentPort)) {
    throw new MeshError(`Service ${ns}/${opts.service} has no port ${parentPort}`, { hint: `its ports: ${parentPorts.map((p) => p.port).join(', ')}`, exitCode: ExitCode.Usage });
  }
  const stablePort = stable === opts.service ? refPort : pickPort(await (stable === opts.stable && stableRead ? stableRead : servicePorts(cluster, ns, stable, 'stable')), refPort, ns, stable);
  const canaryPort = pickPort(await canaryRead, refPort, ns, opts.canary);
  const cfg: CanaryConfig = {
    service: opts.service,
    stable,
    canary: opts.canary,
    stablePort,
    canaryPort,
    matchHeaders: opts.matchHeaders.length ? opts.matchHeaders : (prevCfg?.canary === opts.canary ? prevCfg.matchHeaders : []),
  };
  if (parentPort !== undefined) cfg.parentPort = parentPort;
  const matchPath = opts.matchPath ?? (prevCfg?.canary === opts.canary ? prevCfg.matchPath : undefined);
  if (matchPath) cfg.matchPath = matchPath;
  const timeoutMs = opts.timeoutMs ?? prevCfg?.timeoutMs;
  if (timeoutMs !== undefined) cfg.timeoutMs = timeoutMs;
  if (opts.mirror) {
    cfg.mirror = { service: opts.mirror, port: pickPort(await mirrorRead!, refPort, ns, opts.mirror) };
    // Envoy sidecars mirror; proxyless gRPC has no mirroring (gRPC does not implement it).
    emit({ type: 'note', message: 'requests are mirrored by Envoy sidecars; proxyless gRPC clients do not mirror (docs/routing.md)' });
  } else if (prevCfg?.mirror) {
    cfg.mirror = prevCfg.mirror;
  }

  const prevState = existing ? rolloutOf(existing) : undefined;
  const start = opts.steps ? resumeStep(prevState, opts.canary, opts.steps) : 0;
  const weight = opts.steps ? opts.steps[start]! : opts.weight!;
  const at = nowIso(clock);
  const state: RolloutState = opts.steps
    ? {
        phase: 'Progressing',
        stable,
        canary: opts.canary,
        canaryWeight: weight,
        steps: opts.steps,
        step: start,
        intervalMs: opts.intervalMs,
        gates: opts.gates,
        message: start > 0 ? `resumed at step ${start + 1}/${opts.steps.length} (${weight}%)` : `step 1/${opts.steps.length}: ${weight}% to ${opts.canary}`,
        updatedAt: at,
        startedAt: start > 0 && prevState?.startedAt ? prevState.startedAt : at,
      }
    : { phase: 'Paused', stable, canary: opts.canary, canaryWeight: weight, message: `manual split: ${weight}% to ${opts.canary}`, updatedAt: at };
  const route = buildCanaryRoute({ namespace: ns, cfg, split: splitFor(weight), stage: 'split', rollout: state, policy: { retry: opts.retry, fault: opts.fault }, ...(existing ? { existing } : {}) });
  if (opts.dryRun) {
    emit({ type: 'route', route, verb: existing ? 'updated' : 'created', dryRun: true });
    if (opts.steps) emit({ type: 'rollout-planned', step: start + 1, steps: opts.steps.length, weight, intervalMs: opts.intervalMs });
    return ExitCode.Ok;
  }
  const written = await write(cluster, route);
  if (!opts.steps) {
    emit({ type: 'route', route: written, verb: existing ? 'configured' : 'created', dryRun: false });
    return ExitCode.Ok;
  }
  if (start > 0) emit({ type: 'rollout-resumed', canary: opts.canary, step: start + 1, steps: opts.steps.length, weight });
  return progressiveRollout({ ns, cfg, written, state, steps: opts.steps }, deps, clock, emit);
}

/** Run the steps of a rollout whose current step is already written. Returns the exit code. */
async function progressiveRollout(
  run: { ns: string; cfg: CanaryConfig; written: KubeObject; state: RolloutState; steps: number[] },
  deps: RouteDeps,
  clock: Clock,
  emit: Emit,
): Promise<number> {
  const { cluster, signal } = deps;
  const { ns, cfg, steps } = run;
  let current = run.written;
  let state = run.state;
  const intervalMs = state.intervalMs!;
  const gates = state.gates ?? {};
  const label = (s: RolloutState) => `step ${(s.step ?? 0) + 1}/${steps.length}: ${s.canaryWeight}% to ${cfg.canary}`;
  const stepStarted = () => emit({ type: 'step-started', label: label(state), intervalMs, judgeAt: new Date(clock.now() + intervalMs).toISOString() });
  stepStarted();

  const finish = (code: number): number => {
    emit({ type: 'rollout-finished', report: statusReport(current, clock) });
    return code;
  };
  /** Record where we stopped (Paused) and say so; the split stays as last written. */
  const interrupted = async (why: string): Promise<number> => {
    emit({ type: 'step-failed', label: label(state), why: `interrupted (${why})` });
    const paused: RolloutState = { ...state, phase: 'Paused', message: `interrupted at step ${(state.step ?? 0) + 1}/${steps.length} (${state.canaryWeight}% to ${cfg.canary}): ${why}`, updatedAt: nowIso(clock) };
    try {
      current = await cluster.replace(buildCanaryRoute({ namespace: ns, cfg, split: splitFor(state.canaryWeight), stage: 'split', rollout: paused, existing: current }));
      state = paused;
      emit({ type: 'paused', service: cfg.service, stable: cfg.stable, canary: cfg.canary, weight: state.canaryWeight });
    } catch (err) {
      emit({ type: 'pause-not-recorded', canary: cfg.canary, weight: state.canaryWeight, error: toMeshError(err).message });
    }
    return finish(ExitCode.Failed);
  };

  for (;;) {
    try {
      await clock.sleep(intervalMs, signal);
    } catch (err) {
      if (signal?.aborted) return interrupted('Ctrl-C');
      throw err;
    }
    if (signal?.aborted) return interrupted('Ctrl-C');
    let stats: BackendStats | undefined;
    let metricsError: string | undefined;
    if (gates.maxErrorRatePercent !== undefined || gates.maxP99Ms !== undefined) {
      try {
        stats = await deps.metrics!.backendStats(ns, cfg.canary, Math.round(intervalMs / 1000));
      } catch (err) {
        metricsError = toMeshError(err).message;
      }
    }
    const verdict = metricsError ? { ok: false, failures: [`metrics unavailable: ${metricsError}`] } : evaluateGates(stats, gates);
    const reading: GateReading = { at: nowIso(clock), weight: state.canaryWeight, ok: verdict.ok, failures: verdict.failures };
    if (stats) Object.assign(reading, { rps: stats.rps, successRate: stats.successRate }, stats.p99Ms !== undefined ? { p99Ms: stats.p99Ms } : {});
    const d = decide(steps, state.step ?? 0, verdict);
    let stage: CanaryStage = 'split';
    let next: RolloutState;
    if (d.action === 'advance') {
      next = { ...state, step: d.step, canaryWeight: d.weight, reading, message: `step ${d.step + 1}/${steps.length}: ${d.weight}% to ${cfg.canary}`, updatedAt: reading.at };
    } else if (d.action === 'promote') {
      stage = 'promoted';
      next = { ...state, phase: 'Promoted', canaryWeight: 100, reading, message: `promoted ${cfg.canary} after step ${steps.length}/${steps.length}`, updatedAt: reading.at };
    } else {
      stage = 'rolledBack';
      next = { ...state, phase: 'RolledBack', canaryWeight: 0, reading, message: `rolled back at step ${(state.step ?? 0) + 1}/${steps.length} (${state.canaryWeight}%): ${d.reason}`, updatedAt: reading.at };
    }
    try {
      current = await cluster.replace(buildCanaryRoute({ namespace: ns, cfg, split: splitFor(next.canaryWeight), stage, rollout: next, existing: current }));
    } catch (err) {
      const me = toMeshError(err);
      emit({ type: 'step-failed', label: label(state), why: 'could not write the next state' });
      if (err instanceof ConflictError) {
        const now = await cluster.get(HTTPROUTE_API_VERSION, HTTPROUTE_KIND, cfg.service, ns).catch(() => undefined);
        const theirs = now ? rolloutOf(now) : undefined;
        const weights = now ? splitWeights(now).map((w) => `${w.name} ${w.percent}%`).join(', ') : 'unknown';
        emit({ type: 'changed-by-other', ...(theirs ? { phase: theirs.phase } : {}), weights });
      } else {
        emit({ type: 'write-failed', canary: cfg.canary, weight: state.canaryWeight, phase: state.phase });
      }
      throw me;
    }
    emit({ type: 'step-judged', label: label(state), reading });
    state = next;
    if (d.action === 'promote') {
      emit({ type: 'promoted', canary: cfg.canary });
      return finish(ExitCode.Ok);
    }
    if (d.action === 'rollback') {
      emit({ type: 'rolled-back', stable: cfg.stable, reason: d.reason });
      return finish(ExitCode.Failed);
    }
    stepStarted();
  }
}

/** `mesh route set SERVICE BACKEND=WEIGHT...`: set the split rule's weights (unlisted backends get 0). */
export async function setRoute(opts: RouteCommon & { service: string; weights: { backend: string; weight: number }[]; dryRun: boolean }, deps: RouteDeps, emit: Emit): Promise<number> {
  const { cluster } = deps;
  const clock = deps.clock ?? realClock;
  await requireHttpRouteCrd(cluster);
  const route = await getRoute(cluster, opts.namespace, opts.service);
  const cfg = readCanaryConfig(route);
  const ports = new Map<string, number>();
  for (const w of opts.weights) {
    if (ruleViews(route).some((r) => r.backends.some((b) => b.name === w.backend))) continue;
    const p = await servicePorts(cluster, opts.namespace, w.backend, 'backend');
    ports.set(w.backend, pickPort(p, cfg?.stablePort, opts.namespace, w.backend));
  }
  const prev = rolloutOf(route);
  const canaryWeight = cfg ? (opts.weights.find((w) => w.backend === cfg.canary)?.weight ?? 0) : 0;
  const state: RolloutState | undefined = cfg
    ? { ...(prev ?? {}), phase: 'Paused', stable: cfg.stable, canary: cfg.canary, canaryWeight, message: `manual split: ${opts.weights.map((w) => `${w.backend} ${w.weight}%`).join(', ')}`, updatedAt: nowIso(clock) }
    : undefined;
  const changed = setWeights(route, opts.weights, (b) => ports.get(b), state);
  if (!opts.dryRun) {
    emit({ type: 'route', route: await cluster.replace(changed), verb: 'configured', dryRun: false });
  } else emit({ type: 'route', route: changed, verb: 'configured', dryRun: true });
  return ExitCode.Ok;
}

/** `mesh route promote|rollback SERVICE`: send all traffic to the canary, or all back to stable. */
export async function finishRoute(which: 'promote' | 'rollback', opts: RouteCommon & { service: string; dryRun: boolean }, deps: RouteDeps, emit: Emit): Promise<number> {
  const { cluster } = deps;
  const clock = deps.clock ?? realClock;
  await requireHttpRouteCrd(cluster);
  const route = await getRoute(cluster, opts.namespace, opts.service);
  const cfg = readCanaryConfig(route);
  if (!cfg) {
    throw new MeshError(`${routeName(opts.namespace, opts.service)} was not created by "mesh route canary", so mesh does not know its canary`, {
      hint: `set the weights yourself: mesh route set ${opts.service} BACKEND=100`,
    });
  }
  const prev = rolloutOf(route);
  const promoted = which === 'promote';
  const state: RolloutState = {
    ...(prev ?? {}),
    phase: promoted ? 'Promoted' : 'RolledBack',
    stable: cfg.stable,
    canary: cfg.canary,
    canaryWeight: promoted ? 100 : 0,
    message: promoted ? `promoted ${cfg.canary} by hand` : `rolled back to ${cfg.stable} by hand`,
    updatedAt: nowIso(clock),
  };
  const changed = buildCanaryRoute({ namespace: opts.namespace, cfg, split: splitFor(state.canaryWeight), stage: promoted ? 'promoted' : 'rolledBack', rollout: state, existing: route });
  if (opts.dryRun) emit({ type: 'route', route: changed, verb: promoted ? 'promoted' : 'rolled back', dryRun: true });
  else emit({ type: 'route', route: await cluster.replace(changed), verb: promoted ? 'promoted' : 'rolled back', dryRun: false });
  return ExitCode.Ok;
}

/** The stable shape of `mesh route status -o json` (and of a progressive run's final -o output). */
export interface StatusReport {
  route: string;
  namespace: string;
  /** The reported phase (Degraded when a Progressing run has gone quiet), or None without a rollout. */
  phase: Phase | 'None';
  stable?: string;
  canary?: string;
  canaryWeight?: number;
  step?: number;
  steps?: number[];
  weights: { name: string; weight: number; percent: number }[];
  reading?: GateReading;
  message: string;
  updatedAt?: string;
}

/** Build the status report of a route. */
export function statusReport(route: KubeObject, clock: Clock): StatusReport {
  const state = rolloutOf(route);
  const base = { route: route.metadata.name, namespace: route.metadata.namespace ?? '', weights: splitWeights(route) };
  if (!state) return { ...base, phase: 'None', message: 'no rollout recorded on this route' };
  const { phase, stalled } = effectivePhase(state, clock.now());
  const out: StatusReport = { ...base, phase, stable: state.stable, canary: state.canary, canaryWeight: state.canaryWeight, message: stalled ? `stalled: no update since ${state.updatedAt} (${state.message})` : state.message };
  if (state.step !== undefined) out.step = state.step + 1;
  if (state.steps) out.steps = state.steps;
  if (state.reading) out.reading = state.reading;
  if (state.updatedAt) out.updatedAt = state.updatedAt;
  return out;
}

/**
 * `mesh route status SERVICE [--watch]`: print the rollout. With `watch`, poll until it is
 * Promoted (exit 0) or RolledBack / Paused / Degraded / gone (exit 1), printing each change.
 */
export async function routeStatus(opts: RouteCommon & { service: string; watch: boolean; pollMs?: number; watchTimeoutMs?: number }, deps: RouteDeps, emit: Emit): Promise<number> {
  const { cluster } = deps;
  const clock = deps.clock ?? realClock;
  await requireHttpRouteCrd(cluster);
  const route = await getRoute(cluster, opts.namespace, opts.service);
  let report = statusReport(route, clock);
  if (!opts.watch) {
    emit({ type: 'status', report, watching: false });
    return ExitCode.Ok;
  }
  const started = clock.now();
  let last = '';
  const show = (r: StatusReport) => {
    const key = JSON.stringify({ ...r, updatedAt: undefined });
    if (key === last) return;
    last = key;
    emit({ type: 'status', report: r, watching: true });
  };
  for (;;) {
    show(report);
    if (report.phase === 'None') {
      emit({ type: 'watch-stopped', reason: 'no-rollout', route: routeName(opts.namespace, opts.service), phase: report.phase });
      return ExitCode.Failed;
    }
    const code = watchExitCode(report.phase);
    if (code !== undefined) return code;
    if (opts.watchTimeoutMs !== undefined && clock.now() - started >= opts.watchTimeoutMs) {
      emit({ type: 'watch-stopped', reason: 'timeout', route: routeName(opts.namespace, opts.service), phase: report.phase, timeoutMs: opts.watchTimeoutMs });
      return ExitCode.Failed;
    }
    try {
      await clock.sleep(opts.pollMs ?? 2000, deps.signal);
    } catch (err) {
      if (deps.signal?.aborted) return ExitCode.Failed;
      throw err;
    }
    const next = await cluster.get(HTTPROUTE_API_VERSION, HTTPROUTE_KIND, opts.service, opts.namespace);
    if (!next) {
      emit({ type: 'watch-stopped', reason: 'deleted', route: routeName(opts.namespace, opts.service) });
      return ExitCode.Failed;
    }
    report = statusReport(next, clock);
  }
}

/** The stable shape of `mesh route show -o json`. */
export interface ShowReport {
  route: string;
  namespace: string;
  parents: string[];
  rules: RuleView[];
  /** Live traffic per backend, when a metrics source answered. */
  backends: { name: string; rps?: number; successRate?: number; p99Ms?: number }[];
  metrics: string;
  retry?: unknown;
  fault?: unknown;
  rollout?: StatusReport;
}

/** `mesh route show SERVICE`: rules, matches and weights, plus live stats per backend when metrics are reachable. */
export async function showRoute(opts: RouteCommon & { service: string }, deps: RouteDeps, emit: Emit): Promise<number> {
  const { cluster } = deps;
  const clock = deps.clock ?? realClock;
  await requireHttpRouteCrd(cluster);
  const route = await getRoute(cluster, opts.namespace, opts.service);
  const rules = ruleViews(route);
  const names = [...new Set(rules.flatMap((r) => r.backends.map((b) => b.name)))];
  const spec = (route.spec ?? {}) as { parentRefs?: { kind?: string; name?: string; port?: number }[] };
  const report: ShowReport = {
    route: route.metadata.name,
    namespace: opts.namespace,
    parents: (spec.parentRefs ?? []).map((p) => `${p.kind ?? 'Gateway'}/${p.name ?? '?'}${p.port ? `:${p.port}` : ''}`),
    rules,
    backends: names.map((name) => ({ name })),
    metrics: 'metrics unavailable: pass --prometheus-url',
  };
  const ann = route.metadata.annotations ?? {};
  for (const [key, field] of [[ANNOTATION_RETRY, 'retry'], [ANNOTATION_FAULT, 'fault']] as const) {
    if (ann[key] === undefined) continue;
    try {
      report[field] = JSON.parse(ann[key]) as unknown;
    } catch {
      report[field] = ann[key];
    }
  }
  if (rolloutOf(route)) report.rollout = statusReport(route, clock);
  if (deps.metrics) {
    try {
      const stats = await Promise.all(names.map((n) => deps.metrics!.backendStats(opts.namespace, n, 60)));
      report.backends = names.map((name, i) => ({ name, ...(stats[i] ?? {}) }));
      report.metrics = `${deps.metrics.describe}, last 60s`;
    } catch (err) {
      report.metrics = `metrics unavailable: ${toMeshError(err).message}`;
    }
  }
  emit({ type: 'show', report });
  return ExitCode.Ok;
}
