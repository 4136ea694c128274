/** Checks of the webhook category (post-install): the injection webhook is served and trusted. */
import { randomBytes } from 'node:crypto';
import { ANNOTATION_STATUS, CONTROLLER_NAME, LABEL_INJECT, LABEL_NAME, ROOT_CA_SECRET, WEBHOOK_NAME } from '../../constants.js';
import type { KubeObject } from '../../cluster/types.js';
import { classifyClusterError } from '../../cluster/errors.js';
import type { LiveContext } from '../context.js';
import { readyAddresses } from '../k8s.js';
import { labelSelectorMatches } from '../../util/labels.js';
import { certsIn, rootCert } from './identity.js';
import { type C, fail, type Obj, pass, skip, warn } from './shared.js';
import { isObject } from '../../util/object.js';

async function webhookConfig(ctx: LiveContext): Promise<KubeObject | undefined> {
  return ctx.get('admissionregistration.k8s.io/v1', 'MutatingWebhookConfiguration', WEBHOOK_NAME);
}

function webhookEntries(mwc: KubeObject): Obj[] {
  return Array.isArray(mwc.webhooks) ? (mwc.webhooks as unknown[]).filter(isObject) : [];
}

/** webhook.endpoints: the injection webhook's Service has ready endpoints. */
export const webhookEndpoints: C = {
  id: 'webhook.endpoints',
  category: 'webhook',
  description: "the injection webhook's Service has ready endpoints",
  severity: 'error',
  hintAnchor: 'webhook-endpoints',
  async run(ctx) {
    const mwc = await webhookConfig(ctx);
    if (!mwc) return fail(`MutatingWebhookConfiguration ${WEBHOOK_NAME} not found`, 'run "mesh install"; without it no pod gets a sidecar');
    const svcRef = webhookEntries(mwc).map((w) => (isObject(w.clientConfig) && isObject(w.clientConfig.service) ? w.clientConfig.service : undefined)).find(Boolean);
    if (!svcRef) return fail('the webhook does not point at a Service', 'reinstall with "mesh install"');
    const ns = String(svcRef.namespace ?? ctx.namespace);
    const name = String(svcRef.name ?? '');
    const svc = await ctx.get('v1', 'Service', name, ns);
    if (!svc) return fail(`webhook Service ${ns}/${name} does not exist`, 'reinstall with "mesh install"');
    const slices = await ctx.list('discovery.k8s.io/v1', 'EndpointSlice', { namespace: ns, labelSelector: `kubernetes.io/service-name=${name}` });
    const ready = readyAddresses(slices);
    if (ready.length === 0) return fail(`Service ${ns}/${name} has no ready endpoints: pod creation in injected namespaces fails`, `check the control plane pods: kubectl -n ${ns} get pods -l ${LABEL_NAME}=${CONTROLLER_NAME}`);
    return pass(`Service ${ns}/${name} has ${ready.length} ready endpoint(s)`);
  },
};

/** webhook.ca-bundle: the webhook's caBundle matches the mesh root CA that signs its serving certificate. */
export const webhookCaBundle: C = {
  id: 'webhook.ca-bundle',
  category: 'webhook',
  description: "the webhook's caBundle matches the mesh root CA that signs its serving certificate",
  severity: 'error',
  hintAnchor: 'webhook-ca-bundle',
  async run(ctx) {
    const mwc = await webhookConfig(ctx);
    if (!mwc) return fail(`MutatingWebhookConfiguration ${WEBHOOK_NAME} not found`, 'run "mesh install"');
    const { cert: root, problem } = await rootCert(ctx);
    if (problem) return problem;
    const bad: string[] = [];
    for (const w of webhookEntries(mwc)) {
      const b64 = isObject(w.clientConfig) && typeof w.clientConfig.caBundle === 'string' ? w.clientConfig.caBundle : '';
      const bundle = certsIn(Buffer.from(b64, 'base64').toString('utf8'));
      if (bundle.length === 0) bad.push(`${String(w.name)}: caBundle is empty or not PEM`);
      else if (!bundle.some((c) => c.fingerprint256 === root!.fingerprint256)) bad.push(`${String(w.name)}: caBundle does not contain the root in ${ROOT_CA_SECRET} (${root!.subject.replace(/\n/g, ', ')})`);
    }
    if (bad.length) return fail('the API server would not trust the webhook\'s serving certificate', 're-run "mesh install" (or "mesh upgrade") to refresh the caBundle', bad);
    return pass('caBundle contains the mesh root CA');
  },
};

/** Above this many milliseconds a webhook call counts as slow (capped at half the webhook's timeoutSeconds). */
export const WEBHOOK_SLOW_MS = 1000;

/**
 * webhook.dry-run: the API server can reach the webhook. A server-side dry-run create of a
 * throwaway pod (PATCH ... ?dryRun=All on a name that does not exist: admission runs as for a
 * CREATE, nothing is stored) in a namespace the webhook selects; the answer must carry the
 * sidecar, and its latency is reported (istio#30139: injection timeouts).
 */
export const webhookDryRun: C = {
  id: 'webhook.dry-run',
  category: 'webhook',
  description: 'the API server reaches the webhook (dry-run pod create)',
  severity: 'error',
  hintAnchor: 'webhook-dry-run',
  async run(ctx) {
    const mwc = await webhookConfig(ctx);
    if (!mwc) return skip(`MutatingWebhookConfiguration ${WEBHOOK_NAME} not found`, 'run "mesh install"');
    const hooks = webhookEntries(mwc);
    const namespaces = await ctx.list('v1', 'Namespace');
    const target = namespaces.find((n) => n.metadata.name !== ctx.namespace && hooks.some((w) => labelSelectorMatches(w.namespaceSelector, { ...(n.metadata.labels ?? {}), 'kubernetes.io/metadata.name': n.metadata.name })));
    if (!target) return skip(`no namespace is labelled ${LABEL_INJECT}=enabled: no pod would reach the webhook`, `label one to mesh it: kubectl label namespace NS ${LABEL_INJECT}=enabled`);
    const ns = target.metadata.name;
    const timeoutSeconds = Math.max(...hooks.map((w) => (typeof w.timeoutSeconds === 'number' ? w.timeoutSeconds : 10)));
    const slowMs = Math.min(ctx.webhookSlowMs ?? WEBHOOK_SLOW_MS, (timeoutSeconds * 1000) / 2);
    // A fresh name: on an existing pod the apply would be an UPDATE, which the webhook does not see.
    const name = `mesh-check-webhook-${randomBytes(4).toString('hex')}`;
    const pod: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, labels: { 'app.kubernetes.io/managed-by': 'mesh-check' } }, spec: { containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.9' }] } };
    const started = performance.now();
    let answer: KubeObject;
    try {
      answer = await ctx.cluster.apply(pod, { fieldManager: 'mesh-check', dryRun: true });
    } catch (err) {
      // Forbidden, unauthorized, unreachable: the runner's verdict by type, not a webhook failure.
      if (classifyClusterError(err)) throw err;
      const ms = Math.round(performance.now() - started);
      const msg = (err as Error).message;
      // Not /timeout/: the URL the API server names ends in ?timeout=10s.
      const timedOut = /deadline exceeded|timed out|Client\.Timeout|i\/o timeout/i.test(msg);
      return fail(`a dry-run pod create in namespace ${ns} failed after ${ms}ms: ${msg}`, /certificate|x509/i.test(msg)
        ? 'the API server does not trust the webhook\'s serving certificate: see webhook.ca-bundle ("mesh upgrade" refreshes the caBundle)'
        : timedOut
        ? `the webhook did not answer within its ${timeoutSeconds}s timeout: check the controller's load and logs (kubectl -n ${ctx.namespace} logs -l ${LABEL_NAME}=${CONTROLLER_NAME})`
        : `the API server cannot call the webhook: check its endpoints (webhook.endpoints), and that a firewall or NetworkPolicy lets the API server reach the controller's webhook port (private GKE/EKS clusters need a rule)`);
    }
    const ms = Math.round(performance.now() - started);
    const annotations = (answer.metadata.annotations ?? {}) as Record<string, string>;
    if (annotations[ANNOTATION_STATUS] === undefined) {
      return fail(`a dry-run pod create in namespace ${ns} came back without the sidecar (${ms}ms)`, 'the webhook was not called or failed and failurePolicy Ignore let the pod in bare: check webhook.endpoints and the controller\'s logs');
    }
    const detail = `dry-run pod create in namespace ${ns}: injected in ${ms}ms (timeout ${timeoutSeconds}s)`;
    if (ms > slowMs) return warn(`the webhook is slow: ${detail}`, `above ${slowMs}ms, pod creation waits on it and nears the timeout: check the controller's CPU and logs`);
    return pass(detail);
  },
};
