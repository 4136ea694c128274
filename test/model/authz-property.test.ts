// The explanation `mesh authz check` gives and the RBAC proxies enforce come from one description
// (src/model/authz.ts); this property test holds them to the same answers: for random policies,
// namespace defaults, mTLS modes and requests, the evaluator's decision equals what the test-side
// Envoy RBAC matcher (test/support/rbac-sim.ts) does with the sidecar config mesh emits, and a
// rule the evaluator names as deciding is a policy of that config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { inboundDecision, type AuthzPolicy, type MeshModel, type MtlsMode, type Workload } from '../../src/model/index.ts';
import { sidecarResources } from '../../src/xds/translate.ts';
import { inboundVerdict, type RbacSimRequest } from '../support/rbac-sim.ts';
import { policiesArb, requestArb, TD } from '../support/authz-arbitraries.ts';

function modelOf(authz: AuthzPolicy[], mtls: MtlsMode, defaultDeny: boolean): { model: MeshModel; w: Workload } {
  const w: Workload = { name: 'api-1', namespace: 'a', serviceAccount: 'api', identity: `spiffe://${TD}/ns/a/sa/api`, labels: { app: 'api' }, mtls, ports: [{ port: 8080, protocol: 'http', service: 'api' }, { port: 9090, protocol: 'tcp', service: 'api' }] };
  const model: MeshModel = {
    trustDomain: TD,
    namespaces: [{ name: 'a', mtls, defaultDeny }, { name: 'b', mtls: 'PERMISSIVE', defaultDeny: false }],
    services: [], endpoints: {}, workloads: [w], routes: [], routeConditions: [], authz, warnings: [],
  };
  return { model, w };
}

test('property: the authz evaluator and the emitted Envoy RBAC agree on every request', () => {
  fc.assert(
    fc.property(policiesArb, fc.constantFrom<MtlsMode>('STRICT', 'PERMISSIVE', 'DISABLE'), fc.boolean(), fc.array(requestArb, { minLength: 1, maxLength: 6 }), (policies, mtls, defaultDeny, requests) => {
      const { model, w } = modelOf(policies, mtls, defaultDeny);
      const res = sidecarResources(model, { id: 'x', kind: 'sidecar', namespace: 'a', pod: 'api-1' });
      for (const r of requests) {
        const req: RbacSimRequest = { port: r.port, method: r.method, path: r.path, ...(r.principal ? { principal: r.principal } : {}) };
        const decision = inboundDecision(model, w, req);
        const envoy = inboundVerdict(res, req);
        assert.equal(decision.allowed, envoy.allowed, `${JSON.stringify(req)}: evaluator says ${decision.reason}; Envoy: ${JSON.stringify(envoy)}`);
        if (decision.by === 'policy') {
          const name = `${decision.policy!.replace('/', '.')}.${decision.rule}`;
          assert.ok(JSON.stringify(res).includes(`"${name}"`), `the deciding rule ${name} is in the emitted RBAC`);
          if (!envoy.allowed && envoy.policy) assert.equal(envoy.policy, name, 'the same DENY rule stops it');
        }
      }
    }),
    { numRuns: 400 },
  );
});
