import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { connect } from '../../src/cluster/index.ts';
import type { Cluster } from '../../src/cluster/types.ts';
import { runCheck, type CheckDeps } from '../../src/diagnostics/checks/run.ts';
import { validateCheckOptions, type RawCheckOptions } from '../../src/diagnostics/checks/options.ts';
import type { CheckReport } from '../../src/diagnostics/render/index.ts';
import { generateRoot } from '../../src/pki/index.ts';
import { makeUi } from '../../src/ui/context.ts';
import { VERSION } from '../../src/version.ts';
import { startApiServer, type TestCluster } from '../support/kube.ts';

type Obj = Record<string, any>;

let ROOT_PEM = '';
let OTHER_PEM = '';
let ROOT_NOT_AFTER = new Date();

before(async () => {
  ROOT_PEM = (await generateRoot({ trustDomain: 'cluster.local', ttl: '8760h' })).certPem;
  OTHER_PEM = (await generateRoot({ trustDomain: 'other.local' })).certPem;
  ROOT_NOT_AFTER = new Date(new (await import('node:crypto')).X509Certificate(ROOT_PEM).validTo);
});

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const ready = { phase: 'Running', podIP: '10.0.0.9', conditions: [{ type: 'Ready', status: 'True' }] };
const labels = (name: string): Obj => ({ 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': 'mesh', 'app.kubernetes.io/version': VERSION });

/** An installed, healthy mesh with one injected app. */
function healthy(): Obj[] {
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
      webhooks: [{ name: 'sidecar-injector.mesh.dev', admissionReviewVersions: ['v1'], sideEffects: 'None', clientConfig: { service: { name: 'mesh-controller', namespace: 'mesh-system', path: '/inject', port: 443 }, caBundle: b64(ROOT_PEM) }, rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }], namespaceSelector: { matchLabels: { 'mesh.dev/inject': 'enabled' } } }],
    },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'mesh-root-ca', namespace: 'mesh-system' }, type: 'Opaque', data: { 'tls.crt': b64(ROOT_PEM), 'ca.crt': b64(ROOT_PEM) } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'mesh-trust-bundle', namespace: 'mesh-system' }, data: { 'ca.crt': ROOT_PEM } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'kube-dns', namespace: 'kube-system' }, spec: { ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] } },
    { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'kube-dns-abc', namespace: 'kube-system', labels: { 'kubernetes.io/service-name': 'kube-dns' } }, addressType: 'IPv4', endpoints: [{ addresses: ['10.0.0.2'], conditions: { ready: true } }], ports: [{ name: 'dns', port: 53 }] },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80 }] } },
    { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: 'shop', labels: { app: 'web', 'mesh.dev/proxy-version': VERSION } }, spec: { containers: [{ name: 'web', image: 'web' }, { name: 'mesh-proxy', image: 'envoy' }] }, status: ready },
  ];
}

const CDS = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
const LDS = 'type.googleapis.com/envoy.config.listener.v3.Listener';
const RDS = 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration';
/** /debug/syncz as src/controller/controlplane.ts serves it (plus a certificate expiry). */
const proxy = (types: Obj, extra: Obj = {}): Obj => ({ id: 'sidecar~10.0.0.9~web-1.shop', kind: 'sidecar', namespace: 'shop', pod: 'web-1', connected: true, streams: [{ streamId: 1, connectedAt: '2026-01-01T00:00:00Z', types }], ...extra });
const SYNCED = (): Obj => ({
  generation: 3,
  ready: true,
  proxies: [proxy({ [CDS]: { sentVersion: '3', ackedVersion: '3', lastNack: { version: '2', nonce: 'n', message: 'old, fixed since', at: '' } }, [LDS]: { sentVersion: '3', ackedVersion: '3' } }, { certificate: { notAfter: new Date(Date.now() + 86_400_000).toISOString() } })],
});

interface Scenario {
  seed?: Obj[];
  /** Change the healthy objects before seeding. */
  edit?: (objs: Obj[]) => Obj[];
  syncz?: Obj | null;
  setup?: (c: TestCluster) => void | Promise<void>;
  flags?: Partial<RawCheckOptions>;
  live?: CheckDeps['live'];
  wrap?: (c: Cluster) => Cluster;
}

async function check(s: Scenario = {}): Promise<{ report: CheckReport; code: number; stderr: string; cluster: TestCluster }> {
  const seed = s.seed ?? (s.edit ? s.edit(healthy()) : healthy());
  const cluster = await startApiServer({ seed });
  try {
    const syncz = s.syncz === undefined ? SYNCED() : s.syncz;
    if (syncz) cluster.server.setPodProxy('mesh-system', '*', (req) => (req.path === '/debug/syncz' ? { body: JSON.stringify(syncz), contentType: 'application/json' } : { status: 404, body: 'not found' }));
    await s.setup?.(cluster);
    const out = new PassThrough();
    const err = new PassThrough();
    let stdout = '';
    let stderr = '';
    out.on('data', (d) => (stdout += d));
    err.on('data', (d) => (stderr += d));
    const ui = makeUi({ color: false, verbose: false, yes: true }, { out, err, stdinTTY: false });
    const opts = validateCheckOptions({ output: 'json', timeout: '5s', ...s.flags });
    const code = await runCheck(opts, ui, {
      connect: async () => {
        const c = await connect({ kubeconfig: cluster.kubeconfigPath, timeoutMs: 5000 });
        return s.wrap ? s.wrap(c) : c;
      },
      live: { dnsPodTimeoutMs: 300, pollMs: 50, ...s.live },
      sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 20))),
    });
    return { report: JSON.parse(stdout) as CheckReport, code, stderr, cluster };
  } finally {
    await cluster.stop();
  }
}

function status(r: CheckReport, id: string): string {
  const c = r.checks.find((x) => x.id === id);
  assert.ok(c, `no result for ${id}`);
  return c.status;
}

function failing(r: CheckReport): string[] {
  return r.checks.filter((c) => c.status === 'fail' || c.status === 'warn').map((c) => c.id);
}

test('a healthy mesh passes every post-install check; the DNS lookup pod is created, and skipped when it cannot run', async () => {
  const { report, code, cluster } = await check();
  assert.deepEqual(failing(report), [], JSON.stringify(report.checks.filter((c) => c.status !== 'pass'), null, 2));
  assert.equal(code, 0);
  assert.equal(report.ok, true);
  const dns = report.checks.find((c) => c.id === 'dns.service-resolution')!;
  assert.equal(dns.status, 'skip');
  assert.match(dns.message, /lookup pod mesh-system\/mesh-check-dns-\w+ did not finish/);
  const posted = cluster.server.requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/namespaces/mesh-system/pods');
  assert.equal(posted.length, 1, 'one lookup pod was created');
  const deleted = cluster.server.requests.filter((r) => r.method === 'DELETE' && r.path.startsWith('/api/v1/namespaces/mesh-system/pods/mesh-check-dns-'));
  assert.equal(deleted.length, 1, 'and deleted again');
  assert.ok(status(report, 'identity.root-ca') === 'pass' && status(report, 'data-plane.proxies-synced') === 'pass');
});

// Each broken cluster makes exactly the named check fail (or warn, for warning checks).
const BROKEN: [string, Scenario, string[]][] = [
  ['control plane pod not ready', { edit: (o) => o.map((x) => (x.metadata.name === 'mesh-controller-1' ? { ...x, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }] } } : x)), syncz: null }, ['control-plane.pods-ready']],
  ['control plane on another version', { edit: (o) => o.map((x) => (x.metadata.name === 'mesh-controller' && x.kind === 'Deployment' ? { ...x, metadata: { ...x.metadata, labels: { ...x.metadata.labels, 'app.kubernetes.io/version': '0.0.1' } } } : x)) }, ['control-plane.version', 'data-plane.version']],
  ['CRD missing', { edit: (o) => o.filter((x) => x.kind !== 'CustomResourceDefinition') }, ['control-plane.crds-established']],
  ['webhook Service without endpoints', { edit: (o) => o.map((x) => (x.metadata.name === 'mesh-controller-abc' ? { ...x, endpoints: [{ addresses: ['10.0.0.9'], conditions: { ready: false } }] } : x)) }, ['webhook.endpoints']],
  ['webhook caBundle from another CA', { edit: (o) => o.map((x) => (x.kind === 'MutatingWebhookConfiguration' ? { ...x, webhooks: [{ ...x.webhooks[0], clientConfig: { ...x.webhooks[0].clientConfig, caBundle: b64(OTHER_PEM) } }] } : x)) }, ['webhook.ca-bundle']],
  ['trust bundle without the root', { edit: (o) => o.map((x) => (x.metadata.name === 'mesh-trust-bundle' ? { ...x, data: { 'ca.crt': OTHER_PEM } } : x)) }, ['identity.trust-bundle']],
  ['proxy certificate expired', { syncz: { generation: 3, ready: true, proxies: [{ ...SYNCED().proxies[0], certificate: { notAfter: '2020-01-01T00:00:00Z' } }] } }, ['identity.proxy-certificates']],
  ['proxy stale and NACKing', { syncz: { generation: 4, ready: true, proxies: [proxy({ [CDS]: { sentVersion: '4', ackedVersion: '3' }, [RDS]: { sentVersion: '2', ackedVersion: '1', lastNack: { version: '2', nonce: 'n', message: 'route: unknown cluster', at: '' } } })] } }, ['data-plane.proxies-synced']],
  ['proxy disconnected', { syncz: { generation: 4, ready: true, proxies: [{ ...proxy({}), connected: false, streams: [] }] } }, ['data-plane.proxies-synced']],
  ['proxy not connected', { syncz: { generation: 4, ready: true, proxies: [] } }, ['data-plane.proxies-synced']],
  ['proxy on an old version', { edit: (o) => o.map((x) => (x.metadata.name === 'web-1' ? { ...x, metadata: { ...x.metadata, labels: { ...x.metadata.labels, 'mesh.dev/proxy-version': '0.0.9' } } } : x)) }, ['data-plane.version']],
  ['pod in an injected namespace without the sidecar', { edit: (o) => [...o, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'old-1', namespace: 'shop', labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'web' }] }, status: ready }] }, ['data-plane.injection']],
  ['cluster DNS without endpoints', { edit: (o) => o.filter((x) => x.metadata.name !== 'kube-dns-abc') }, ['dns.cluster-dns']],
  ['injected namespace enforcing restricted Pod Security', { edit: (o) => o.map((x) => (x.metadata.name === 'shop' && x.kind === 'Namespace' ? { ...x, metadata: { ...x.metadata, labels: { ...x.metadata.labels, 'pod-security.kubernetes.io/enforce': 'restricted' } } } : x)) }, ['pod-security.net-admin']],
  ['invalid annotation on a Service (policy error)', { edit: (o) => o.map((x) => (x.metadata.name === 'web' && x.kind === 'Service' ? { ...x, metadata: { ...x.metadata, annotations: { 'mesh.dev/mtls': 'sometimes' } } } : x)) }, ['policy.analysis']],
  ['mesh namespace missing', { seed: [] }, ['control-plane.namespace', 'control-plane.pods-ready', 'control-plane.version', 'control-plane.crds-established', 'webhook.endpoints', 'webhook.ca-bundle', 'identity.root-ca', 'dns.cluster-dns']],
];

for (const [name, scenario, want] of BROKEN) {
  test(`broken cluster: ${name} -> ${want.join(', ')}`, async () => {
    const { report, code } = await check(scenario);
    assert.deepEqual(failing(report).sort(), [...want].sort(), JSON.stringify(report.checks.filter((c) => c.status !== 'pass' && c.status !== 'skip'), null, 2));
    const errors = report.checks.filter((c) => c.status === 'fail');
    assert.equal(code, errors.length ? 1 : 0);
    for (const c of report.checks.filter((x) => want.includes(x.id))) assert.ok(c.hint, `${c.id} says what to do`);
  });
}

test('root CA: warning within 30 days, failure within 7 days and when expired', async () => {
  const at = (daysLeft: number): Date => new Date(ROOT_NOT_AFTER.getTime() - daysLeft * 86_400_000);
  const cases: [number, string][] = [[60, 'pass'], [20, 'warn'], [3, 'fail'], [-1, 'fail']];
  for (const [days, want] of cases) {
    const { report } = await check({ live: { now: at(days) } });
    assert.equal(status(report, 'identity.root-ca'), want, `${days} days left`);
  }
});

test('syncz unreachable: the sync checks skip, saying why, and the rest still report', async () => {
  const { report, code } = await check({ syncz: null });
  const s = report.checks.find((c) => c.id === 'data-plane.proxies-synced')!;
  assert.equal(s.status, 'skip');
  assert.match(s.message, /cannot read \/debug\/syncz from the control plane/);
  assert.equal(status(report, 'identity.proxy-certificates'), 'skip');
  assert.equal(code, 0, 'skips do not fail the run');
});

test('a user who may not create pods: the DNS lookup is skipped with the reason; forbidden lists skip, not fail', async () => {
  const { report } = await check({
    setup: (c) => {
      const token = c.server.addUser('viewer', [{ verbs: ['get', 'list'], apiGroups: ['*'], resources: ['*'] }]);
      (c as { kubeconfigPath: string }).kubeconfigPath = c.kubeconfigFor(token, 'viewer');
      c.server.auth.deny({ verbs: ['get'], apiGroups: [''], resources: ['secrets'] });
    },
  });
  const dns = report.checks.find((c) => c.id === 'dns.service-resolution')!;
  assert.equal(dns.status, 'skip');
  assert.match(dns.message, /not allowed to create pods in mesh-system/);
  const root = report.checks.find((c) => c.id === 'identity.root-ca')!;
  assert.equal(root.status, 'skip');
  assert.equal(root.reason, 'forbidden');
  assert.match(root.message, /not allowed: .*secrets/);
  assert.equal(status(report, 'control-plane.pods-ready'), 'pass', 'what may be read is still checked');
});

test('a timed-out check fails with "timed out" and does not hide the others', async () => {
  const { report, code } = await check({ flags: { timeout: '1s' }, setup: (c) => void c.server.addFault({ resource: 'secrets', delayMs: 3000 }) });
  const root = report.checks.find((c) => c.id === 'identity.root-ca')!;
  assert.equal(root.status, 'fail');
  assert.equal(root.reason, 'timeout');
  assert.match(root.message, /timed out after 1s/);
  assert.equal(status(report, 'control-plane.pods-ready'), 'pass');
  assert.equal(code, 1);
});

test('--wait retries until the cluster becomes healthy', async () => {
  let rounds = 0;
  const { report, code } = await check({
    flags: { wait: '30s' },
    edit: (o) => o.map((x) => (x.metadata.name === 'mesh-controller-1' ? { ...x, status: { phase: 'Pending' } } : x)),
    wrap: (c) => ({
      ...c,
      contextName: c.contextName,
      server: c.server,
      serverVersion: () => c.serverVersion(),
      list: async (v, k, o) => {
        const items = await c.list(v, k, o);
        if (k === 'Pod' && o?.namespace === 'mesh-system' && ++rounds >= 3) return items.map((p) => ({ ...p, status: ready }));
        return items;
      },
      get: (...a) => c.get(...a),
      apply: (...a) => c.apply(...a),
      delete: (...a) => c.delete(...a),
      canI: (a) => c.canI(a),
      create: (o) => c.create(o),
      proxyGet: (t, p) => c.proxyGet(t, p),
      podLogs: (...a) => c.podLogs(...a),
    }),
  });
  assert.equal(code, 0, JSON.stringify(failing(report)));
  assert.ok(rounds >= 3, 'it ran more than once');
});

test('pre-install: a fresh cluster passes; each pre-install problem is seen failing', async () => {
  const fresh: Obj[] = [healthy().find((x) => x.metadata.name === 'kube-dns')!, healthy().find((x) => x.metadata.name === 'kube-dns-abc')!];
  const ok = await check({ seed: fresh, flags: { pre: true } });
  assert.deepEqual(failing(ok.report), ['gateway-api.httproute-crd'], 'only the missing HTTPRoute CRD warns');
  assert.equal(ok.code, 0);
  assert.ok(ok.report.checks.filter((c) => c.id.startsWith('permissions.')).length >= 10);

  const broken = await check({
    seed: [
      ...fresh,
      { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', metadata: { name: 'istio-sidecar-injector' }, webhooks: [{ name: 'sidecar-injector.istio.io', admissionReviewVersions: ['v1'], sideEffects: 'None', clientConfig: { url: 'https://127.0.0.1:1/inject' }, rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }] }] },
      { ...healthy().find((x) => x.kind === 'CustomResourceDefinition')!, metadata: { name: 'authorizationpolicies.mesh.dev', labels: { 'app.kubernetes.io/version': '9.4.0' } } },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { 'mesh.dev/inject': 'enabled', 'pod-security.kubernetes.io/enforce': 'baseline' } } },
    ],
    flags: { pre: true },
    setup: (c) => {
      const token = c.server.addUser('dev', [{ verbs: ['get', 'list'], apiGroups: ['*'], resources: ['*'] }]);
      (c as { kubeconfigPath: string }).kubeconfigPath = c.kubeconfigFor(token, 'dev');
    },
  });
  const f = failing(broken.report);
  for (const id of ['other-meshes.injectors', 'crds.compatible', 'pod-security.net-admin', 'permissions.customresourcedefinitions', 'permissions.deployments']) assert.ok(f.includes(id), `${id} should fail: ${f.join(', ')}`);
  assert.equal(broken.code, 1);
  const perm = broken.report.checks.find((c) => c.id === 'permissions.deployments')!;
  assert.match(perm.message, /not allowed to create deployments\.apps in namespace mesh-system/);

  const old = await check({ seed: fresh, flags: { pre: true }, wrap: (c) => Object.assign(Object.create(Object.getPrototypeOf(c)), c, { serverVersion: async () => ({ major: '1', minor: '25', gitVersion: 'v1.25.3' }) }) });
  assert.deepEqual(failing(old.report), ['kubernetes-api.version', 'gateway-api.httproute-crd']);
});

test('unreachable API server: exit 3, every check says why, still one JSON document', async () => {
  const { report, code, stderr } = await check({ setup: async (c) => c.server.stop() });
  assert.equal(code, 3);
  assert.equal(report.exitCode, 3);
  assert.ok(report.checks.every((c) => c.reason === 'unreachable' || c.reason === 'timeout'));
  assert.match(stderr, /no check could run: cannot reach the Kubernetes API server/);
});

test('runPreInstallChecks (what mesh install calls) returns results and ok, never throwing for a failed check', async () => {
  const { runPreInstallChecks } = await import('../../src/diagnostics/checks/index.ts');
  const cluster = await startApiServer();
  try {
    const c = await connect({ kubeconfig: cluster.kubeconfigPath });
    const clean = await runPreInstallChecks(c);
    assert.equal(clean.ok, false, 'no cluster DNS in an empty test server');
    assert.deepEqual(clean.results.filter((r) => r.result.status === 'fail').map((r) => r.result.id), ['dns.cluster-dns']);
    cluster.server.seed(healthy().filter((x) => x.metadata.name === 'kube-dns' || x.metadata.name === 'kube-dns-abc'));
    const ok = await runPreInstallChecks(await connect({ kubeconfig: cluster.kubeconfigPath }));
    assert.equal(ok.ok, true);
    assert.ok(ok.results.some((r) => r.result.id === 'permissions.mutatingwebhookconfigurations' && r.result.status === 'pass'));
  } finally {
    await cluster.stop();
  }
});

test('the DNS lookup pod is labelled as ours, opted out of injection, unprivileged and bounded in time', async () => {
  const created: Obj[] = [];
  await check({
    wrap: (c) => {
      const w = Object.create(c) as Cluster;
      w.create = async (o) => {
        created.push(o);
        return c.create(o);
      };
      return w;
    },
  });
  assert.equal(created.length, 1);
  const pod = created[0]!;
  assert.equal(pod.metadata.namespace, 'mesh-system');
  assert.equal(pod.metadata.labels['app.kubernetes.io/part-of'], 'mesh');
  assert.equal(pod.metadata.labels['app.kubernetes.io/managed-by'], 'mesh');
  assert.equal(pod.metadata.labels['app.kubernetes.io/version'], VERSION);
  assert.equal(pod.metadata.annotations['mesh.dev/inject'], 'disabled');
  assert.equal(pod.spec.restartPolicy, 'Never');
  assert.ok(pod.spec.activeDeadlineSeconds > 0);
  assert.equal(pod.spec.automountServiceAccountToken, false);
  assert.equal(pod.spec.containers[0].securityContext.runAsNonRoot, true);
  assert.match(pod.spec.containers[0].command[2], /nslookup "\$h"/);
  assert.match(pod.spec.containers[0].command[2], /web\.shop\.svc\.cluster\.local/);
});

test('DNS lookup: the pod runs, its nslookup log is compared with each ClusterIP (resolves: pass; NXDOMAIN: warning)', async () => {
  for (const resolves of [true, false]) {
    let server: TestCluster | undefined;
    const { report } = await check({
      setup: (c) => void (server = c),
      wrap: (c) => {
        const w = Object.create(c) as Cluster;
        // Stand in for the kubelet: the lookup pod "runs" at once and logs what nslookup would print.
        w.create = async (o) => {
          const made = await c.create(o);
          const svc = await c.get('v1', 'Service', 'web', 'shop');
          const ip = String((svc?.spec as Obj).clusterIP);
          const host = 'web.shop.svc.cluster.local';
          const log = resolves ? `== ${host}\nServer: 10.96.0.10\nAddress: 10.96.0.10:53\n\nName: ${host}\nAddress: ${ip}\n` : `== ${host}\nServer: 10.96.0.10\nAddress: 10.96.0.10:53\n\n** server can't find ${host}: NXDOMAIN\n`;
          server!.server.setPodLogs('mesh-system', o.metadata.name, 'lookup', log);
          server!.server.seed([{ ...o, status: { phase: 'Succeeded' } }]);
          return made;
        };
        return w;
      },
    });
    const dns = report.checks.find((c) => c.id === 'dns.service-resolution')!;
    if (resolves) {
      assert.equal(dns.status, 'pass', JSON.stringify(dns));
      assert.match(dns.message, /1 Service\(s\) resolve to their ClusterIP/);
    } else {
      assert.equal(dns.status, 'warn', JSON.stringify(dns));
      assert.match(dns.details!.join('\n'), /web\.shop\.svc\.cluster\.local did not resolve \(ClusterIP \S+\)/);
    }
  }
});
