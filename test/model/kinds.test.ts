import { test } from 'node:test';
import assert from 'node:assert/strict';
import { authzFrom, namespacesFrom, servicesFrom, workloadsFrom, type ModelWarning } from '../../src/model/index.ts';
import type { KubeObject } from '../../src/cluster/types.ts';

// One table per object kind buildModel reads (HTTPRoutes have their own tests).

const obj = (kind: string, ns: string | undefined, name: string, rest: Record<string, unknown> = {}, annotations?: Record<string, string>, apiVersion = 'v1'): KubeObject => ({
  apiVersion, kind, metadata: { name, ...(ns ? { namespace: ns } : {}), ...(annotations ? { annotations } : {}) }, ...rest,
});

test('namespacesFrom: explicit Namespaces and the namespaces objects live in, sorted; mTLS and reachability from annotations', () => {
  const objects = [
    obj('Namespace', undefined, 'shop', {}, { 'mesh.dev/mtls': 'STRICT', 'mesh.dev/reachable-namespaces': 'db, ,payments' }),
    obj('Service', 'billing', 'api'),
    obj('Namespace', undefined, 'empty'),
  ];
  assert.deepEqual(namespacesFrom(objects, 'PERMISSIVE'), [
    { name: 'billing', mtls: 'PERMISSIVE', defaultDeny: false },
    { name: 'empty', mtls: 'PERMISSIVE', defaultDeny: false },
    { name: 'shop', mtls: 'STRICT', defaultDeny: false, reachable: ['db', 'payments', 'shop'] },
  ]);
  assert.equal(namespacesFrom([obj('Namespace', undefined, 'a', {}, { 'mesh.dev/mtls': 'bogus' })], 'STRICT')[0]!.mtls, 'STRICT', 'an unknown mode falls back to the default');
});

test('servicesFrom: TCP ports sorted, target ports defaulted, ExternalName and port-less entries left out with a warning', () => {
  const cases: { name: string; spec: Record<string, unknown>; want: unknown; warnings: number }[] = [
    {
      name: 'ports',
      spec: { clusterIP: '10.0.0.9', selector: { app: 'web' }, ports: [{ name: 'grpc', port: 9090, targetPort: 'grpc' }, { name: 'http', port: 80 }, { name: 'dns', port: 53, protocol: 'UDP' }] },
      want: { name: 'web', namespace: 'shop', fqdn: 'web.shop.svc.example.org', clusterIP: '10.0.0.9', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 80, protocol: 'http' }, { name: 'grpc', port: 9090, targetPort: 'grpc', protocol: 'grpc' }] },
      warnings: 0,
    },
    { name: 'headless, no selector, a port without a number', spec: { clusterIP: 'None', ports: [{ name: 'x' }] }, want: { name: 'web', namespace: 'shop', fqdn: 'web.shop.svc.example.org', ports: [] }, warnings: 1 },
    { name: 'ExternalName', spec: { type: 'ExternalName', externalName: 'example.com' }, want: undefined, warnings: 0 },
  ];
  for (const c of cases) {
    const warnings: ModelWarning[] = [];
    const got = servicesFrom([obj('Service', 'shop', 'web', { spec: c.spec })], 'example.org', warnings);
    assert.deepEqual(got[0], c.want, c.name);
    assert.equal(warnings.length, c.warnings, c.name);
  }
});

test('workloadsFrom: identity from the service account, ports from the selecting Services, mTLS pod > namespace > default', () => {
  const services = servicesFrom([obj('Service', 'shop', 'web', { spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'web' }] } })], 'cluster.local', []);
  const pod = (name: string, labels: Record<string, string>, annotations?: Record<string, string>, sa?: string) =>
    ({ ...obj('Pod', 'shop', name, { spec: { ...(sa ? { serviceAccountName: sa } : {}), containers: [{ name: 'app', ports: [{ name: 'web', containerPort: 8080 }] }] }, status: { podIP: '10.1.0.7' } }, annotations), metadata: { name, namespace: 'shop', labels, ...(annotations ? { annotations } : {}) } }) as KubeObject;
  const got = workloadsFrom([pod('web-2', { app: 'web' }, { 'mesh.dev/mtls': 'DISABLE' }, 'web'), pod('other', { app: 'other' })], services, new Map([['shop', 'STRICT']]), 'td.example', 'PERMISSIVE');
  assert.deepEqual(got.map((w) => [w.name, w.identity, w.mtls, w.ports, w.ip]), [
    ['other', 'spiffe://td.example/ns/shop/sa/default', 'STRICT', [], '10.1.0.7'],
    ['web-2', 'spiffe://td.example/ns/shop/sa/web', 'DISABLE', [{ port: 8080, protocol: 'http', service: 'shop/web', servicePort: 80 }], '10.1.0.7'],
  ]);
});

test('authzFrom: ALLOW by default, DENY kept, other actions skipped with a warning; sources and operations read in both shapes', () => {
  const policy = (name: string, spec: Record<string, unknown>) => obj('AuthorizationPolicy', 'shop', name, { spec }, undefined, 'mesh.dev/v1alpha1');
  const warnings: ModelWarning[] = [];
  const got = authzFrom([
    policy('b-deny', { action: 'DENY', rules: [{ to: [{ operation: { ports: ['8080', 'x'], methods: ['POST'] } }] }] }),
    policy('a-allow', { selector: { matchLabels: { app: 'web' } }, rules: [{ from: [{ source: { principals: ['spiffe://td/ns/shop/sa/web'] } }, { namespaces: ['ops'] }] }] }),
    policy('c-audit', { action: 'AUDIT' }),
    obj('AuthorizationPolicy', 'shop', 'foreign', { spec: {} }, undefined, 'security.istio.io/v1'),
  ], warnings);
  assert.deepEqual(got, [
    { name: 'a-allow', namespace: 'shop', action: 'ALLOW', selector: { app: 'web' }, rules: [{ from: [{ principals: ['spiffe://td/ns/shop/sa/web'], namespaces: [] }, { principals: [], namespaces: ['ops'] }], to: [] }] },
    { name: 'b-deny', namespace: 'shop', action: 'DENY', rules: [{ from: [], to: [{ ports: [8080], methods: ['POST'], paths: [] }] }] },
  ]);
  // A port that is not one is named (the rest of the rule still applies), like a skipped action.
  assert.deepEqual(warnings.map((w) => w.message), ['ports ["x"] are not ports from 1 to 65535; ignored', 'action AUDIT is not ALLOW or DENY; policy skipped']);
});
