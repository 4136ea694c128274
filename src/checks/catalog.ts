import { X509Certificate } from 'node:crypto';
import type { KubeObject } from '../cluster/types.js';
import {
  CONTROLLER_NAME,
  LABEL_COMPONENT,
  LABEL_INJECT,
  LABEL_MANAGED_BY,
  LABEL_NAME,
  LABEL_PART_OF,
  LABEL_PROXY_VERSION,
  LABEL_VERSION,
  MANAGED_BY,
  MESH_DOMAIN,
  PART_OF,
  PROXY_CONTAINER,
  ROOT_CA_SECRET,
  TRUST_BUNDLE_CONFIGMAP,
  WEBHOOK_NAME,
} from '../constants.js';
import { analyze, type SourcedObject } from '../analyzers/index.js';
import { describeAccess, MIN_KUBE_MINOR, parseMinor, PERMISSIONS_CATEGORY, requiredAccess } from './install-access.js';

export { MIN_KUBE_MINOR };
import type { LiveContext } from './context.js';
import { conditionStatus, containerNames, few, namespaceLabels, nsName, podReady, readyAddresses, secretValue, selectorMatches } from './k8s.js';
import { readSyncz, SynczUnavailable } from './syncz.js';
import type { Check, CheckOutcome } from './types.js';

/** Root CA expiry thresholds. */
export const ROOT_WARN_DAYS = 30;
export const ROOT_ERROR_DAYS = 7;
/** Other meshes' injection webhooks, by MutatingWebhookConfiguration name prefix. */
export const KNOWN_MESH_INJECTORS = ['istio-sidecar-injector', 'istio-revision-tag', 'linkerd-proxy-injector', 'kuma-admission-mutating-webhook-configuration', 'consul-connect-injector', 'osm-webhook', 'aws-appmesh-inject'];
/** Namespaces the analyzers and injection checks leave alone. */
const SYSTEM_NAMESPACES = new Set(['kube-system', 'kube-public', 'kube-node-lease']);

type C = Check<LiveContext>;
type Obj = Record<string, unknown>;

const pass = (message: string, details?: string[]): CheckOutcome => ({ status: 'pass', message, details });
const fail = (message: string, hint: string, details?: string[]): CheckOutcome => ({ status: 'fail', message, hint, details });
const warn = (message: string, hint: string, details?: string[]): CheckOutcome => ({ status: 'warn', message, hint, details });
const skip = (message: string, hint?: string): CheckOutcome => ({ status: 'skip', message, hint });

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ---------------------------------------------------------------------------------------------
// kubernetes-api

const apiReachable: C = {
  id: 'kubernetes-api.reachable',
  category: 'kubernetes-api',
  description: 'can reach the Kubernetes API server',
  severity: 'error',
  hintAnchor: 'kubernetes-api-reachable',
  async run(ctx) {
    const v = await ctx.cluster.serverVersion();
    return pass(`${ctx.cluster.server}, Kubernetes ${v.gitVersion}, context ${ctx.cluster.contextName}`);
  },
};

const apiVersion: C = {
  id: 'kubernetes-api.version',
  category: 'kubernetes-api',
  description: `Kubernetes version is supported (1.${MIN_KUBE_MINOR} or newer)`,
  severity: 'error',
  hintAnchor: 'kubernetes-api-version',
  async run(ctx) {
    const v = await ctx.cluster.serverVersion();
    const minor = parseMinor(v.minor);
    if (v.major !== '1' || minor === undefined || minor < MIN_KUBE_MINOR) {
      return fail(`the cluster runs ${v.gitVersion || `${v.major}.${v.minor}`}`, `upgrade the cluster to Kubernetes 1.${MIN_KUBE_MINOR} or newer`);
    }
    return pass(`Kubernetes ${v.gitVersion}`);
  },
};

// ---------------------------------------------------------------------------------------------
// permissions (pre): one check per resource install writes, each asking SelfSubjectAccessReview
// for every verb install uses on it. The list is install's own (install-access.ts).

function permissionChecks(): C[] {
  const byResource = new Map<string, { group: string; resource: string; clusterScoped: boolean }>();
  for (const a of requiredAccess('NAMESPACE')) byResource.set(`${a.group}/${a.resource}`, { group: a.group, resource: a.resource, clusterScoped: a.namespace === undefined });
  return [...byResource.values()].map(({ group, resource }) => ({
    id: `permissions.${resource}`,
    category: PERMISSIONS_CATEGORY,
    description: `can create and update ${group ? `${resource}.${group}` : resource}`,
    severity: 'error',
    hintAnchor: 'permissions',
    async run(ctx) {
      const wanted = requiredAccess(ctx.namespace).filter((a) => a.group === group && a.resource === resource);
      const answers = await Promise.all(wanted.map((a) => ctx.canI(a)));
      const denied = wanted.filter((_, i) => !answers[i]!.allowed);
      if (denied.length) {
        return fail(`not allowed to ${few(denied.map(describeAccess))}`, 'install needs cluster-admin or an equivalent role; use another --context or ask for these permissions');
      }
      return pass(`allowed: ${wanted.map((a) => a.verb).join(', ')}`);
    },
  }));
}

// ---------------------------------------------------------------------------------------------
// pre-install environment

const httpRouteCrd: C = {
  id: 'gateway-api.httproute-crd',
  category: 'gateway-api',
  description: 'the Gateway API HTTPRoute CRD is installed',
  severity: 'warning',
  hintAnchor: 'gateway-api-httproute-crd',
  async run(ctx) {
    const crd = await ctx.get('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'httproutes.gateway.networking.k8s.io');
    if (!crd) return warn('httproutes.gateway.networking.k8s.io is missing: routing, canaries and retries need it', 'run "mesh install --gateway-api" or install the Gateway API standard CRDs');
    return pass('httproutes.gateway.networking.k8s.io is installed');
  },
};

function injectsPods(w: Obj): boolean {
  const rules = Array.isArray(w.rules) ? w.rules.filter(isObj) : [];
  return rules.some((r) => {
    const res = Array.isArray(r.resources) ? r.resources : [];
    const ops = Array.isArray(r.operations) ? r.operations : [];
    return (res.includes('pods') || res.includes('*')) && (ops.includes('CREATE') || ops.includes('*'));
  });
}

const otherInjectors: C = {
  id: 'other-meshes.injectors',
  category: 'other-meshes',
  description: "no other mesh's injection webhook would also inject pods",
  severity: 'error',
  hintAnchor: 'other-meshes-injectors',
  async run(ctx) {
    const [hooks, namespaces] = await Promise.all([ctx.list('admissionregistration.k8s.io/v1', 'MutatingWebhookConfiguration'), ctx.list('v1', 'Namespace')]);
    const ours = namespaces.filter((n) => n.metadata.labels?.[LABEL_INJECT] === 'enabled');
    const meshes: string[] = [];
    const overlapping: string[] = [];
    for (const h of hooks) {
      if (h.metadata.name === WEBHOOK_NAME) continue;
      const webhooks = Array.isArray(h.webhooks) ? (h.webhooks as unknown[]).filter(isObj) : [];
      const podHooks = webhooks.filter(injectsPods);
      if (podHooks.length === 0) continue;
      if (KNOWN_MESH_INJECTORS.some((k) => h.metadata.name.startsWith(k))) {
        meshes.push(h.metadata.name);
        continue;
      }
      const hit = ours.filter((ns) => podHooks.some((w) => selectorMatches(w.namespaceSelector, namespaceLabels(ns))));
      if (hit.length) overlapping.push(`${h.metadata.name} also mutates pods in ${few(hit.map((n) => n.metadata.name))}`);
    }
    if (meshes.length) return fail(`another mesh's injector is installed: ${meshes.join(', ')}`, 'two sidecars in one pod break traffic capture; uninstall the other mesh or keep its namespaces apart from mesh.dev/inject=enabled ones', overlapping);
    if (overlapping.length) return warn(`${overlapping.length} other webhook(s) mutate pods in namespaces labelled for injection`, 'make sure they do not add sidecars or iptables rules of their own', overlapping);
    return pass('no other sidecar injector found');
  },
};

const crdsCompatible: C = {
  id: 'crds.compatible',
  category: 'crds',
  description: `${MESH_DOMAIN} CRDs are absent or owned by a compatible version`,
  severity: 'error',
  hintAnchor: 'crds-compatible',
  async run(ctx) {
    const semver = await import('semver');
    const crds = (await ctx.list('apiextensions.k8s.io/v1', 'CustomResourceDefinition')).filter((c) => isObj(c.spec) && c.spec.group === MESH_DOMAIN);
    if (crds.length === 0) return pass(`no ${MESH_DOMAIN} CRDs yet`);
    const ours = semver.parse(ctx.version);
    const bad: string[] = [];
    const unknown: string[] = [];
    for (const c of crds) {
      const v = c.metadata.labels?.[LABEL_VERSION];
      const theirs = v ? semver.parse(v) : null;
      if (!theirs) unknown.push(`${c.metadata.name} has no ${LABEL_VERSION} label`);
      else if (!ours || theirs.major !== ours.major || theirs.minor !== ours.minor) bad.push(`${c.metadata.name} is from ${v} (this CLI is ${ctx.version})`);
    }
    if (bad.length) return fail(`${bad.length} CRD(s) belong to an incompatible version`, 'upgrade with "mesh upgrade" using the matching CLI, or uninstall the old mesh first', bad);
    if (unknown.length) return warn(`${unknown.length} CRD(s) of group ${MESH_DOMAIN} were not installed by mesh`, 'remove them or let "mesh install" take them over', unknown);
    return pass(`${crds.length} CRD(s) at a compatible version`);
  },
};

const clusterDns: C = {
  id: 'dns.cluster-dns',
  category: 'dns',
  description: 'cluster DNS (kube-dns/CoreDNS) has ready endpoints',
  severity: 'error',
  hintAnchor: 'dns-cluster-dns',
  async run(ctx) {
    let svc: KubeObject | undefined;
    for (const name of ['kube-dns', 'coredns']) {
      svc = await ctx.get('v1', 'Service', name, 'kube-system');
      if (svc) break;
    }
    if (!svc) return fail('no kube-dns or coredns Service in kube-system', 'the mesh resolves services through cluster DNS; install CoreDNS');
    const slices = await ctx.list('discovery.k8s.io/v1', 'EndpointSlice', { namespace: 'kube-system', labelSelector: `kubernetes.io/service-name=${svc.metadata.name}` });
    const ready = readyAddresses(slices);
    if (ready.length === 0) return fail(`Service kube-system/${svc.metadata.name} has no ready endpoints`, 'check the CoreDNS pods: kubectl -n kube-system get pods -l k8s-app=kube-dns');
    return pass(`kube-system/${svc.metadata.name} has ${ready.length} ready endpoint(s)`);
  },
};

const podSecurity: C = {
  id: 'pod-security.net-admin',
  category: 'pod-security',
  description: "Pod Security admission allows the proxy init container's NET_ADMIN",
  severity: 'error',
  hintAnchor: 'pod-security-net-admin',
  async run(ctx) {
    const namespaces = await ctx.list('v1', 'Namespace');
    const strict = (n: KubeObject): string | undefined => {
      const level = n.metadata.labels?.['pod-security.kubernetes.io/enforce'];
      return level === 'baseline' || level === 'restricted' ? level : undefined;
    };
    const injected = namespaces.filter((n) => n.metadata.labels?.[LABEL_INJECT] === 'enabled' && strict(n));
    const others = namespaces.filter((n) => n.metadata.labels?.[LABEL_INJECT] !== 'enabled' && !SYSTEM_NAMESPACES.has(n.metadata.name) && n.metadata.name !== ctx.namespace && strict(n));
    const hint = 'pods there cannot start with the sidecar: label the namespace pod-security.kubernetes.io/enforce=privileged, or keep injection off there';
    if (injected.length) return fail(`${injected.length} namespace(s) labelled for injection enforce a Pod Security level that rejects NET_ADMIN`, hint, injected.map((n) => `${n.metadata.name}: enforce=${strict(n)}`));
    if (others.length) return warn(`${others.length} namespace(s) would reject injected pods if labelled for injection`, hint, others.map((n) => `${n.metadata.name}: enforce=${strict(n)}`));
    return pass('no namespace enforces a level that rejects NET_ADMIN');
  },
};

// ---------------------------------------------------------------------------------------------
// control plane (post)

const controlPlaneNamespace: C = {
  id: 'control-plane.namespace',
  category: 'control-plane',
  description: 'the control plane namespace exists',
  severity: 'error',
  hintAnchor: 'control-plane-namespace',
  async run(ctx) {
    const ns = await ctx.get('v1', 'Namespace', ctx.namespace);
    if (!ns) return fail(`namespace ${ctx.namespace} does not exist`, 'run "mesh install", or pass --mesh-namespace if the mesh lives elsewhere');
    return pass(`namespace ${ctx.namespace} exists`);
  },
};

function controllerPods(ctx: LiveContext): Promise<KubeObject[]> {
  return ctx.list('v1', 'Pod', { namespace: ctx.namespace, labelSelector: `${LABEL_NAME}=${CONTROLLER_NAME}` });
}

const controlPlanePods: C = {
  id: 'control-plane.pods-ready',
  category: 'control-plane',
  description: 'control plane pods are ready',
  severity: 'error',
  hintAnchor: 'control-plane-pods-ready',
  async run(ctx) {
    const pods = await controllerPods(ctx);
    if (pods.length === 0) return fail(`no ${CONTROLLER_NAME} pods in ${ctx.namespace}`, `check the Deployment: kubectl -n ${ctx.namespace} describe deploy ${CONTROLLER_NAME}`);
    const notReady = pods.filter((p) => !podReady(p));
    if (notReady.length) return fail(`${pods.length - notReady.length}/${pods.length} ${CONTROLLER_NAME} pods ready`, `kubectl -n ${ctx.namespace} describe pod ${notReady[0]!.metadata.name}`, notReady.map((p) => `${p.metadata.name} is not ready`));
    return pass(`${pods.length}/${pods.length} ${CONTROLLER_NAME} pods ready`);
  },
};

const controlPlaneVersion: C = {
  id: 'control-plane.version',
  category: 'control-plane',
  description: "control plane runs the CLI's version",
  severity: 'warning',
  hintAnchor: 'control-plane-version',
  async run(ctx) {
    const dep = await ctx.get('apps/v1', 'Deployment', CONTROLLER_NAME, ctx.namespace);
    if (!dep) return fail(`Deployment ${ctx.namespace}/${CONTROLLER_NAME} not found`, 'run "mesh install"');
    const pods = await controllerPods(ctx);
    const versions = new Set<string>([dep.metadata.labels?.[LABEL_VERSION] ?? 'unknown', ...pods.map((p) => p.metadata.labels?.[LABEL_VERSION] ?? dep.metadata.labels?.[LABEL_VERSION] ?? 'unknown')]);
    const others = [...versions].filter((v) => v !== ctx.version);
    if (others.length) return fail(`control plane runs ${[...versions].join(', ')}, this CLI is ${ctx.version}`, 'run "mesh upgrade" with this CLI, or use the CLI matching the control plane');
    return pass(`control plane and CLI are both ${ctx.version}`);
  },
};

const crdsEstablished: C = {
  id: 'control-plane.crds-established',
  category: 'control-plane',
  description: `${MESH_DOMAIN} CRDs are installed and established`,
  severity: 'error',
  hintAnchor: 'control-plane-crds-established',
  async run(ctx) {
    const crds = (await ctx.list('apiextensions.k8s.io/v1', 'CustomResourceDefinition')).filter((c) => isObj(c.spec) && c.spec.group === MESH_DOMAIN);
    const names = crds.map((c) => c.metadata.name);
    const missing = [`authorizationpolicies.${MESH_DOMAIN}`].filter((n) => !names.includes(n));
    const pending = crds.filter((c) => conditionStatus(c, 'Established') !== 'True').map((c) => c.metadata.name);
    if (missing.length) return fail(`missing: ${missing.join(', ')}`, 'run "mesh install" (or "mesh upgrade") to install the CRDs');
    if (pending.length) return fail(`not established: ${pending.join(', ')}`, 'the API server has not accepted them yet; wait, or check "kubectl describe crd NAME"');
    return pass(`${crds.length} CRD(s) established`);
  },
};

// ---------------------------------------------------------------------------------------------
// webhook

async function webhookConfig(ctx: LiveContext): Promise<KubeObject | undefined> {
  return ctx.get('admissionregistration.k8s.io/v1', 'MutatingWebhookConfiguration', WEBHOOK_NAME);
}

function webhookEntries(mwc: KubeObject): Obj[] {
  return Array.isArray(mwc.webhooks) ? (mwc.webhooks as unknown[]).filter(isObj) : [];
}

const webhookEndpoints: C = {
  id: 'webhook.endpoints',
  category: 'webhook',
  description: "the injection webhook's Service has ready endpoints",
  severity: 'error',
  hintAnchor: 'webhook-endpoints',
  async run(ctx) {
    const mwc = await webhookConfig(ctx);
    if (!mwc) return fail(`MutatingWebhookConfiguration ${WEBHOOK_NAME} not found`, 'run "mesh install"; without it no pod gets a sidecar');
    const svcRef = webhookEntries(mwc).map((w) => (isObj(w.clientConfig) && isObj(w.clientConfig.service) ? w.clientConfig.service : undefined)).find(Boolean);
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

function certsIn(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  const out: X509Certificate[] = [];
  for (const b of blocks) {
    try {
      out.push(new X509Certificate(b));
    } catch {
      // an unparsable block is reported by the callers as "no certificate"
    }
  }
  return out;
}

async function rootCert(ctx: LiveContext): Promise<{ cert?: X509Certificate; problem?: CheckOutcome }> {
  const secret = await ctx.get('v1', 'Secret', ROOT_CA_SECRET, ctx.namespace);
  if (!secret) return { problem: fail(`Secret ${ctx.namespace}/${ROOT_CA_SECRET} not found`, 'run "mesh install" to create the root CA') };
  const pem = secretValue(secret, 'tls.crt') ?? secretValue(secret, 'ca.crt');
  const cert = pem ? certsIn(pem)[0] : undefined;
  if (!cert) return { problem: fail(`Secret ${ctx.namespace}/${ROOT_CA_SECRET} holds no parsable certificate in tls.crt`, 'restore the Secret or rotate the root CA') };
  return { cert };
}

const webhookCaBundle: C = {
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
      const b64 = isObj(w.clientConfig) && typeof w.clientConfig.caBundle === 'string' ? w.clientConfig.caBundle : '';
      const bundle = certsIn(Buffer.from(b64, 'base64').toString('utf8'));
      if (bundle.length === 0) bad.push(`${String(w.name)}: caBundle is empty or not PEM`);
      else if (!bundle.some((c) => c.fingerprint256 === root!.fingerprint256)) bad.push(`${String(w.name)}: caBundle does not contain the root in ${ROOT_CA_SECRET} (${root!.subject.replace(/\n/g, ', ')})`);
    }
    if (bad.length) return fail('the API server would not trust the webhook\'s serving certificate', 're-run "mesh install" (or "mesh upgrade") to refresh the caBundle', bad);
    return pass('caBundle contains the mesh root CA');
  },
};

// ---------------------------------------------------------------------------------------------
// identity

const DAY = 86_400_000;

const rootCa: C = {
  id: 'identity.root-ca',
  category: 'identity',
  description: `the root CA is valid for more than ${ROOT_WARN_DAYS} days`,
  severity: 'error',
  hintAnchor: 'identity-root-ca',
  async run(ctx) {
    const { cert, problem } = await rootCert(ctx);
    if (problem) return problem;
    const notAfter = new Date(cert!.validTo);
    const notBefore = new Date(cert!.validFrom);
    const left = notAfter.getTime() - ctx.now.getTime();
    const days = Math.floor(left / DAY);
    const hint = 'rotate the root: add a new root beside the old one (the trust bundle holds both), then retire the old';
    if (notBefore.getTime() > ctx.now.getTime()) return fail(`the root CA is not valid until ${notBefore.toISOString()}`, 'check the clocks, or regenerate the root');
    if (left <= 0) return fail(`the root CA expired on ${notAfter.toISOString()}`, hint);
    if (left < ROOT_ERROR_DAYS * DAY) return fail(`the root CA expires in ${days} day(s), on ${notAfter.toISOString()}`, hint);
    if (left < ROOT_WARN_DAYS * DAY) return warn(`the root CA expires in ${days} day(s), on ${notAfter.toISOString()}`, hint);
    return pass(`valid until ${notAfter.toISOString()} (${days} days)`);
  },
};

const trustBundle: C = {
  id: 'identity.trust-bundle',
  category: 'identity',
  description: 'the trust bundle workloads use contains the root CA',
  severity: 'error',
  hintAnchor: 'identity-trust-bundle',
  async run(ctx) {
    const { cert, problem } = await rootCert(ctx);
    if (problem) return skip(`cannot compare: ${problem.message}`);
    const cm = await ctx.get('v1', 'ConfigMap', TRUST_BUNDLE_CONFIGMAP, ctx.namespace);
    if (!cm) return fail(`ConfigMap ${ctx.namespace}/${TRUST_BUNDLE_CONFIGMAP} not found`, 're-run "mesh install"');
    const bundle = certsIn(secretValue(cm, 'ca.crt') ?? '');
    if (!bundle.some((c) => c.fingerprint256 === cert!.fingerprint256)) return fail('the trust bundle does not contain the current root: proxies will reject each other\'s certificates', 're-run "mesh install" (or "mesh upgrade") to rewrite the bundle');
    return pass(`${bundle.length} root(s) in the bundle, including the current one`);
  },
};

/** A proxy certificate past this share of its lifetime was not rotated (the control plane renews at half). */
const CERT_STALE_FRACTION = 0.8;

const proxyCerts: C = {
  id: 'identity.proxy-certificates',
  category: 'identity',
  description: 'certificates the control plane serves to proxies (SDS) are current and rotated',
  severity: 'error',
  hintAnchor: 'identity-proxy-certificates',
  async run(ctx) {
    let sync;
    try {
      sync = await readSyncz(ctx);
    } catch (err) {
      if (err instanceof SynczUnavailable) return skip(err.message, 'the control plane reports certificates in /debug/syncz; allow "get pods/proxy" in the mesh namespace');
      throw err;
    }
    const withCert = sync.filter((p) => p.certificate);
    if (withCert.length === 0) {
      if (!sync.length) return skip('no connected proxies');
      const reasons = [...new Set(sync.flatMap((p) => (p.identityReason ? [p.identityReason] : [])))];
      const why = reasons.length ? `: ${reasons.slice(0, 3).join('; ')}${reasons.length > 3 ? ` (+${reasons.length - 3} more)` : ''}` : '';
      return skip(`no proxy holds a certificate from the control plane (${sync.length} proxy(ies) connected)${why}`, 'sidecars get certificates over SDS only on the TLS xDS port with their ServiceAccount token; /debug/syncz shows why per stream');
    }
    const now = ctx.now.getTime();
    const name = (p: (typeof withCert)[number]): string => `${p.namespace}/${p.pod}${p.certificate!.serial ? ` (serial ${p.certificate!.serial})` : ''}`;
    const expired = withCert.filter((p) => Date.parse(p.certificate!.notAfter) <= now);
    if (expired.length) return fail(`${expired.length} proxy certificate(s) have expired`, 'the control plane is not rotating them: check its logs and the root CA', expired.map((p) => `${name(p)}: expired ${p.certificate!.notAfter}`));
    const stale = withCert.filter((p) => {
      const c = p.certificate!;
      if (!c.notBefore) return false;
      const from = Date.parse(c.notBefore);
      const to = Date.parse(c.notAfter);
      return now >= from + (to - from) * CERT_STALE_FRACTION;
    });
    if (stale.length) {
      return warn(
        `${stale.length} proxy certificate(s) are past ${CERT_STALE_FRACTION * 100}% of their lifetime without rotation (renewal is due at half)`,
        'check the control plane log for "SDS:" lines and the root CA; a proxy whose pod was deleted is not renewed',
        stale.map((p) => `${name(p)}: expires ${p.certificate!.notAfter}${p.certificate!.renewing === false ? ', not renewed' : ''}`),
      );
    }
    return pass(`${withCert.length} proxy certificate(s) current`);
  },
};

// ---------------------------------------------------------------------------------------------
// data plane

function meshedPods(ctx: LiveContext): Promise<KubeObject[]> {
  return ctx.list('v1', 'Pod', { labelSelector: LABEL_PROXY_VERSION });
}

function running(p: KubeObject): boolean {
  return isObj(p.status) && p.status.phase === 'Running' && !p.metadata.deletionTimestamp;
}

const proxiesSynced: C = {
  id: 'data-plane.proxies-synced',
  category: 'data-plane',
  description: 'every injected proxy is connected to the control plane and in sync',
  severity: 'error',
  hintAnchor: 'data-plane-proxies-synced',
  async run(ctx) {
    const pods = (await meshedPods(ctx)).filter(running);
    if (pods.length === 0) return pass('no injected pods running');
    let sync;
    try {
      sync = await readSyncz(ctx);
    } catch (err) {
      if (err instanceof SynczUnavailable) return skip(err.message, `allow "get pods/proxy" in ${ctx.namespace}, and check the control plane pods are ready`);
      throw err;
    }
    const byPod = new Map(sync.map((s) => [`${s.namespace}/${s.pod}`, s]));
    const problems: string[] = [];
    for (const p of pods) {
      const s = byPod.get(nsName(p));
      if (!s) problems.push(`${nsName(p)}: not connected to any control plane replica`);
      else if (!s.connected) problems.push(`${nsName(p)}: disconnected from ${s.controller}`);
      else {
        for (const t of s.types) {
          if (t.nack) problems.push(`${nsName(p)}: ${t.type} NACKed: ${t.nack}`);
          else if (t.sent !== undefined && t.sent !== t.acked) problems.push(`${nsName(p)}: ${t.type} stale (sent ${t.sent}, acked ${t.acked ?? 'nothing'})`);
        }
      }
    }
    if (problems.length) return fail(`${new Set(problems.map((x) => x.split(':')[0])).size}/${pods.length} proxies not in sync`, 'see "mesh proxy-status" and the control plane logs; a NACK names the rejected config', problems);
    return pass(`${pods.length} prox${pods.length === 1 ? 'y' : 'ies'} connected and in sync`);
  },
};

const proxyVersions: C = {
  id: 'data-plane.version',
  category: 'data-plane',
  description: "proxies run the control plane's version",
  severity: 'warning',
  hintAnchor: 'data-plane-version',
  async run(ctx) {
    const pods = (await meshedPods(ctx)).filter(running);
    const dep = await ctx.get('apps/v1', 'Deployment', CONTROLLER_NAME, ctx.namespace);
    const want = dep?.metadata.labels?.[LABEL_VERSION] ?? ctx.version;
    const old = pods.filter((p) => p.metadata.labels?.[LABEL_PROXY_VERSION] !== want);
    if (old.length) return warn(`${old.length}/${pods.length} proxies are not on ${want}`, 'restart those workloads (kubectl rollout restart) so they get the current proxy', old.map((p) => `${nsName(p)} runs ${p.metadata.labels?.[LABEL_PROXY_VERSION]}`));
    return pass(pods.length ? `${pods.length} prox${pods.length === 1 ? 'y' : 'ies'} on ${want}` : 'no injected pods running');
  },
};

const missingSidecars: C = {
  id: 'data-plane.injection',
  category: 'data-plane',
  description: 'pods in namespaces labelled for injection have the sidecar',
  severity: 'warning',
  hintAnchor: 'data-plane-injection',
  async run(ctx) {
    const namespaces = (await ctx.list('v1', 'Namespace')).filter((n) => n.metadata.labels?.[LABEL_INJECT] === 'enabled');
    if (namespaces.length === 0) return pass(`no namespace is labelled ${LABEL_INJECT}=enabled`);
    const lists = await Promise.all(namespaces.map((n) => ctx.list('v1', 'Pod', { namespace: n.metadata.name })));
    const lacking = lists
      .flat()
      .filter(running)
      .filter((p) => p.metadata.annotations?.[`${MESH_DOMAIN}/inject`] !== 'disabled' && p.metadata.labels?.[`${MESH_DOMAIN}/inject`] !== 'disabled')
      .filter((p) => !(isObj(p.spec) && p.spec.hostNetwork === true))
      .filter((p) => !containerNames(p).includes(PROXY_CONTAINER));
    if (lacking.length) return warn(`${lacking.length} pod(s) have no sidecar: they started before injection was enabled`, `restart them, e.g. kubectl -n ${lacking[0]!.metadata.namespace} rollout restart deploy`, lacking.map((p) => `${nsName(p)} needs a restart`));
    return pass(`every pod in ${namespaces.length} injected namespace(s) has the sidecar`);
  },
};

// ---------------------------------------------------------------------------------------------
// DNS lookup from inside the cluster

/** Parse `nslookup` output produced by the lookup pod: `== HOST` headers, then Name/Address lines. */
export function parseLookups(log: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let host: string | undefined;
  let answered = false;
  for (const raw of log.split('\n')) {
    const line = raw.trim();
    const h = /^== (\S+)$/.exec(line);
    if (h) {
      host = h[1]!;
      answered = false;
      out.set(host, []);
      continue;
    }
    if (!host) continue;
    if (/^Name:/i.test(line)) answered = true;
    const a = /^Address(?: \d+)?:\s*([0-9a-f.:]+?)(?:#\d+)?$/i.exec(line);
    if (a && answered) out.get(host)!.push(a[1]!);
  }
  return out;
}

const serviceDns: C = {
  id: 'dns.service-resolution',
  category: 'dns',
  description: 'meshed Services resolve to their ClusterIP inside the cluster',
  severity: 'warning',
  hintAnchor: 'dns-service-resolution',
  async run(ctx, signal) {
    const namespaces = (await ctx.list('v1', 'Namespace')).filter((n) => n.metadata.labels?.[LABEL_INJECT] === 'enabled').map((n) => n.metadata.name);
    const services = (await Promise.all(namespaces.map((ns) => ctx.list('v1', 'Service', { namespace: ns }))))
      .flat()
      .filter((s) => isObj(s.spec) && typeof s.spec.clusterIP === 'string' && s.spec.clusterIP !== 'None' && s.spec.clusterIP !== '')
      .slice(0, 50);
    if (services.length === 0) return pass('no meshed Services with a ClusterIP to resolve');
    const can = await ctx.canI({ verb: 'create', group: '', resource: 'pods', namespace: ctx.namespace });
    const logs = await ctx.canI({ verb: 'get', group: '', resource: 'pods/log', namespace: ctx.namespace });
    if (!can.allowed || !logs.allowed) {
      return skip(`not allowed to ${!can.allowed ? 'create pods' : 'read pod logs'} in ${ctx.namespace}, so no in-cluster lookup was made`, `grant "create pods" and "get pods/log" in ${ctx.namespace} to run this check`);
    }
    const hosts = services.map((s) => `${s.metadata.name}.${s.metadata.namespace}.svc.cluster.local`);
    const name = `mesh-check-dns-${Math.random().toString(36).slice(2, 8)}`;
    const pod: KubeObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace: ctx.namespace,
        labels: { [LABEL_PART_OF]: PART_OF, [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_VERSION]: ctx.version, [LABEL_COMPONENT]: 'check-dns' },
        annotations: { [`${MESH_DOMAIN}/inject`]: 'disabled' },
      },
      spec: {
        restartPolicy: 'Never',
        activeDeadlineSeconds: Math.max(10, Math.ceil(ctx.dnsPodTimeoutMs / 1000)),
        automountServiceAccountToken: false,
        containers: [
          {
            name: 'lookup',
            image: ctx.dnsImage,
            command: ['sh', '-c', `for h in ${hosts.join(' ')}; do echo "== $h"; nslookup "$h" || true; done`],
            securityContext: { allowPrivilegeEscalation: false, runAsNonRoot: true, runAsUser: 65534, capabilities: { drop: ['ALL'] } },
          },
        ],
      },
    };
    await ctx.cluster.create(pod);
    try {
      const deadline = Date.now() + ctx.dnsPodTimeoutMs;
      let phase = '';
      while (!signal.aborted && Date.now() < deadline) {
        const cur = await ctx.cluster.get('v1', 'Pod', name, ctx.namespace);
        phase = isObj(cur?.status) ? String(cur.status.phase ?? '') : '';
        if (phase === 'Succeeded' || phase === 'Failed') break;
        await new Promise((r) => setTimeout(r, ctx.pollMs));
      }
      if (phase !== 'Succeeded' && phase !== 'Failed') {
        return skip(`the lookup pod ${ctx.namespace}/${name} did not finish in ${Math.round(ctx.dnsPodTimeoutMs / 1000)}s (phase ${phase || 'unknown'})`, `check that image ${ctx.dnsImage} can be pulled, or raise --timeout`);
      }
      const found = parseLookups(await ctx.cluster.podLogs(ctx.namespace, name));
      const bad: string[] = [];
      services.forEach((s, i) => {
        const ip = String((s.spec as Obj).clusterIP);
        const got = found.get(hosts[i]!) ?? [];
        if (!got.includes(ip)) bad.push(`${hosts[i]} ${got.length ? `resolved to ${got.join(', ')}` : 'did not resolve'} (ClusterIP ${ip})`);
      });
      if (bad.length) return warn(`${bad.length}/${services.length} Services do not resolve to their ClusterIP`, 'check CoreDNS and the Services; clients of these names fail before the mesh sees them', bad);
      return pass(`${services.length} Service(s) resolve to their ClusterIP`);
    } finally {
      // The lookup pod is ours and short-lived: remove it even when the check gave up (awaited, so
      // the CLI does not exit before the request is sent; a failed delete is left to activeDeadline).
      await ctx.cluster.delete('v1', 'Pod', name, ctx.namespace).catch(() => undefined);
    }
  },
};

// ---------------------------------------------------------------------------------------------
// policy analysis on the live objects: the same analyzers `mesh check -f` runs

const LIVE_KINDS: [string, string][] = [
  ['v1', 'Namespace'],
  ['v1', 'Service'],
  ['v1', 'ServiceAccount'],
  ['v1', 'Pod'],
  ['apps/v1', 'Deployment'],
  ['apps/v1', 'StatefulSet'],
  ['apps/v1', 'DaemonSet'],
];
const LIVE_OPTIONAL_KINDS: [string, string][] = [
  ['gateway.networking.k8s.io/v1', 'HTTPRoute'],
  [`${MESH_DOMAIN}/v1alpha1`, 'AuthorizationPolicy'],
];

/** The policy analysis check: lists what the analyzers read and runs them. Exported for `-f` mode's twin. */
export const policyAnalysis: C = {
  id: 'policy.analysis',
  category: 'policy',
  description: 'mesh configuration has no policy errors',
  severity: 'error',
  hintAnchor: 'policy-analysis',
  async run(ctx) {
    const lists = await Promise.all([...LIVE_KINDS.map(([v, k]) => ctx.list(v, k)), ...LIVE_OPTIONAL_KINDS.map(([v, k]) => ctx.listOptional(v, k))]);
    const objects: SourcedObject[] = lists
      .flat()
      .filter((o) => !SYSTEM_NAMESPACES.has(o.metadata.namespace ?? '') && !(o.kind === 'Namespace' && SYSTEM_NAMESPACES.has(o.metadata.name)))
      .map((object) => ({ object }));
    const result = analyze(objects, { complete: true, suppress: ctx.suppress, proxyContainer: PROXY_CONTAINER });
    return { ...summarizeFindings(result.findings, result.objects), suppressed: result.suppressed };
  },
};

/** The outcome of a policy analysis: fail on errors, warn on warnings, pass otherwise. */
export function summarizeFindings(findings: import('../analyzers/types.js').Finding[], objects: number): CheckOutcome {
  const errors = findings.filter((f) => f.severity === 'error').length;
  const warnings = findings.filter((f) => f.severity === 'warning').length;
  const msg = `${objects} object(s) analyzed: ${errors} error(s), ${warnings} warning(s), ${findings.length - errors - warnings} info`;
  const hint = 'see the findings below; each code is documented in docs/checks.md';
  if (errors) return { status: 'fail', message: msg, hint, findings };
  if (warnings) return { status: 'warn', message: msg, hint, findings };
  return { status: 'pass', message: msg, findings };
}

/** `mesh check --pre`: can mesh be installed here? */
export function preInstallCatalog(): C[] {
  return [apiReachable, apiVersion, ...permissionChecks(), httpRouteCrd, otherInjectors, crdsCompatible, clusterDns, podSecurity];
}

/** `mesh check`: is the installed mesh healthy, and is its configuration right? */
export function postInstallCatalog(): C[] {
  return [
    apiReachable,
    apiVersion,
    controlPlaneNamespace,
    controlPlanePods,
    controlPlaneVersion,
    crdsEstablished,
    webhookEndpoints,
    webhookCaBundle,
    rootCa,
    trustBundle,
    proxyCerts,
    proxiesSynced,
    proxyVersions,
    missingSidecars,
    clusterDns,
    serviceDns,
    podSecurity,
    policyAnalysis,
  ];
}
