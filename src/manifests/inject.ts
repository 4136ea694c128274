import {
  PROXY_CONTAINER,
} from '../constants.js';
import type { KubeObject } from '../cluster/types.js';
import { inputError } from '../errors.js';
import { nameProblem, namespaceProblem } from '../names.js';
import { deepEqual, isObject } from '../util/object.js';
import { injectPod, uninjectPod, type PodResult } from './inject/pod.js';
import { checkPodTemplate } from './inject/shape.js';
import { SKIP_REASONS, TEMPLATE_PATHS, type Container, type InjectOptions, type InjectReport, type PodTemplate } from './inject/types.js';
import type { Values } from './values.js';

/**
 * Sidecar injection as pure data transformations (DESIGN.md "Transformations are pure"): the CLI
 * (`mesh inject`), `mesh uninject` and the control plane's admission webhook all call these, so
 * they cannot disagree. Nothing here does I/O; inputs are never mutated.
 */

// The pieces, re-exported so callers keep one entry point.
export * from './inject/types.js';
export { parseKubeVersion, readStatus, resolveNativeSidecar } from './inject/settings.js';
export { injectPod, uninjectPod, type PodResult } from './inject/pod.js';
export { clone, deepEqual } from '../util/object.js';

// ---------------------------------------------------------------------------------------------
// Per-kind wrappers.

/** The result of transforming one object of any kind. */
export interface ObjectResult {
  /** The new object (a copy), or the input itself when nothing changed. */
  object: KubeObject;
  report: InjectReport;
}

/** The value at `path` under `o`, or undefined when a step is missing. */
export function getPath(o: unknown, path: readonly string[]): unknown {
  let cur = o;
  for (const p of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

/** The object's name as reports give it: metadata.name, else generateName, else ''. */
const nameOf = (obj: KubeObject): string => obj.metadata?.name ?? (obj.metadata?.generateName as string | undefined) ?? '';

/**
 * The report of `obj`: its kind, name and namespace, then the fields of `r`. Built key by key: a
 * spread of two objects per document was the slowest part of a skipped document.
 */
function reportOf(obj: KubeObject, r: Omit<InjectReport, 'kind' | 'name' | 'namespace'>): InjectReport {
  const out = { kind: obj.kind, name: nameOf(obj) } as InjectReport;
  if (obj.metadata?.namespace) out.namespace = obj.metadata.namespace;
  for (const k of Object.keys(r) as (keyof typeof r)[]) (out as unknown as Record<string, unknown>)[k] = r[k];
  return out;
}

function transform(obj: KubeObject, fn: (t: PodTemplate) => PodResult): ObjectResult {
  const path = TEMPLATE_PATHS[obj.kind];
  if (!path) return { object: obj, report: reportOf(obj, { action: 'skipped', reason: 'unsupportedKind', message: `kind ${obj.kind} has no pod template`, changes: [], notes: [] }) };
  const template = (path.length === 0 ? { metadata: obj.metadata, spec: obj.spec } : getPath(obj, path)) as PodTemplate | undefined;
  if (typeof template !== 'object' || template === null || typeof template.spec !== 'object' || template.spec === null) {
    return { object: obj, report: reportOf(obj, { action: 'skipped', reason: 'noPodTemplate', message: SKIP_REASONS.noPodTemplate, changes: [], notes: [] }) };
  }
  let r: PodResult;
  try {
    checkPodTemplate(template, path.join('.'));
    r = fn(template);
  } catch (err) {
    if (err instanceof Error) err.message = `${obj.kind.toLowerCase()} "${nameOf(obj)}": ${err.message}`;
    throw err;
  }
  const report = reportOf(obj, r.report);
  if (r.report.action === 'skipped' || r.report.action === 'unchanged') return { object: obj, report };
  if (r.report.action !== 'uninjected' && (obj.kind === 'Job' || obj.kind === 'CronJob') && !(getPath(r.template, ['spec', 'initContainers']) as Container[]).some((c) => c.name === PROXY_CONTAINER)) {
    report.notes.push('a Job pod with a classic sidecar: the proxy exits once the app containers have (shared PID namespace); --native-sidecar on (Kubernetes >= 1.29) needs neither');
  }
  let out: KubeObject;
  if (path.length === 0) {
    out = { ...obj, spec: r.template.spec };
    if (r.template.metadata === undefined) delete (out as Partial<KubeObject>).metadata;
    else out.metadata = r.template.metadata as KubeObject['metadata'];
  } else {
    // Copy only the objects on the path to the template; the rest is shared with the (unchanged) input.
    out = { ...obj };
    let cur = out as Record<string, unknown>;
    path.forEach((p, i) => {
      cur[p] = i === path.length - 1 ? r.template : { ...(cur[p] as Record<string, unknown>) };
      cur = cur[p] as Record<string, unknown>;
    });
  }
  return { object: out, report };
}

/** Throw an input error (exit 2) when a workload's name or namespace is one the API server would refuse. */
function checkNames(obj: KubeObject): void {
  const md = obj.metadata as Record<string, unknown> | undefined;
  const what = `${obj.kind.toLowerCase()} ${JSON.stringify(md?.name ?? md?.generateName ?? '')}`;
  const hint = 'Kubernetes would refuse it: use lowercase letters, digits and "-" (see kubectl explain metadata.name)';
  for (const field of ['name', 'namespace'] as const) {
    const v = md?.[field];
    if (v === undefined) continue;
    if (typeof v !== 'string') throw inputError(`${what}: metadata.${field} must be a string, not ${JSON.stringify(v)}`, hint);
    const problem = field === 'name' ? nameProblem(obj.kind, v) : namespaceProblem(v);
    if (problem) throw inputError(`${what}: metadata.${field} "${v}" is not a valid name: it ${problem}`, hint);
  }
}

/**
 * Inject one object of any kind; kinds without a pod template come back unchanged, reported as
 * skipped. A workload whose name or namespace Kubernetes would refuse is an input error.
 */
export function injectObject(obj: KubeObject, values: Values, opts: InjectOptions): ObjectResult {
  if (TEMPLATE_PATHS[obj.kind]) checkNames(obj);
  return transform(obj, (t) => injectPod(t, values, opts));
}

/** Remove injection from one object of any kind; objects never injected come back unchanged. */
export function uninjectObject(obj: KubeObject): ObjectResult {
  return transform(obj, uninjectPod);
}

// ---------------------------------------------------------------------------------------------
// The admission webhook's view: the same injection as a JSON Patch.

/** One RFC 6902 operation. */
export type JsonPatchOp = { op: 'add' | 'replace'; path: string; value: unknown } | { op: 'remove'; path: string };

const pointer = (k: string) => k.replace(/~/g, '~0').replace(/\//g, '~1');

/** RFC 6902 operations turning `a` into `b`: objects are diffed key by key, arrays replaced whole. */
export function jsonPatch(a: unknown, b: unknown, path = ''): JsonPatchOp[] {
  if (deepEqual(a, b)) return [];
  if (!isObject(a) || !isObject(b)) return [{ op: 'replace', path, value: b }];
  const ops: JsonPatchOp[] = [];
  for (const k of Object.keys(a)) if (a[k] !== undefined && b[k] === undefined) ops.push({ op: 'remove', path: `${path}/${pointer(k)}` });
  for (const k of Object.keys(b)) {
    if (b[k] === undefined) continue;
    if (a[k] === undefined) ops.push({ op: 'add', path: `${path}/${pointer(k)}`, value: b[k] });
    else ops.push(...jsonPatch(a[k], b[k], `${path}/${pointer(k)}`));
  }
  return ops;
}

/**
 * For the admission webhook: the JSON Patch that injects `pod` (a Pod as the API server sends it),
 * computed by the same injectObject the CLI uses. Empty when the pod is skipped or unchanged.
 */
export function webhookPatch(pod: KubeObject, values: Values, opts: InjectOptions): { patch: JsonPatchOp[]; report: InjectReport } {
  const { object, report } = injectObject(pod, values, opts);
  return { patch: object === pod ? [] : jsonPatch(pod, object), report };
}
