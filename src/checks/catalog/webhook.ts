/** Checks of the webhook category (post-install): the injection webhook is served and trusted. */
import { CONTROLLER_NAME, LABEL_NAME, ROOT_CA_SECRET, WEBHOOK_NAME } from '../../constants.js';
import type { KubeObject } from '../../cluster/types.js';
import type { LiveContext } from '../context.js';
import { readyAddresses } from '../k8s.js';
import { certsIn, rootCert } from './identity.js';
import { type C, fail, type Obj, pass } from './shared.js';
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
