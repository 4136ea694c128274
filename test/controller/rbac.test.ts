// Least privilege, proven: `mesh controller --source kubernetes` runs against the test API server as
// its own ServiceAccount with exactly the RBAC that `mesh manifest generate` renders (plus the
// discovery access Kubernetes gives every authenticated user), leads, publishes trust bundles,
// reviews tokens, serves the webhook and SDS, and writes HTTPRoute, GRPCRoute and TrafficPolicy status, and not one of its
// requests is forbidden.
import { gatewayApiCrds } from '../support/gateway-api.ts';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { X509Certificate } from 'node:crypto';
import { runController } from '../../src/controller/run.ts';
import { MemorySource } from '../../src/cluster/source.ts';
import { ControlPlane } from '../../src/controller/controlplane.ts';
import { renderManifests } from '../../src/manifests/render.ts';
import { resolveValues } from '../../src/manifests/values.ts';
import { generateRoot } from '../../src/pki/index.ts';
import type { KubeObject } from '../../src/cluster/types.ts';
import { startApiServer, type Rule, type TestCluster } from '../support/kube.ts';
import { captureUi } from '../support/ui.ts';
import { AdsStream, secretsOf } from '../xds/sds-support.ts';
import { loadTemplates } from '../../src/install/templates.ts';

const NS = 'mesh-system';
const SA_USER = `system:serviceaccount:${NS}:mesh-controller`;
let c: TestCluster;
let rootPem = '';
let rendered: KubeObject[] = [];

/** The rules bound to the controller's ServiceAccount by the rendered (Cluster)RoleBindings. */
function controllerRules(objects: KubeObject[]): Rule[] {
  const rules: Rule[] = [];
  for (const b of objects.filter((o) => o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding')) {
    const subjects = (b as unknown as { subjects: { kind: string; name: string; namespace?: string }[] }).subjects;
    if (!subjects.some((s) => s.kind === 'ServiceAccount' && s.name === 'mesh-controller' && s.namespace === NS)) continue;
    const ref = (b as unknown as { roleRef: { kind: string; name: string } }).roleRef;
    const role = objects.find((o) => o.kind === ref.kind && o.metadata.name === ref.name && (ref.kind === 'ClusterRole' || o.metadata.namespace === b.metadata.namespace));
    assert.ok(role, `${b.kind} ${b.metadata.name} refers to a rendered ${ref.kind} ${ref.name}`);
    for (const r of (role as unknown as { rules: Rule[] }).rules) {
      rules.push({ ...r, ...(b.kind === 'RoleBinding' ? { namespaces: [b.metadata.namespace!] } : {}) });
    }
  }
  return rules;
}

// What the system:discovery and system:public-info-viewer ClusterRoles grant every authenticated user.
const DISCOVERY: Rule = { verbs: ['get'], nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/version', '/version/', '/openapi', '/openapi/*', '/healthz', '/livez', '/readyz'] };

before(async () => {
  const root = await generateRoot({ trustDomain: 'cluster.local' });
  rootPem = root.certPem;
  rendered = renderManifests(resolveValues(), loadTemplates(), { ca: root, gatewayApi: gatewayApiCrds() });
  // No webhook configuration (the test API server would call it for the pods below) and no Deployment (no kubelet).
  const seed = rendered.filter((o) => o.kind !== 'MutatingWebhookConfiguration' && o.kind !== 'Deployment' && o.kind !== 'PodDisruptionBudget');
  c = await startApiServer({
    seed: [
      ...(seed as unknown as Record<string, unknown>[]),
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { 'mesh.dev/inject': 'enabled' } } },
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'web', namespace: 'shop' } },
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: 'shop', labels: { app: 'web' } }, spec: { serviceAccountName: 'web', containers: [{ name: 'web', image: 'web' }] }, status: { phase: 'Running', podIP: '10.0.0.5' } },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { clusterIP: '10.96.0.5', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'api', namespace: 'shop' }, spec: { clusterIP: '10.96.0.6', selector: { app: 'api' }, ports: [{ name: 'grpc', port: 7070 }] } },
      { apiVersion: 'mesh.dev/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name: 'web', namespace: 'shop' }, spec: { action: 'ALLOW', selector: { matchLabels: { app: 'web' } }, rules: [{}] } },
      { apiVersion: 'mesh.dev/v1alpha1', kind: 'ExternalService', metadata: { name: 'payments', namespace: 'shop' }, spec: { hosts: ['api.payments.example'], ports: [{ number: 443, protocol: 'TLS' }] } },
      {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'GRPCRoute',
        metadata: { name: 'api', namespace: 'shop' },
        spec: { parentRefs: [{ group: '', kind: 'Service', name: 'api', port: 7070 }], rules: [{ matches: [{ method: { service: 'shop.Api' } }], backendRefs: [{ name: 'api', port: 7070 }] }] },
      },
      {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: { name: 'web', namespace: 'shop' },
        spec: { parentRefs: [{ group: '', kind: 'Service', name: 'web', port: 80 }], rules: [{ backendRefs: [{ name: 'web', port: 80, weight: 90 }, { name: 'web-canary', port: 80, weight: 10 }] }] },
        status: { parents: [{ parentRef: { kind: 'Gateway', name: 'edge' }, controllerName: 'example.io/gateway', conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: 'theirs', lastTransitionTime: '2026-01-01T00:00:00Z' }] }] },
      },
      // A policy whose target does not exist: the leader reports it on the policy (Accepted=False).
      { apiVersion: 'mesh.dev/v1alpha1', kind: 'TrafficPolicy', metadata: { name: 'ghost', namespace: 'shop', generation: 1 }, spec: { targetRefs: [{ group: '', kind: 'Service', name: 'nope' }], connectionPool: { maxRequests: 10 } } },
      // An ingress Gateway of the mesh class: provisioned, and its status written, as the controller.
      ...['GatewayClass', 'Gateway'].map((kind) => ({
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: `${kind === 'Gateway' ? 'gateways' : 'gatewayclasses'}.gateway.networking.k8s.io` },
        spec: {
          group: 'gateway.networking.k8s.io',
          scope: kind === 'Gateway' ? 'Namespaced' : 'Cluster',
          names: { kind, plural: kind === 'Gateway' ? 'gateways' : 'gatewayclasses', singular: kind.toLowerCase(), listKind: `${kind}List` },
          versions: [{ name: 'v1', served: true, storage: true, subresources: { status: {} }, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
        },
      })),
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ingress' } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'gateway-params', namespace: NS }, data: { replicas: '2', serviceType: 'ClusterIP' } },
      { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: 'mesh' }, spec: { controllerName: 'mesh.dev/gateway-controller', parametersRef: { group: '', kind: 'ConfigMap', name: 'gateway-params', namespace: NS } } },
      { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'edge', namespace: 'ingress' }, spec: { gatewayClassName: 'mesh', listeners: [{ name: 'http', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } }] } },
      { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'edge-web', namespace: 'shop' }, spec: { parentRefs: [{ name: 'edge', namespace: 'ingress' }], rules: [{ backendRefs: [{ name: 'web', port: 80 }] }] } },
    ],
  });
});

after(async () => {
  await c?.stop();
});

test('the rendered RBAC is all the controller needs: leader election, trust bundles, token reviews, webhook and SDS without a forbidden request', async () => {
  const rules = controllerRules(rendered);
  assert.ok(rules.length > 0, 'the rendered manifests bind rules to the controller');
  const token = c.server.addUser(SA_USER, [...rules, DISCOVERY], { groups: ['system:serviceaccounts', `system:serviceaccounts:${NS}`, 'system:authenticated'] });
  const { ui, err, waitFor } = captureUi({ yes: true });
  const signals = new EventEmitter();
  const done = runController({ source: 'kubernetes', paths: [], address: '127.0.0.1', xdsPort: 0, xdsTlsPort: 0, metricsPort: 0, webhookPort: 0, debounceMs: 10, kubeconfig: c.kubeconfigFor(token, 'controller'), meshNamespace: NS, identity: 'replica-0' }, ui, signals);
  const streams: AdsStream[] = [];
  const forbidden = (): string[] => c.server.requests.filter((r) => r.user === SA_USER && r.code === 403).map((r) => `${r.method} ${r.path}${r.query ? `?${r.query}` : ''}`);
  try {
    await Promise.race([
      Promise.all([/became the leader/, /trust bundle: wrote ConfigMap shop\/mesh-trust-bundle/, /route status: HTTPRoute shop\/web updated/, /route status: GRPCRoute shop\/api updated/, /policy status: AuthorizationPolicy shop\/web accepted/, /policy status: ExternalService shop\/payments accepted/, /policy status: TrafficPolicy shop\/ghost not accepted \(TargetNotFound\)/, /gateway: created Service ingress\/edge-mesh/, /gateway status: HTTPRoute shop\/edge-web updated/, /xDS TLS listening on [\d.]+:(\d+)/, /webhook listening/].map((re) => waitFor(re))),
      done.then(() => Promise.reject(new Error(`controller stopped:\n${err()}`))),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`the controller did not get its jobs done in 30 s; forbidden: ${JSON.stringify(forbidden())}\n${err()}`)), 30_000).unref()),
    ]);
    const cm = (await c.request('GET', '/api/v1/namespaces/shop/configmaps/mesh-trust-bundle')).json;
    assert.equal(cm.data['ca.crt'].trim(), rootPem.trim());

    // The route's status: another controller's entry kept; ours for the Service parent says the
    // route is programmed and its canary backend does not resolve (that share gets 500).
    const route = (await c.request('GET', '/apis/gateway.networking.k8s.io/v1/namespaces/shop/httproutes/web')).json;
    const parents = route.status.parents as { controllerName: string; parentRef: Record<string, unknown>; conditions: { type: string; status: string; reason: string; message: string }[] }[];
    assert.deepEqual(parents.map((p) => p.controllerName), ['example.io/gateway', 'mesh.dev/mesh-controller']);
    assert.deepEqual(parents[1]!.parentRef, { group: '', kind: 'Service', name: 'web', port: 80 });
    assert.deepEqual(parents[1]!.conditions.map((x) => [x.type, x.status, x.reason]), [['Accepted', 'True', 'Accepted'], ['ResolvedRefs', 'False', 'BackendNotFound']]);
    assert.match(parents[1]!.conditions[1]!.message, /backendRef Service shop\/web-canary does not exist/);

    const grpcRoute = (await c.request('GET', '/apis/gateway.networking.k8s.io/v1/namespaces/shop/grpcroutes/api')).json;
    assert.deepEqual((grpcRoute.status.parents as typeof parents).map((p) => [p.controllerName, p.conditions.map((x) => `${x.type}=${x.status}`).join(',')]), [['mesh.dev/mesh-controller', 'Accepted=True,ResolvedRefs=True']]);

    const policy = (await c.request('GET', '/apis/mesh.dev/v1alpha1/namespaces/shop/trafficpolicies/ghost')).json;
    assert.deepEqual(policy.status.conditions.map((x: { type: string; status: string; reason: string }) => [x.type, x.status, x.reason]), [['Accepted', 'False', 'TargetNotFound']]);
    assert.match(policy.status.conditions[0].message, /targetRef Service shop\/nope does not exist/);

    // The Gateway's proxies: a Deployment and Service owned by the Gateway, as the class's parameters say.
    const gwObj = (await c.request('GET', '/apis/gateway.networking.k8s.io/v1/namespaces/ingress/gateways/edge')).json;
    const deploy = (await c.request('GET', '/apis/apps/v1/namespaces/ingress/deployments/edge-mesh')).json;
    assert.deepEqual(deploy.metadata.ownerReferences.map((o: { kind: string; uid: string }) => [o.kind, o.uid]), [['Gateway', gwObj.metadata.uid]]);
    assert.equal(deploy.spec.replicas, 2);
    assert.ok(deploy.spec.template.spec.initContainers[0].args.includes('--gateway-name'));
    const gsvc = (await c.request('GET', '/api/v1/namespaces/ingress/services/edge-mesh')).json;
    assert.deepEqual([gsvc.spec.type, gsvc.spec.ports.map((p: { port: number; targetPort: number }) => [p.port, p.targetPort])], ['ClusterIP', [[80, 8080]]]);
    const edgeWeb = (await c.request('GET', '/apis/gateway.networking.k8s.io/v1/namespaces/shop/httproutes/edge-web')).json;
    assert.deepEqual(edgeWeb.status.parents.map((p: { controllerName: string; conditions: { type: string; status: string }[] }) => [p.controllerName, p.conditions.map((x) => `${x.type}=${x.status}`)]), [['mesh.dev/gateway-controller', ['Accepted=True', 'ResolvedRefs=True']]]);

    // A sidecar's SDS stream: the controller reviews its pod-bound token (tokenreviews create).
    const tlsPort = Number(/xDS TLS listening on [\d.]+:(\d+)/.exec(err())![1]);
    const tr = await c.request('POST', '/api/v1/namespaces/shop/serviceaccounts/web/token', { body: JSON.stringify({ spec: { audiences: ['mesh-ca'], boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'web-1' } } }) });
    const stream = new AdsStream(new ControlPlane({ source: new MemorySource() }), tlsPort, 'web-1.shop', { namespace: 'shop', pod: 'web-1' }, { token: tr.json.status.token, rootPem, awaitAcks: false });
    streams.push(stream);
    const sub = await stream.subscribe().catch((e: Error) => { throw new Error(`${e.message}\n${err()}`); });
    const leaf = new X509Certificate(secretsOf(sub).default.tls_certificate.certificate_chain.inline_string);
    assert.equal(leaf.subjectAltName, 'URI:spiffe://cluster.local/ns/shop/sa/web');

    const mine = c.server.requests.filter((r) => r.user === SA_USER);
    assert.ok(mine.some((r) => r.resource === 'leases') && mine.some((r) => r.resource === 'tokenreviews') && mine.some((r) => r.resource === 'configmaps' && r.namespace === 'shop'), 'the controller did its jobs as its ServiceAccount');
    for (const route of ['web', 'edge-web']) {
      assert.equal(mine.filter((r) => r.resource === 'httproutes' && r.subresource === 'status' && r.method === 'PUT' && r.path.includes(`/httproutes/${route}/`)).length, 1, `the status of ${route} is written once: its own update does not make it write again: ${JSON.stringify(mine.filter((r) => r.subresource === 'status').map((r) => [r.path, r.code]))}`);
    }
    assert.equal(mine.filter((r) => r.resource === 'trafficpolicies' && r.subresource === 'status' && r.method === 'PUT').length, 1, 'the policy status is written once too');
    assert.deepEqual(forbidden(), [], `requests the rendered RBAC forbids:\n${forbidden().join('\n')}\n${err()}`);
  } finally {
    for (const s of streams) s.call.cancel();
    signals.emit('SIGTERM');
    assert.equal(await done, 0);
  }
});
