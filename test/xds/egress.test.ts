// Egress control: ExternalService hosts reach the outside through DNS clusters; registry-only
// refuses everything else through the named BlockedByRegistryOnly cluster. Asserted through the
// test-side Envoy evaluator (which chain and cluster a connection lands on), and every resource
// is checked against Envoy's protos (no unknown field, encodes losslessly).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildModel, egressPlan, egressVerdict } from '../../src/model/index.ts';
import { sidecarResources } from '../../src/xds/translate.ts';
import { TYPE } from '../../src/xds/protos.ts';
import { encodeResource, strictCheck } from '../../src/xds/encode.ts';
import { outbound } from '../support/envoy-sim.ts';
import { validateRules } from '../support/pgv.ts';
import type { KubeObject } from '../../src/cluster/types.ts';

const ext = (name: string, spec: Record<string, unknown>, created = '2026-01-01T00:00:00Z'): KubeObject => ({ apiVersion: 'mesh.dev/v1alpha1', kind: 'ExternalService', metadata: { name, namespace: 'shop', creationTimestamp: created }, spec });
const objects: KubeObject[] = [
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'catalog', namespace: 'shop' }, spec: { clusterIP: '10.96.0.10', selector: { app: 'catalog' }, ports: [{ name: 'http', port: 8080 }] } },
  ext('payments', { hosts: ['api.payments.example'], ports: [{ number: 443, protocol: 'TLS' }] }),
  ext('legacy', { hosts: ['legacy.example.org'], ports: [{ number: 80, protocol: 'HTTP', targetPort: 443 }], tls: { mode: 'ORIGINATE' } }),
  ext('db', { hosts: ['db.example.net'], ports: [{ number: 5432, protocol: 'TCP' }] }),
  // Created last: its HTTP 443 loses to payments' older TLS 443.
  ext('bad', { hosts: ['*.example.com', 'ok.example.com'], ports: [{ number: 0 }, { number: 443, protocol: 'HTTP' }] }, '2026-02-01T00:00:00Z'),
];
const EXTERNAL_IP = '203.0.113.7';

function resources(registryOnly: boolean) {
  const model = buildModel(objects, { registryOnly });
  return { model, res: sidecarResources(model, { id: 's', kind: 'sidecar', namespace: 'shop', pod: 'web-1' }) };
}

test('ExternalService: bad hosts, ports and protocol clashes are warnings naming them, never a crash or a NACK', () => {
  const { model } = resources(true);
  const warnings = model.warnings.filter((w) => w.object === 'ExternalService shop/bad').map((w) => w.message);
  assert.ok(warnings.some((m) => /host "\*\.example\.com" is not a DNS name/.test(m)), warnings.join('\n'));
  assert.ok(warnings.some((m) => /port 0 .* is not a port from 1 to 65535/.test(m)), warnings.join('\n'));
  // bad's HTTP 443 clashes with payments' older TLS 443: the plan keeps the oldest claim and says why.
  assert.deepEqual(egressPlan(model).conflicts, [{ service: 'shop/bad', host: 'ok.example.com', port: 443, why: 'port 443 is TLS in ExternalService shop/payments; one port carries one protocol' }]);
  assert.deepEqual(egressVerdict(model, 'shop', 'ok.example.com', 443), { verdict: 'blocked', reason: 'ok.example.com:443 is neither a Service nor an ExternalService host, and outboundTrafficPolicy is registry-only' });
});

test('registry-only: registered hosts reach their DNS cluster; anything else lands on BlockedByRegistryOnly', () => {
  const { res } = resources(true);
  assert.deepEqual(outbound(res, { ip: EXTERNAL_IP, port: 443 }, { host: 'api.payments.example', path: '/', sni: 'api.payments.example' }), { kind: 'tcp', cluster: 'outbound|443||api.payments.example', chain: 'external|443|api.payments.example' });
  assert.equal((outbound(res, { ip: EXTERNAL_IP, port: 443 }, { host: 'evil.example', path: '/', sni: 'evil.example' }) as { cluster: string }).cluster, 'BlockedByRegistryOnly');
  const http = outbound(res, { ip: EXTERNAL_IP, port: 80 }, { host: 'legacy.example.org', path: '/v1' });
  assert.equal(http.kind, 'route');
  assert.deepEqual(http.kind === 'route' && http.upstreams.map((u) => u.cluster), ['outbound|80||legacy.example.org']);
  const other = outbound(res, { ip: EXTERNAL_IP, port: 80 }, { host: 'other.example.org', path: '/' });
  assert.deepEqual(other.kind === 'route' && [other.route, other.upstreams.map((u) => u.cluster)], ['blocked-by-registry-only', ['BlockedByRegistryOnly']]);
  assert.equal((outbound(res, { ip: EXTERNAL_IP, port: 9999 }, { host: 'x', path: '/' }) as { cluster: string }).cluster, 'BlockedByRegistryOnly');
  assert.equal((outbound(res, { ip: EXTERNAL_IP, port: 5432 }, { host: 'x', path: '/' }) as { cluster: string }).cluster, 'outbound|5432||db.example.net');
  assert.equal((outbound(res, { ip: '10.96.0.10', port: 8080 }, { host: 'catalog', path: '/' }) as { kind: string }).kind, 'route', 'mesh Services are never blocked');
  const blocked = res[TYPE.cluster].BlockedByRegistryOnly as Record<string, unknown>;
  assert.deepEqual([blocked.type, blocked.load_assignment], ['STATIC', undefined], 'no endpoints: refused calls count as upstream_cx_none_healthy');
});

test('TLS origination: the app speaks HTTP on 80, the sidecar TLS with SNI and the host name verified on 443', () => {
  const { res } = resources(false);
  const c = res[TYPE.cluster]['outbound|80||legacy.example.org'] as any;
  assert.equal(c.type, 'LOGICAL_DNS');
  assert.deepEqual(c.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address, { address: 'legacy.example.org', port_value: 443 });
  assert.equal(c.transport_socket.typed_config.sni, 'legacy.example.org');
  assert.deepEqual(c.transport_socket.typed_config.common_tls_context.validation_context.match_typed_subject_alt_names, [{ san_type: 'DNS', matcher: { exact: 'legacy.example.org' } }]);
});

test('allow-any: unknown destinations pass through, registered ones still get their clusters', () => {
  const { res } = resources(false);
  assert.equal((outbound(res, { ip: EXTERNAL_IP, port: 9999 }, { host: 'x', path: '/' }) as { cluster: string }).cluster, 'PassthroughCluster');
  const other = outbound(res, { ip: EXTERNAL_IP, port: 80 }, { host: 'other.example.org', path: '/' });
  assert.deepEqual(other.kind === 'route' && other.upstreams.map((u) => u.cluster), ['PassthroughCluster']);
  assert.equal(res[TYPE.cluster].BlockedByRegistryOnly, undefined);
});

test('every egress resource is valid Envoy config: no unknown field, validate rules hold, encodes', () => {
  for (const registryOnly of [true, false]) {
    const { res } = resources(registryOnly);
    for (const t of [TYPE.listener, TYPE.cluster] as const) {
      for (const [name, r] of Object.entries(res[t])) {
        assert.deepEqual(strictCheck(t.slice(t.lastIndexOf('/') + 1), r), [], name);
        assert.deepEqual(validateRules(t, r), [], `${name}: Envoy's validate rules`);
        assert.ok(encodeResource(t, r).value.length > 0, name);
      }
    }
  }
});
