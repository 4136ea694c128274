import { ANNOTATION_STATUS } from '../constants.js';
import { isObject } from '../util/object.js';
import { CODES } from './codes.js';
import { refOf, where, type AnalysisIndex } from './lookup.js';
import type { Analyzer, Finding } from './types.js';

/**
 * What the status annotation says about a classic proxy's end: `exitWithApp` (mesh inject since
 * issue 21) means the proxy stops when the app containers have exited. Read here rather than
 * through manifests/ (analyzers do not import it); the field names are inject's InjectStatus.
 */
function proxyEnd(annotations: Record<string, string>): { native: boolean; exitWithApp: boolean } | undefined {
  const raw = annotations[ANNOTATION_STATUS];
  if (raw === undefined) return undefined;
  try {
    const s: unknown = JSON.parse(raw);
    if (!isObject(s)) return undefined;
    return { native: s.nativeSidecar === true, exitWithApp: s.exitWithApp === true };
  } catch {
    return undefined;
  }
}

/**
 * Meshed Jobs that would never complete (MSH0018): a classic sidecar that does not stop with the
 * app keeps the pod Running after the app exits (istio#6324, linkerd2#1869). Reported for
 * templates injected by a mesh that did not watch the app (or with shareProcessNamespace: false),
 * and for Jobs the webhook will inject that refuse the shared PID namespace the watch needs.
 */
export const meshedJobs: Analyzer<AnalysisIndex> = {
  name: 'meshed jobs',
  codes: [CODES.jobProxyHangs],
  analyze(index) {
    const out: Finding[] = [];
    const runToCompletion = (spec: Record<string, unknown>) => spec.restartPolicy === 'Never' || spec.restartPolicy === 'OnFailure';
    // Pods a Job owns are not workloads of their own (the Job is), but the webhook injected them.
    const jobPods = (index.kinds.get('Pod') ?? []).filter((p) => p.object.metadata.ownerReferences?.some((r) => r.kind === 'Job'));
    const pods = jobPods.map((src) => {
      const spec = isObject(src.object.spec) ? src.object.spec : {};
      const containers = Array.isArray(spec.containers) ? spec.containers.filter(isObject) : [];
      return { ref: refOf(src.object), src, podAnnotations: src.object.metadata.annotations ?? {}, containers, injected: undefined as boolean | undefined };
    });
    for (const w of [...index.workloads, ...pods]) {
      const kind = w.ref.kind;
      const tmpl = templateSpec(w.src.object.spec, kind);
      if (!tmpl || (kind !== 'Job' && kind !== 'CronJob' && !runToCompletion(tmpl))) continue;
      const end = proxyEnd(w.podAnnotations);
      const classicProxy = w.containers.some((c) => c.name === index.proxyContainer);
      let why: string | undefined;
      if (classicProxy && (!end || (!end.native && !end.exitWithApp))) {
        why = `its ${index.proxyContainer} sidecar keeps the pod running after the app exits, so the ${kind === 'Pod' ? 'pod' : 'Job'} never completes${end ? '' : ' (injected without mesh\'s status annotation)'}`;
      } else if (!end && !classicProxy && w.injected === true && tmpl.shareProcessNamespace === false) {
        why = 'it will be injected, and on Kubernetes < 1.29 (classic sidecar) shareProcessNamespace: false keeps the proxy from seeing the app exit, so the Job never completes';
      }
      if (why) out.push({ code: CODES.jobProxyHangs.code, severity: CODES.jobProxyHangs.severity, message: why, resource: refOf(w.src.object), ...where(w.src) });
    }
    return out;
  },
};

function templateSpec(spec: unknown, kind: string): Record<string, unknown> | undefined {
  if (!isObject(spec)) return undefined;
  if (kind === 'Pod') return spec;
  const holder = kind === 'CronJob' ? (isObject(spec.jobTemplate) ? spec.jobTemplate.spec : undefined) : spec;
  return isObject(holder) && isObject(holder.template) && isObject(holder.template.spec) ? holder.template.spec : undefined;
}
