/**
 * Pre-install environment checks (gateway-api, other-meshes, crds, pod-security): would the mesh
 * fit in this cluster beside what is already there.
 */
import { LABEL_INJECT, LABEL_VERSION, MESH_DOMAIN, WEBHOOK_NAME } from '../../constants.js';
import type { KubeObject } from '../../cluster/types.js';
import { namespaceLabels, few } from '../k8s.js';
import { labelSelectorMatches } from '../../util/labels.js';
import { type C, fail, type Obj, pass, SYSTEM_NAMESPACES, warn } from './shared.js';
import { isObject } from '../../util/object.js';
import semver from 'semver';
import { BUNDLE_VERSION, CHANNEL, GATEWAY_API, GATEWAY_API_MINIMUM } from '../../install/gateway-api.js';

/** Other meshes' injection webhooks, by MutatingWebhookConfiguration name prefix. */
export const KNOWN_MESH_INJECTORS = ['istio-sidecar-injector', 'istio-revision-tag', 'linkerd-proxy-injector', 'kuma-admission-mutating-webhook-configuration', 'consul-connect-injector', 'osm-webhook', 'aws-appmesh-inject'];

/** gateway-api.httproute-crd: the Gateway API CRDs are installed, from an official release mesh works with. */
export const httpRouteCrd: C = {
  id: 'gateway-api.httproute-crd',
  category: 'gateway-api',
  description: `the Gateway API CRDs are installed, release ${GATEWAY_API_MINIMUM} or later`,
  severity: 'warning',
  hintAnchor: 'gateway-api-httproute-crd',
  async run(ctx) {
    const crd = await ctx.get('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'httproutes.gateway.networking.k8s.io');
    const hint = `run "mesh install --gateway-api" (Gateway API ${GATEWAY_API.version}, standard channel) or install the Gateway API standard CRDs of ${GATEWAY_API_MINIMUM} or later`;
    if (!crd) return warn('httproutes.gateway.networking.k8s.io is missing: routing, canaries, retries and the ingress gateway need the Gateway API CRDs', hint);
    const release = crd.metadata.annotations?.[BUNDLE_VERSION];
    const version = semver.valid(semver.coerce(release ?? ''));
    if (!version) return warn(`httproutes.gateway.networking.k8s.io has no ${BUNDLE_VERSION} annotation: not an official Gateway API release, so its schema may differ from what mesh writes`, hint);
    if (semver.lt(version, semver.coerce(GATEWAY_API_MINIMUM)!)) return warn(`the Gateway API CRDs are ${release}, older than ${GATEWAY_API_MINIMUM} (GRPCRoute and HTTPRoute v1 are missing)`, hint);
    const channel = crd.metadata.annotations?.[CHANNEL] ?? 'unknown';
    return pass(`the Gateway API CRDs are ${release} (${channel} channel)`);
  },
};

function injectsPods(w: Obj): boolean {
  const rules = Array.isArray(w.rules) ? w.rules.filter(isObject) : [];
  return rules.some((r) => {
    const res = Array.isArray(r.resources) ? r.resources : [];
    const ops = Array.isArray(r.operations) ? r.operations : [];
    return (res.includes('pods') || res.includes('*')) && (ops.includes('CREATE') || ops.includes('*'));
  });
}

/** other-meshes.injectors: no other mesh's injection webhook would also inject pods. */
export const otherInjectors: C = {
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
      const webhooks = Array.isArray(h.webhooks) ? (h.webhooks as unknown[]).filter(isObject) : [];
      const podHooks = webhooks.filter(injectsPods);
      if (podHooks.length === 0) continue;
      if (KNOWN_MESH_INJECTORS.some((k) => h.metadata.name.startsWith(k))) {
        meshes.push(h.metadata.name);
        continue;
      }
      const hit = ours.filter((ns) => podHooks.some((w) => labelSelectorMatches(w.namespaceSelector, namespaceLabels(ns))));
      if (hit.length) overlapping.push(`${h.metadata.name} also mutates pods in ${few(hit.map((n) => n.metadata.name))}`);
    }
    if (meshes.length) return fail(`another mesh's injector is installed: ${meshes.join(', ')}`, 'two sidecars in one pod break traffic capture; uninstall the other mesh or keep its namespaces apart from mesh.dev/inject=enabled ones', overlapping);
    if (overlapping.length) return warn(`${overlapping.length} other webhook(s) mutate pods in namespaces labelled for injection`, 'make sure they do not add sidecars or iptables rules of their own', overlapping);
    return pass('no other sidecar injector found');
  },
};

/** crds.compatible: mesh.dev CRDs are absent or owned by a compatible version. */
export const crdsCompatible: C = {
  id: 'crds.compatible',
  category: 'crds',
  description: `${MESH_DOMAIN} CRDs are absent or owned by a compatible version`,
  severity: 'error',
  hintAnchor: 'crds-compatible',
  async run(ctx) {
    const semver = await import('semver');
    const crds = (await ctx.list('apiextensions.k8s.io/v1', 'CustomResourceDefinition')).filter((c) => isObject(c.spec) && c.spec.group === MESH_DOMAIN);
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

/** pod-security.net-admin: Pod Security admission allows the proxy init container's NET_ADMIN. */
export const podSecurity: C = {
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
