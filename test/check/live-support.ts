// Shared by the live-check tests: a healthy installed mesh as seed objects, and a runner that
// starts the test API server, runs `mesh check` in process and returns the -o json report.
import { before } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from '../../src/cluster/index.ts';
import type { Cluster } from '../../src/cluster/types.ts';
import { runCheck, type CheckDeps } from '../../src/commands/check-run.ts';
import { validateCheckOptions, type RawCheckOptions } from '../../src/checks/options.ts';
import type { CheckReport } from '../../src/checks/report.ts';
import { generateRoot } from '../../src/pki/index.ts';
import { VERSION } from '../../src/version.ts';
import { clusterDnsObjects } from '../support/cluster-dns.ts';
import { startApiServer, type TestCluster } from '../support/kube.ts';
import { captureUi } from '../support/ui.ts';
import { servingCerts, type ServingCerts } from '../support/apiserver/certs.ts';
import { startWebhook } from '../../src/controller/webhook.ts';
import { resolveValues } from '../../src/manifests/values.ts';

export type Obj = Record<string, any>;

export const roots = { ROOT_PEM: '', OTHER_PEM: '', ROOT_NOT_AFTER: new Date(), WEBHOOK: undefined as unknown as ServingCerts };

/** Generate the two roots once per test file (call from the file's top level). */
export function useRoots(): void {
  before(async () => {
    roots.ROOT_PEM = (await generateRoot({ trustDomain: 'cluster.local', ttl: '8760h' })).certPem;
    roots.OTHER_PEM = (await generateRoot({ trustDomain: 'other.local' })).certPem;
    roots.ROOT_NOT_AFTER = new Date(new (await import('node:crypto')).X509Certificate(roots.ROOT_PEM).validTo);
    roots.WEBHOOK = await servingCerts();
  });
}

export const b64 = (s: string): string => Buffer.from(s).toString('base64');
export const ready = { phase: 'Running', podIP: '10.0.0.9', conditions: [{ type: 'Ready', status: 'True' }] };
const labels = (name: string): Obj => ({ 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': 'mesh', 'app.kubernetes.io/version': VERSION });

/** An installed, healthy mesh with one injected app. */
export function healthy(): Obj[] {
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'mesh-system' } },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { 'mesh.dev/inject': 'enabled' } } },
    {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'authorizationpolicies.mesh.dev', labels: { 'app.kubernetes.io/version': VERSION } },
      spec: { group: 'mesh.dev', scope: 'Namespaced', names: { kind: 'AuthorizationPolicy', plural: 'authorizationpolicies', singular: 'authorizationpolicy', listKind: 'AuthorizationPolicyList' }, versions: [{ name: 'v1alpha1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }] },
    },
    { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'mesh-controller', namespace: 'mesh-system', labels: labels('mesh-controller') }, spec: { selector: { matchLabels: { 'app.kubernetes.io/name': 'mesh-controller' } }, template: { metadata: { labels: { 'app.kubernetes.io/name': 'mesh-controller' } }, spec: { containers: [{ name: 'controller', image: 'mesh' }] } } } },
    { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'mesh-controller-1', namespace: 'mesh-system', labels: labels('mesh-controller') }, spec: { containers: [{ name: 'controller', image: 'mesh' }] }, status: ready },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'mesh-controller', namespace: 'mesh-system' }, spec: { selector: { 'app.kubernetes.io/name': 'mesh-controller' }, ports: [{ name: 'https-webhook', port: 443 }, { name: 'grpc-xds', port: 15010 }] } },
    { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'mesh-controller-abc', namespace: 'mesh-system', labels: { 'kubernetes.io/service-name': 'mesh-controller' } }, addressType: 'IPv4', endpoints: [{ addresses: ['10.0.0.9'], conditions: { ready: true } }], ports: [{ name: 'https-webhook', port: 15017 }] },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: { name: 'mesh-sidecar-injector' },
      webhooks: [{ name: 'sidecar-injector.mesh.dev', admissionReviewVersions: ['v1'], sideEffects: 'None', clientConfig: { service: { name: 'mesh-controller', namespace: 'mesh-system', path: '/inject', port: 443 }, caBundle: b64(roots.ROOT_PEM + roots.WEBHOOK.caPem) }, rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }], namespaceSelector: { matchLabels: { 'mesh.dev/inject': 'enabled' } } }],
    },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'mesh-root-ca', namespace: 'mesh-system' }, type: 'Opaque', data: { 'tls.crt': b64(roots.ROOT_PEM), 'ca.crt': b64(roots.ROOT_PEM) } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'mesh-trust-bundle', namespace: 'mesh-system' }, data: { 'ca.crt': roots.ROOT_PEM } },
    ...clusterDnsObjects(),
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80 }] } },
    { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: 'shop', labels: { app: 'web', 'mesh.dev/proxy-version': VERSION } }, spec: { containers: [{ name: 'web', image: 'web' }, { name: 'mesh-proxy', image: 'envoy' }] }, status: ready },
  ];
}

export const CDS = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
export const LDS = 'type.googleapis.com/envoy.config.listener.v3.Listener';
export const RDS = 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration';
/** /debug/syncz as src/controller/controlplane.ts serves it (plus a certificate expiry). */
export const proxy = (types: Obj, extra: Obj = {}): Obj => ({ id: 'sidecar~10.0.0.9~web-1.shop', kind: 'sidecar', namespace: 'shop', pod: 'web-1', connected: true, streams: [{ streamId: 1, connectedAt: '2026-01-01T00:00:00Z', types }], ...extra });
export const SYNCED = (): Obj => ({
  generation: 3,
  ready: true,
  proxies: [proxy({ [CDS]: { sentVersion: '3', ackedVersion: '3', lastNack: { version: '2', nonce: 'n', message: 'old, fixed since', at: '' } }, [LDS]: { sentVersion: '3', ackedVersion: '3' } }, { certificate: { notAfter: new Date(Date.now() + 86_400_000).toISOString() } })],
});

export interface Scenario {
  seed?: Obj[];
  /** Change the healthy objects before seeding. */
  edit?: (objs: Obj[]) => Obj[];
  syncz?: Obj | null;
  setup?: (c: TestCluster) => void | Promise<void>;
  flags?: Partial<RawCheckOptions>;
  live?: CheckDeps['live'];
  wrap?: (c: Cluster) => Cluster;
  /** Called between --wait rounds instead of waiting (default: a 20 ms pause). */
  sleep?: CheckDeps['sleep'];
}

export async function check(s: Scenario = {}): Promise<{ report: CheckReport; code: number; stderr: string; cluster: TestCluster }> {
  const seed = s.seed ?? (s.edit ? s.edit(healthy()) : healthy());
  const cluster = await startApiServer({ seed });
  // The real injection webhook, where the API server calls the mesh-controller Service (its
  // caBundle above trusts this serving certificate beside the mesh root); setup() may remap it.
  const { server: hook, port } = await startWebhook(roots.WEBHOOK, { host: '127.0.0.1', port: 0 }, { values: () => Promise.resolve(resolveValues()), nativeSidecar: () => false, namespaceLabels: () => Promise.resolve(undefined) });
  cluster.server.webhookServices.set('mesh-system/mesh-controller', `https://127.0.0.1:${port}`);
  try {
    const syncz = s.syncz === undefined ? SYNCED() : s.syncz;
    if (syncz) cluster.server.setPodProxy('mesh-system', '*', (req) => (req.path === '/debug/syncz' ? { body: JSON.stringify(syncz), contentType: 'application/json' } : { status: 404, body: 'not found' }));
    await s.setup?.(cluster);
    const { ui, out, err } = captureUi({ yes: true });
    const opts = validateCheckOptions({ output: 'json', timeout: '5s', dnsProbe: true, ...s.flags });
    const code = await runCheck(opts, ui, {
      connect: async () => {
        const c = await connect({ kubeconfig: cluster.kubeconfigPath, timeoutMs: 5000 });
        return s.wrap ? s.wrap(c) : c;
      },
      // No kubelet runs the DNS lookup pod here, so it never finishes: waiting for it would only
      // cost time. A zero deadline still creates and deletes it and reports the skip.
      live: { dnsPodTimeoutMs: 0, pollMs: 50, ...s.live },
      sleep: s.sleep ?? ((ms) => new Promise((r) => setTimeout(r, Math.min(ms, 20)))),
    });
    return { report: JSON.parse(out()) as CheckReport, code, stderr: err(), cluster };
  } finally {
    hook.close();
    hook.closeAllConnections();
    await cluster.stop();
  }
}

export function status(r: CheckReport, id: string): string {
  const c = r.checks.find((x) => x.id === id);
  assert.ok(c, `no result for ${id}`);
  return c.status;
}

export function failing(r: CheckReport): string[] {
  return r.checks.filter((c) => c.status === 'fail' || c.status === 'warn').map((c) => c.id);
}

/** A `wrap` for check(): the cluster as it is, with every object it is asked to create pushed onto `created`. */
export function recordCreates(created: Obj[]): (c: Cluster) => Cluster {
  return (c) => {
    const w = Object.create(c) as Cluster;
    w.create = async (o) => {
      created.push(o);
      return c.create(o);
    };
    return w;
  };
}
