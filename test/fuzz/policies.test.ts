// Fuzz: whatever an AuthorizationPolicy or ExternalService holds (wrong types, bad ports, odd
// principals), the model, the sidecar and proxyless translations and the analyzers answer without
// throwing, and every emitted listener and cluster is config Envoy accepts (no unknown field,
// protoc-gen-validate rules hold): bad input becomes a warning or a finding, never a crash or a NACK.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildModel } from '../../src/model/index.ts';
import { proxylessResources, sidecarResources } from '../../src/xds/translate.ts';
import { TYPE } from '../../src/xds/protos.ts';
import { strictCheck } from '../../src/xds/encode.ts';
import { analyze } from '../../src/analyzers/index.ts';
import { validateRules } from '../support/pgv.ts';
import type { KubeObject } from '../../src/cluster/types.ts';

const SCALE = Number(process.env.FUZZ_RUNS ?? 1);
const junk = fc.oneof(fc.string({ maxLength: 12 }), fc.integer({ min: -5, max: 70_000 }), fc.constant(null), fc.boolean(), fc.constantFrom('*', 'cluster.local/ns/a/sa/x', 'spiffe://cluster.local/ns/a/*', '*/sa/x', 'a', '/x*', 'GET', 'api.example.com', '443', 'TLS', 'HTTP', 'TCP'));
const list = fc.array(junk, { maxLength: 3 });
const authzSpec = fc.record({
  action: fc.oneof(fc.constantFrom('ALLOW', 'DENY'), junk),
  selector: fc.oneof(fc.constant(undefined), fc.record({ matchLabels: fc.dictionary(fc.constantFrom('app', 'x'), fc.constantFrom('api', 'y')) })),
  rules: fc.array(fc.record({
    from: fc.array(fc.oneof(fc.record({ principals: list, namespaces: list }), fc.record({ source: fc.record({ principals: list, namespaces: list }) })), { maxLength: 2 }),
    to: fc.array(fc.oneof(fc.record({ ports: list, methods: list, paths: list }), fc.record({ operation: fc.record({ ports: list, methods: list, paths: list }) })), { maxLength: 2 }),
  }), { maxLength: 3 }),
}, { requiredKeys: [] });
const extSpec = fc.record({
  hosts: list,
  ports: fc.array(fc.record({ number: junk, protocol: junk, targetPort: fc.oneof(fc.constant(undefined), junk), name: junk }, { requiredKeys: ['number'] }), { maxLength: 3 }),
  tls: fc.oneof(fc.constant(undefined), fc.record({ mode: fc.constantFrom('ORIGINATE', 'SIMPLE') })),
}, { requiredKeys: [] });

const base: KubeObject[] = [
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'api', namespace: 'a' }, spec: { clusterIP: '10.96.0.1', selector: { app: 'api' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'tcp-db', port: 5432 }] } },
  { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'api-1', namespace: 'a', labels: { app: 'api' } }, spec: { serviceAccountName: 'api', containers: [{ name: 'app' }] }, status: { podIP: '10.0.0.1' } },
];

test('fuzz: AuthorizationPolicies and ExternalServices never crash the translation or produce config Envoy refuses', () => {
  fc.assert(
    fc.property(fc.array(authzSpec, { maxLength: 3 }), fc.array(extSpec, { maxLength: 3 }), fc.boolean(), (policies, externals, registryOnly) => {
      const objects: KubeObject[] = [
        ...base,
        ...policies.map((spec, i): KubeObject => ({ apiVersion: 'mesh.dev/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name: `p${i}`, namespace: 'a' }, spec })),
        ...externals.map((spec, i): KubeObject => ({ apiVersion: 'mesh.dev/v1alpha1', kind: 'ExternalService', metadata: { name: `e${i}`, namespace: 'a' }, spec })),
      ];
      const model = buildModel(objects, { registryOnly });
      for (const res of [sidecarResources(model, { id: 's', kind: 'sidecar', namespace: 'a', pod: 'api-1' }), proxylessResources(model, { id: 'g', kind: 'grpc', namespace: 'a', pod: 'api-1' })]) {
        for (const t of [TYPE.listener, TYPE.cluster] as const) {
          for (const [name, r] of Object.entries(res[t])) {
            assert.deepEqual(strictCheck(t.slice(t.lastIndexOf('/') + 1), r), [], name);
            assert.deepEqual(validateRules(t, r), [], `${name}: ${JSON.stringify({ policies, externals })}`);
          }
        }
      }
      analyze(objects.map((object) => ({ object })));
    }),
    { numRuns: Math.max(1, Math.round(60 * SCALE)) },
  );
});
