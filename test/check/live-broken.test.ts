import { test } from 'node:test';
import assert from 'node:assert/strict';
import { b64, check, failing, proxy, ready, roots, status, SYNCED, useRoots, CDS, RDS, type Scenario } from './live-support.ts';

useRoots();

// Each broken cluster makes exactly the named check fail (or warn, for warning checks).
const BROKEN: [string, Scenario, string[]][] = [
  ['control plane pod not ready', { edit: (o) => o.map((x) => (x.metadata.name === 'mesh-controller-1' ? { ...x, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }] } } : x)), syncz: null }, ['control-plane.pods-ready']],
  ['control plane on another version', { edit: (o) => o.map((x) => (x.metadata.name === 'mesh-controller' && x.kind === 'Deployment' ? { ...x, metadata: { ...x.metadata, labels: { ...x.metadata.labels, 'app.kubernetes.io/version': '0.0.1' } } } : x)) }, ['control-plane.version', 'data-plane.version']],
  ['CRD missing', { edit: (o) => o.filter((x) => x.kind !== 'CustomResourceDefinition') }, ['control-plane.crds-established']],
  ['webhook Service without endpoints', { edit: (o) => o.map((x) => (x.metadata.name === 'mesh-controller-abc' ? { ...x, endpoints: [{ addresses: ['10.0.0.9'], conditions: { ready: false } }] } : x)) }, ['webhook.endpoints']],
  ['webhook caBundle from another CA', { edit: (o) => o.map((x) => (x.kind === 'MutatingWebhookConfiguration' ? { ...x, webhooks: [{ ...x.webhooks[0], clientConfig: { ...x.webhooks[0].clientConfig, caBundle: b64(roots.OTHER_PEM) } }] } : x)) }, ['webhook.ca-bundle', 'webhook.dry-run']],
  ['trust bundle without the root', { edit: (o) => o.map((x) => (x.metadata.name === 'mesh-trust-bundle' ? { ...x, data: { 'ca.crt': roots.OTHER_PEM } } : x)) }, ['identity.trust-bundle']],
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
  const at = (daysLeft: number): Date => new Date(roots.ROOT_NOT_AFTER.getTime() - daysLeft * 86_400_000);
  const cases: [number, string][] = [[60, 'pass'], [20, 'warn'], [3, 'fail'], [-1, 'fail']];
  for (const [days, want] of cases) {
    const { report } = await check({ live: { now: at(days) } });
    assert.equal(status(report, 'identity.root-ca'), want, `${days} days left`);
  }
});

