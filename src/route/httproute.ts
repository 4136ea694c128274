import type { KubeObject } from '../cluster/types.js';
import {
  ANNOTATION_CANARY,
  ANNOTATION_FAULT,
  ANNOTATION_RETRY,
  ANNOTATION_ROLLOUT,
  HTTPROUTE_API_VERSION,
  HTTPROUTE_KIND,
  LABEL_MANAGED_BY,
  LABEL_PART_OF,
  LABEL_VERSION,
  MANAGED_BY,
  PART_OF,
} from '../constants.js';
import { MeshError } from '../errors.js';
import { VERSION } from '../version.js';
import { formatDuration } from '../duration.js';
import { readRollout, type RolloutState } from './rollout.js';
import { isObject } from '../util/object.js';

// Pure: build and change the HTTPRoute of a canary. No I/O; the same input gives the same object.

/** Retry policy written to the `mesh.dev/retry` annotation (the model's reader: src/model/build.ts). */
export interface RetrySpec {
  /** Retries after the first try. */
  attempts: number;
  perTryTimeoutMs?: number;
  retryOn?: string[];
}

/** Fault injection written to the `mesh.dev/fault` annotation. */
export interface FaultSpec {
  delay?: { fixedDelayMs: number; percent: number };
  abort?: { httpStatus: number; percent: number };
}

/**
 * What a canary route is rendered from. Stored as JSON in the `mesh.dev/canary` annotation so
 * promote, rollback and a resumed rollout re-render the same rules with other weights.
 */
export interface CanaryConfig {
  /** The parent Service (the name clients call). */
  service: string;
  stable: string;
  canary: string;
  /** Ports of the stable and canary Services that the backendRefs name. */
  stablePort: number;
  canaryPort: number;
  /** Parent Service port the route attaches to; undefined attaches to every port. */
  parentPort?: number;
  /** Requests with all of these headers always go to the canary (until rollback). */
  matchHeaders: { name: string; value: string }[];
  /** Only requests on this path are split; others stay on stable until promotion. */
  matchPath?: { type: 'PathPrefix' | 'Exact'; value: string };
  /** Gateway API rules[].timeouts.request. */
  timeoutMs?: number;
  /** Copy every split request to this Service (RequestMirror filter); responses are ignored. */
  mirror?: { service: string; port: number };
}

/** A weighted split between stable and canary, in percent (they sum to 100). */
export interface Split {
  stable: number;
  canary: number;
}

/** Where the canary is in its life: decides the weights of the header-pinned and the unsplit rules. */
export type CanaryStage = 'split' | 'promoted' | 'rolledBack';

type Obj = Record<string, unknown>;

function backendRef(name: string, port: number, weight: number): Obj {
  return { group: '', kind: 'Service', name, port, weight };
}

/** The labels every object the mesh creates carries. */
export function meshLabels(): Record<string, string> {
  return { [LABEL_PART_OF]: PART_OF, [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_VERSION]: VERSION };
}

/** The HTTPRoute's spec.rules for a canary at `split` and `stage`. Rule order is also precedence order. */
export function renderRules(cfg: CanaryConfig, split: Split, stage: CanaryStage): Obj[] {
  const all = (toCanary: boolean) => [backendRef(cfg.stable, cfg.stablePort, toCanary ? 0 : 100), backendRef(cfg.canary, cfg.canaryPort, toCanary ? 100 : 0)];
  // A fresh object per rule: a shared one would print as a YAML anchor/alias.
  const timeouts = (): Obj => (cfg.timeoutMs !== undefined ? { timeouts: { request: formatDuration(cfg.timeoutMs) } } : {});
  const rules: Obj[] = [];
  if (cfg.matchHeaders.length) {
    rules.push({
      matches: [{ headers: cfg.matchHeaders.map((h) => ({ type: 'Exact', name: h.name, value: h.value })) }],
      backendRefs: all(stage !== 'rolledBack'),
      ...timeouts(),
    });
  }
  const splitRule: Obj = {
    matches: [{ path: cfg.matchPath ?? { type: 'PathPrefix', value: '/' } }],
    backendRefs: stage === 'split' ? [backendRef(cfg.stable, cfg.stablePort, split.stable), backendRef(cfg.canary, cfg.canaryPort, split.canary)] : all(stage === 'promoted'),
    ...timeouts(),
  };
  if (cfg.mirror) {
    splitRule.filters = [{ type: 'RequestMirror', requestMirror: { backendRef: { group: '', kind: 'Service', name: cfg.mirror.service, port: cfg.mirror.port } } }];
  }
  rules.push(splitRule);
  if (cfg.matchPath) {
    rules.push({ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: all(stage === 'promoted'), ...timeouts() });
  }
  return rules;
}

/** The `mesh.dev/retry` annotation value (JSON the model parses: attempts, perTryTimeout, retryOn). */
export function retryAnnotation(r: RetrySpec): string {
  const out: Obj = { attempts: r.attempts };
  if (r.perTryTimeoutMs !== undefined) out.perTryTimeout = formatDuration(r.perTryTimeoutMs);
  if (r.retryOn?.length) out.retryOn = r.retryOn;
  return JSON.stringify(out);
}

/** The `mesh.dev/fault` annotation value (JSON the model parses: delay.fixedDelay/percent, abort.httpStatus/percent). */
export function faultAnnotation(f: FaultSpec): string {
  const out: Obj = {};
  if (f.delay) out.delay = { fixedDelay: formatDuration(f.delay.fixedDelayMs), percent: f.delay.percent };
  if (f.abort) out.abort = { httpStatus: f.abort.httpStatus, percent: f.abort.percent };
  return JSON.stringify(out);
}

/** Policy changes for a route: undefined leaves the current value, null removes it. */
export interface PolicyChange {
  retry?: RetrySpec | null;
  fault?: FaultSpec | null;
}

/**
 * Build the HTTPRoute for a canary: a new object when `existing` is undefined, otherwise `existing`
 * with our rules, annotations and labels replaced and everything else (other annotations, labels,
 * resourceVersion) kept, so the write is an optimistic-concurrency update of what was read.
 */
export function buildCanaryRoute(opts: {
  namespace: string;
  cfg: CanaryConfig;
  split: Split;
  stage: CanaryStage;
  rollout: RolloutState;
  policy?: PolicyChange;
  existing?: KubeObject;
}): KubeObject {
  const { cfg, existing } = opts;
  const base: KubeObject = existing
    ? (JSON.parse(JSON.stringify(existing)) as KubeObject)
    : { apiVersion: HTTPROUTE_API_VERSION, kind: HTTPROUTE_KIND, metadata: { name: cfg.service, namespace: opts.namespace } };
  base.apiVersion = HTTPROUTE_API_VERSION;
  base.kind = HTTPROUTE_KIND;
  // Server bookkeeping is not ours to send back (resourceVersion is: it is the concurrency check).
  delete base.metadata.managedFields;
  delete base.status;
  base.metadata.labels = { ...base.metadata.labels, ...meshLabels() };
  const ann: Record<string, string> = { ...base.metadata.annotations };
  ann[ANNOTATION_CANARY] = JSON.stringify(cfg);
  ann[ANNOTATION_ROLLOUT] = JSON.stringify(opts.rollout);
  if (opts.policy?.retry === null) delete ann[ANNOTATION_RETRY];
  else if (opts.policy?.retry) ann[ANNOTATION_RETRY] = retryAnnotation(opts.policy.retry);
  if (opts.policy?.fault === null) delete ann[ANNOTATION_FAULT];
  else if (opts.policy?.fault) ann[ANNOTATION_FAULT] = faultAnnotation(opts.policy.fault);
  base.metadata.annotations = sortKeys(ann);
  const parentRef: Obj = { group: '', kind: 'Service', name: cfg.service };
  if (cfg.parentPort !== undefined) parentRef.port = cfg.parentPort;
  const oldSpec = isObject(base.spec) ? base.spec : {};
  base.spec = { ...oldSpec, parentRefs: [parentRef], rules: renderRules(cfg, opts.split, opts.stage) };
  return base;
}

function sortKeys(r: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(r).sort()) out[k] = r[k]!;
  return out;
}

/** The canary set-up recorded on a route, or undefined when mesh did not create it. */
export function readCanaryConfig(route: KubeObject): CanaryConfig | undefined {
  const raw = route.metadata.annotations?.[ANNOTATION_CANARY];
  if (raw === undefined) return undefined;
  try {
    const v: unknown = JSON.parse(raw);
    if (isObject(v) && typeof v.service === 'string' && typeof v.stable === 'string' && typeof v.canary === 'string' && typeof v.stablePort === 'number' && typeof v.canaryPort === 'number') {
      return { ...(v as unknown as CanaryConfig), matchHeaders: Array.isArray(v.matchHeaders) ? (v.matchHeaders as CanaryConfig['matchHeaders']) : [] };
    }
  } catch {
    // fall through
  }
  throw new MeshError(`HTTPRoute ${route.metadata.namespace}/${route.metadata.name} has an unreadable ${ANNOTATION_CANARY} annotation`, {
    hint: `re-create it with "mesh route canary ${route.metadata.name} --canary NAME", or remove the annotation`,
  });
}

/** One rule of a route as `mesh route show` prints it. */
export interface RuleView {
  /** Human form of the matches: `header x-canary=true`, `path /api*`, or `*` for everything. */
  match: string;
  backends: { name: string; port?: number; weight: number }[];
  timeout?: string;
  mirror?: string;
}

/** Read any HTTPRoute's rules (ours or hand-written) into a printable form. */
export function ruleViews(route: KubeObject): RuleView[] {
  const spec = isObject(route.spec) ? route.spec : {};
  const rules = Array.isArray(spec.rules) ? spec.rules.filter(isObject) : [];
  return rules.map((r) => {
    const matches = Array.isArray(r.matches) ? r.matches.filter(isObject) : [];
    const parts = matches.map((m) => {
      const bits: string[] = [];
      if (isObject(m.path)) bits.push(`path ${String(m.path.value ?? '/')}${m.path.type === 'Exact' ? '' : '*'}`);
      for (const h of Array.isArray(m.headers) ? m.headers.filter(isObject) : []) bits.push(`header ${String(h.name)}=${String(h.value)}`);
      if (typeof m.method === 'string') bits.push(`method ${m.method}`);
      return bits.join(' & ');
    });
    const refs = Array.isArray(r.backendRefs) ? r.backendRefs.filter(isObject) : [];
    const view: RuleView = {
      match: parts.filter(Boolean).join(' | ') || '*',
      backends: refs.map((b) => ({ name: String(b.name), ...(typeof b.port === 'number' ? { port: b.port } : {}), weight: typeof b.weight === 'number' ? b.weight : 1 })),
    };
    const t = isObject(r.timeouts) ? r.timeouts.request : undefined;
    if (typeof t === 'string') view.timeout = t;
    const mirror = (Array.isArray(r.filters) ? r.filters.filter(isObject) : []).find((f) => f.type === 'RequestMirror');
    const mref = mirror && isObject(mirror.requestMirror) && isObject(mirror.requestMirror.backendRef) ? mirror.requestMirror.backendRef : undefined;
    if (mref) view.mirror = String(mref.name);
    return view;
  });
}

/**
 * Index of the rule whose weights `mesh route set` changes: for a mesh canary route, the split
 * rule (after the header-pinned rule); for a hand-written route, its only rule, or the one rule
 * that matches everything.
 */
export function splitRuleIndex(route: KubeObject): number {
  const cfg = readCanaryConfig(route);
  const views = ruleViews(route);
  if (cfg) return cfg.matchHeaders.length ? 1 : 0;
  if (views.length === 1) return 0;
  const catchAll = views.map((v, i) => ({ v, i })).filter(({ v }) => v.match === '*' || v.match === 'path /*');
  if (catchAll.length === 1) return catchAll[0]!.i;
  throw new MeshError(`HTTPRoute ${route.metadata.namespace}/${route.metadata.name} has ${views.length} rules and mesh cannot tell which one carries the split`, {
    hint: 'edit its weights with kubectl, or re-create it with "mesh route canary"',
  });
}

/**
 * Set the split rule's weights to `weights` (backends not listed get 0; new backends are added with
 * the port `portOf` gives) and record `rollout` when given. Returns a changed copy; the input is
 * not modified.
 */
export function setWeights(route: KubeObject, weights: readonly { backend: string; weight: number }[], portOf: (backend: string) => number | undefined, rollout?: RolloutState): KubeObject {
  const out = JSON.parse(JSON.stringify(route)) as KubeObject;
  delete out.metadata.managedFields;
  delete out.status;
  const idx = splitRuleIndex(out);
  const spec = out.spec as Obj;
  const rule = (spec.rules as Obj[])[idx]!;
  const refs = Array.isArray(rule.backendRefs) ? (rule.backendRefs as Obj[]) : [];
  for (const ref of refs) ref.weight = weights.find((w) => w.backend === ref.name)?.weight ?? 0;
  for (const w of weights) {
    if (refs.some((r) => r.name === w.backend)) continue;
    const port = portOf(w.backend);
    if (port === undefined) throw new MeshError(`backend ${w.backend} is not a Service with a single port`, { hint: 'create the Service first, or give it exactly one port' });
    refs.push(backendRef(w.backend, port, w.weight));
  }
  rule.backendRefs = refs;
  if (rollout) out.metadata.annotations = sortKeys({ ...out.metadata.annotations, [ANNOTATION_ROLLOUT]: JSON.stringify(rollout) });
  return out;
}

/** The split rule's backends and weights, in percent of the rule's total weight. */
export function splitWeights(route: KubeObject): { name: string; weight: number; percent: number }[] {
  let idx: number;
  try {
    idx = splitRuleIndex(route);
  } catch {
    return [];
  }
  const rule = ruleViews(route)[idx];
  if (!rule) return [];
  const total = rule.backends.reduce((s, b) => s + b.weight, 0);
  return rule.backends.map((b) => ({ name: b.name, weight: b.weight, percent: total > 0 ? Math.round((b.weight / total) * 1000) / 10 : 0 }));
}

/** The rollout state on a route (or a state derived from its weights when there is none). */
export function rolloutOf(route: KubeObject): RolloutState | undefined {
  return readRollout(route.metadata.annotations?.[ANNOTATION_ROLLOUT]);
}
