// `mesh manifest generate --network-policies`: NetworkPolicies as defense in depth. The property:
// for random AuthorizationPolicies, an L4 evaluator of the generated NetworkPolicies
// (test/support/netpol-sim.ts) never refuses a connection that the authorization evaluator allows
// for some request, on any Service port; and the policies are not wide open where authorization
// allows only named callers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { inboundDecision, type AuthzPolicy, type MeshModel, type MtlsMode, type Workload } from '../../src/model/index.ts';
import { networkPolicies } from '../../src/manifests/network-policies.ts';
import { l4Allowed } from '../support/netpol-sim.ts';
import { policiesArb, requestArb, TD } from '../support/authz-arbitraries.ts';
import { runMeshInProcess } from '../support/cli.ts';

const wl = (name: string, ns: string, sa: string, labels: Record<string, string>, ports: Workload['ports'], mtls: MtlsMode): Workload => ({ name, namespace: ns, serviceAccount: sa, identity: `spiffe://${TD}/ns/${ns}/sa/${sa}`, labels, mtls, ports });

function modelOf(authz: AuthzPolicy[], mtls: MtlsMode, defaultDeny: boolean): { model: MeshModel; target: Workload; callers: Workload[] } {
  const target = wl('api-1', 'a', 'api', { app: 'api', 'pod-template-hash': 'abc' }, [{ port: 8080, protocol: 'http', service: 'api' }, { port: 9090, protocol: 'tcp', service: 'api' }], mtls);
  const callers = [wl('x-1', 'a', 'x', { app: 'x' }, [], mtls), wl('y-1', 'a', 'y', { app: 'y' }, [], mtls), wl('bx-1', 'b', 'x', { app: 'bx' }, [], 'PERMISSIVE')];
  const model: MeshModel = {
    trustDomain: TD,
    namespaces: [{ name: 'a', mtls, defaultDeny }, { name: 'b', mtls: 'PERMISSIVE', defaultDeny: false }],
    services: [], endpoints: {}, workloads: [target, ...callers], routes: [], routeConditions: [], authz, warnings: [],
  };
  return { model, target, callers };
}

test('property: the generated NetworkPolicies never refuse at L4 a connection authorization allows', () => {
  fc.assert(
    fc.property(policiesArb, fc.constantFrom<MtlsMode>('STRICT', 'PERMISSIVE'), fc.boolean(), fc.array(requestArb, { minLength: 1, maxLength: 8 }), (authz, mtls, defaultDeny, requests) => {
      const { model, target, callers } = modelOf(authz, mtls, defaultDeny);
      const nps = networkPolicies(model, { proxyInboundPort: 15006 });
      // Callers: each meshed workload with its identity, and an unmeshed pod (no certificate).
      const parties = [...callers.map((c) => ({ pod: { namespace: c.namespace, labels: c.labels }, principal: c.identity as string | undefined })), { pod: { namespace: 'b', labels: { app: 'plain' } }, principal: undefined }];
      for (const r of requests) {
        if (!target.ports.some((p) => p.port === r.port)) continue;
        for (const from of parties) {
          const d = inboundDecision(model, target, { port: r.port, method: r.method, path: r.path, ...(from.principal ? { principal: from.principal } : {}) });
          if (d.allowed) assert.ok(l4Allowed(nps, from.pod, { namespace: 'a', labels: target.labels }, r.port), `${JSON.stringify(from)} -> ${r.port}: authorization allows (${d.reason}) but L4 refuses under ${JSON.stringify(nps)}`);
        }
      }
    }),
    { numRuns: 300 },
  );
});

test('an ALLOW policy naming one caller closes the port to everyone else at L4; selectors leave out pod-template-hash', () => {
  const allow: AuthzPolicy = { name: 'only-x', namespace: 'a', selector: { app: 'api' }, action: 'ALLOW', rules: [{ from: [{ principals: ['cluster.local/ns/a/sa/x'], namespaces: [] }], to: [] }] };
  const { model, target } = modelOf([allow], 'STRICT', false);
  const [np] = networkPolicies(model, { proxyInboundPort: 15006 });
  assert.deepEqual((np!.spec as any).podSelector, { matchLabels: { app: 'api' } });
  const to = { namespace: 'a', labels: target.labels };
  assert.equal(l4Allowed([np!], { namespace: 'a', labels: { app: 'x' } }, to, 8080), true);
  assert.equal(l4Allowed([np!], { namespace: 'a', labels: { app: 'y' } }, to, 8080), false);
  assert.equal(l4Allowed([np!], { namespace: 'a', labels: { app: 'x' } }, to, 5000), false, 'ports no Service exposes stay closed');
});

test('mesh manifest generate --network-policies reads manifests and prints only NetworkPolicies', async () => {
  const r = await runMeshInProcess(['manifest', 'generate', '--network-policies', 'test/fixtures/authz', '-o', 'name']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), ['catalog', 'catalog-2', 'frontend', 'redis'].map((n) => `networkpolicy.networking.k8s.io/mesh-authz-${n}`));
  const bad = await runMeshInProcess(['manifest', 'generate', '--network-policies', 'test/fixtures/authz', '--generate-ca']);
  assert.equal(bad.code, 2);
});
