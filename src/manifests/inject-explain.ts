import { ANNOTATION_INJECT, LABEL_INJECT, WEBHOOK_NAME } from '../constants.js';
import type { KubeObject } from '../cluster/types.js';
import { inputError, MeshError } from '../errors.js';
import { VERSION } from '../version.js';
import { injectObject, getPath, TEMPLATE_PATHS, type InjectOptions, type PodTemplate } from './inject.js';
import { podDecision, selectorSteps, type DecisionStep, type WebhookSelectors } from './inject/decision.js';
import type { Values } from './values.js';

/**
 * `mesh inject --explain`: would the admission webhook inject this workload's pods, and why? The
 * API server's part (the installed webhook's namespaceSelector and objectSelector) then the
 * webhook's own (podDecision and injectObject, the very calls the webhook makes). Pure.
 */

/** Where the webhook's selectors came from. */
export type WebhookOrigin = 'cluster' | 'files' | 'default rendering' | 'not installed';

/** What explainInjection needs to know about the cluster, read live or from files. */
export interface ExplainInput {
  /** The workload (Pod, Deployment, StatefulSet, DaemonSet, Job, CronJob, ...). */
  object: KubeObject;
  /** The workload's namespace. */
  namespace: string;
  /** Labels of the namespace; undefined when the Namespace is not known (not found, or not among the files). */
  namespaceLabels?: Record<string, string>;
  /** The installed webhooks of MutatingWebhookConfiguration mesh-sidecar-injector; undefined when it is not installed. */
  webhooks?: (WebhookSelectors & { name?: string; failurePolicy?: string })[];
  origin: WebhookOrigin;
  values: Values;
  nativeSidecar: boolean;
}

/** The answer. Stable field names: `-o json|yaml` prints it. */
export interface InjectExplanation {
  kind: string;
  name: string;
  namespace: string;
  /** Whether a pod of this workload created now gets the sidecar. */
  inject: boolean;
  /** One sentence: the verdict and its deciding reason. */
  summary: string;
  webhook: WebhookOrigin;
  /** Every condition tested, in order, up to the deciding one. */
  steps: DecisionStep[];
}

/** The workload's pod template (a Pod's own metadata and spec); undefined when it has none. */
function podTemplateOf(obj: KubeObject): PodTemplate | undefined {
  const path = TEMPLATE_PATHS[obj.kind];
  if (!path) return undefined;
  const t = (path.length === 0 ? { metadata: obj.metadata, spec: obj.spec } : getPath(obj, path)) as PodTemplate | undefined;
  return typeof t === 'object' && t !== null && typeof t.spec === 'object' && t.spec !== null ? t : undefined;
}

/** Explain whether and why the webhook would inject `input.object`'s pods. Throws (exit 2) for a kind without pods. */
export function explainInjection(input: ExplainInput): InjectExplanation {
  const { object } = input;
  const name = object.metadata?.name ?? '';
  const head = { kind: object.kind, name, namespace: input.namespace, webhook: input.origin };
  const template = podTemplateOf(object);
  if (!template) throw inputError(`${object.kind} ${input.namespace}/${name} has no pod template: nothing to inject`, 'explain a Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job or CronJob');
  const steps: DecisionStep[] = [];
  const no = (summary: string): InjectExplanation => ({ ...head, inject: false, summary, steps });
  if (!input.webhooks) {
    steps.push({ condition: 'webhook.installed', outcome: 'stop', detail: `MutatingWebhookConfiguration ${WEBHOOK_NAME} is not installed: no pod is injected (run "mesh install")` });
    return no('not injected: the webhook is not installed');
  }
  steps.push({ condition: 'webhook.installed', outcome: 'pass', detail: `MutatingWebhookConfiguration ${WEBHOOK_NAME} (${input.origin})` });
  if (input.namespaceLabels === undefined) steps.push({ condition: 'namespace.exists', outcome: 'pass', detail: `Namespace ${input.namespace} not found: read as unlabelled` });
  const nsLabels = input.namespaceLabels ?? {};
  const podLabels = template.metadata?.labels ?? {};
  // The API server calls the webhook when any of its webhooks selects the pod (mesh renders one).
  let called = false;
  for (const w of input.webhooks) {
    const r = selectorSteps(w, input.namespace, nsLabels, podLabels);
    steps.push(...r.steps);
    if (r.called) {
      called = true;
      break;
    }
  }
  if (!called) {
    const last = steps[steps.length - 1]!;
    // istio#30806: an opt-in on the pod cannot help when the API server never calls the webhook.
    if (template.metadata?.annotations?.[ANNOTATION_INJECT] === 'enabled') last.detail += ` (the pod's annotation ${ANNOTATION_INJECT}=enabled is never read: the webhook is not called)`;
    return no(last.condition === 'webhook.namespaceSelector' && nsLabels[LABEL_INJECT] !== 'enabled' ? `not injected: namespace ${input.namespace} is not labelled ${LABEL_INJECT}=enabled` : `not injected: the webhook's ${last.condition.split('.')[1]} does not select it`);
  }
  const opts: InjectOptions = { nativeSidecar: input.nativeSidecar, namespaceLabels: nsLabels };
  // What the webhook then does: podDecision, then injectObject; their errors deny the pod or let it in bare.
  const pod: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { ...(template.metadata ?? {}), name: name || 'pod', namespace: input.namespace }, spec: template.spec };
  try {
    const decision = podDecision(template, opts, VERSION);
    steps.push(...decision.steps);
    if (decision.skip) return no(`not injected: ${steps[steps.length - 1]!.detail}`);
    const { report } = injectObject(pod, input.values, opts);
    if (report.action === 'unchanged') {
      steps.push({ condition: 'inject', outcome: 'stop', detail: 'already injected by this version: the webhook sends no patch' });
      return no('not injected: already injected by this version');
    }
    steps.push({ condition: 'inject', outcome: 'pass', detail: report.changes.join('; ') });
    return { ...head, inject: true, summary: `injected (${report.action === 'upgraded' ? 're-injected over an older version' : 'the webhook adds the proxy'})`, steps };
  } catch (err) {
    const policy = input.webhooks.find((w) => w.failurePolicy)?.failurePolicy ?? input.values.webhook.failurePolicy;
    const msg = err instanceof MeshError ? err.message : (err as Error).message;
    steps.push({ condition: 'inject', outcome: 'stop', detail: `injection fails: ${msg}; failurePolicy ${policy} ${policy === 'Ignore' ? 'lets the pod in without a sidecar' : 'refuses the pod'}` });
    return no(`not injected: injection fails (${msg})`);
  }
}
