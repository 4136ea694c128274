import { ANNOTATION_INJECT, INIT_CONTAINER, LABEL_INJECT, PROXY_CONTAINER } from '../../constants.js';
import { labelRequirements, requirementMet } from '../../util/labels.js';
import { badAnnotation, isNewerVersion, readStatus } from './settings.js';
import { OTHER_MESH_CONTAINERS, SKIP_REASONS, type InjectOptions, type InjectStatus, type PodTemplate, type SkipReason } from './types.js';

/**
 * Whether a pod gets the sidecar, and why: every condition in the order it is tested. The webhook
 * (through injectPod) and `mesh inject --explain` both call these, so they cannot disagree.
 */

/** One condition tested, with its outcome: `pass` lets the pod go on to the next one, `stop` decides "not injected". */
export interface DecisionStep {
  /** A stable id: webhook.namespaceSelector, webhook.objectSelector, pod.annotation, namespace.label, pod.hostNetwork, pod.otherMesh, pod.status, pod.names. */
  condition: string;
  outcome: 'pass' | 'stop';
  /** What was seen, in words. */
  detail: string;
}

/** The pod-level verdict of {@link podDecision}. */
export interface PodDecision {
  /** Why the pod is skipped, when it is. */
  skip?: { reason: SkipReason; detail?: string };
  /** The status annotation of an earlier injection (the pod is re-injected over it). */
  prior?: InjectStatus;
  steps: DecisionStep[];
}

/**
 * The pod-level conditions of injection, in order: the mesh.dev/inject annotation, the namespace
 * label, hostNetwork, another mesh's sidecar, an earlier injection, container names. Throws an input
 * error for a bad annotation value (as injection does). Pure.
 */
export function podDecision(template: PodTemplate, opts: InjectOptions, version: string): PodDecision {
  const steps: DecisionStep[] = [];
  const stop = (reason: SkipReason, condition: string, detail?: string): PodDecision => {
    steps.push({ condition, outcome: 'stop', detail: detail ? `${SKIP_REASONS[reason]} (${detail})` : SKIP_REASONS[reason] });
    return { skip: detail ? { reason, detail } : { reason }, steps };
  };
  const ann = template.metadata?.annotations ?? {};
  const inject = ann[ANNOTATION_INJECT];
  if (inject !== undefined && inject !== 'enabled' && inject !== 'disabled') badAnnotation(ANNOTATION_INJECT, inject, 'enabled or disabled');
  if (inject === 'disabled') return stop('optedOut', 'pod.annotation');
  steps.push({ condition: 'pod.annotation', outcome: 'pass', detail: inject === 'enabled' ? `annotation ${ANNOTATION_INJECT}=enabled: the pod opts in (it overrides a namespace label ${LABEL_INJECT}=disabled)` : `no annotation ${ANNOTATION_INJECT}` });
  const nsLabel = opts.namespaceLabels?.[LABEL_INJECT];
  if (inject === undefined && nsLabel === 'disabled') return stop('namespaceOptedOut', 'namespace.label');
  steps.push({ condition: 'namespace.label', outcome: 'pass', detail: opts.namespaceLabels === undefined ? 'namespace labels unknown' : nsLabel === undefined ? `namespace has no label ${LABEL_INJECT}` : `namespace label ${LABEL_INJECT}=${nsLabel}` });
  if (template.spec.hostNetwork === true) return stop('hostNetwork', 'pod.hostNetwork', 'the proxy cannot capture the node\'s traffic');
  steps.push({ condition: 'pod.hostNetwork', outcome: 'pass', detail: 'not hostNetwork' });
  const all = (template.spec.containers ?? []).concat(template.spec.initContainers ?? []);
  const others = all.filter((c) => Object.hasOwn(OTHER_MESH_CONTAINERS, c.name));
  if (others.length && !opts.force) return stop('otherMesh', 'pod.otherMesh', others.map((c) => `${OTHER_MESH_CONTAINERS[c.name]}: ${c.name}`).join(', ') + '; --force injects anyway');
  steps.push({ condition: 'pod.otherMesh', outcome: 'pass', detail: others.length ? `another mesh's sidecar (${others.map((c) => c.name).join(', ')}), injected anyway (--force)` : "no other mesh's sidecar" });
  const prior = readStatus(ann);
  if (prior) {
    if (isNewerVersion(prior.version, version)) return stop('newerVersion', 'pod.status', `${prior.version}; this is ${version}`);
    steps.push({ condition: 'pod.status', outcome: 'pass', detail: prior.version === version ? `already injected by this version (${version}): nothing changes` : `injected by ${prior.version}: re-injected as ${version}` });
    return { prior, steps };
  }
  steps.push({ condition: 'pod.status', outcome: 'pass', detail: 'not injected yet' });
  if (all.some((c) => c.name === PROXY_CONTAINER || c.name === INIT_CONTAINER)) return stop('nameConflict', 'pod.names');
  steps.push({ condition: 'pod.names', outcome: 'pass', detail: `no container named ${PROXY_CONTAINER} or ${INIT_CONTAINER}` });
  return { steps };
}

/**
 * The requirements of `selector` that `labels` do not meet, in words (empty: it selects them).
 * An absent or empty selector selects everything, as for admission webhooks.
 */
export function unmetRequirements(selector: unknown, labels: Readonly<Record<string, string>>): string[] {
  const shown = (k: string) => (Object.hasOwn(labels, k) ? `${k}=${labels[k]}` : `no label ${k}`);
  return labelRequirements(selector)
    .filter((r) => !requirementMet(r, labels))
    .map((r) => (r.matchLabel ? `${r.key}=${r.values[0] ?? ''} wanted, ${shown(r.key)}` : `${r.key} ${r.operator}${r.values.length ? ` [${r.values.join(', ')}]` : ''} wanted, ${shown(r.key)}`));
}

/** What the API server tests before it calls the webhook: the installed webhook's selectors. */
export interface WebhookSelectors {
  namespaceSelector?: unknown;
  objectSelector?: unknown;
}

/**
 * The API server's side of the decision: does it send the pod to the webhook at all? Namespace
 * labels get kubernetes.io/metadata.name, as the API server sets it on every namespace.
 */
export function selectorSteps(webhook: WebhookSelectors, namespace: string, namespaceLabels: Readonly<Record<string, string>>, podLabels: Readonly<Record<string, string>>): { called: boolean; steps: DecisionStep[] } {
  const nsLabels = { ...namespaceLabels, 'kubernetes.io/metadata.name': namespace };
  const steps: DecisionStep[] = [];
  const nsUnmet = unmetRequirements(webhook.namespaceSelector, nsLabels);
  if (nsUnmet.length) {
    const hint = namespaceLabels[LABEL_INJECT] === 'enabled' ? '' : `; label it: kubectl label namespace ${namespace} ${LABEL_INJECT}=enabled`;
    steps.push({ condition: 'webhook.namespaceSelector', outcome: 'stop', detail: `the API server does not call the webhook for namespace ${namespace}: ${nsUnmet.join('; ')}${hint}` });
    return { called: false, steps };
  }
  steps.push({ condition: 'webhook.namespaceSelector', outcome: 'pass', detail: `namespace ${namespace} matches` });
  const objUnmet = unmetRequirements(webhook.objectSelector, podLabels);
  if (objUnmet.length) {
    steps.push({ condition: 'webhook.objectSelector', outcome: 'stop', detail: `the API server does not call the webhook for this pod: ${objUnmet.join('; ')}` });
    return { called: false, steps };
  }
  steps.push({ condition: 'webhook.objectSelector', outcome: 'pass', detail: 'the pod\'s labels match' });
  return { called: true, steps };
}
