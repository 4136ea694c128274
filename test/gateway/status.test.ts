// Status as the Gateway API requires it, computed from the model and written by the leader:
// GatewayClass Accepted; Gateway addresses, Accepted/Programmed and per-listener attachedRoutes and
// conditions; each HTTPRoute's status.parents entry for its Gateway parents.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Cluster, KubeObject } from '../../src/cluster/types.ts';
import { GatewayStatusWriter, gatewayRouteStatus, gatewayStatus } from '../../src/controller/gateway-status.ts';
import { buildModel } from '../../src/model/index.ts';

const GW = 'gateway.networking.k8s.io/v1';
const T0 = '2026-01-01T00:00:00Z';
const objects: KubeObject[] = [
  { apiVersion: GW, kind: 'GatewayClass', metadata: { name: 'mesh', generation: 1 }, spec: { controllerName: 'mesh.dev/gateway-controller' } },
  { apiVersion: GW, kind: 'GatewayClass', metadata: { name: 'other' }, spec: { controllerName: 'example.io/gw' } },
  {
    apiVersion: GW, kind: 'Gateway', metadata: { name: 'edge', namespace: 'ingress', generation: 2 },
    spec: { gatewayClassName: 'mesh', listeners: [
      { name: 'http', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } },
      { name: 'https', port: 443, protocol: 'HTTPS', tls: { certificateRefs: [{ name: 'missing' }] } },
      { name: 'https-other-ns', port: 9443, protocol: 'HTTPS', hostname: 'a.example', tls: { certificateRefs: [{ name: 'cert', namespace: 'certs' }] } },
      { name: 'tcp', port: 9000, protocol: 'TCP' },
    ] },
  },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'edge-mesh', namespace: 'ingress' }, spec: { type: 'LoadBalancer', clusterIP: '10.96.9.9' }, status: { loadBalancer: { ingress: [{ ip: '203.0.113.7' }] } } },
  { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cert', namespace: 'certs' }, type: 'kubernetes.io/tls', data: { 'tls.crt': 'eA==', 'tls.key': 'eQ==' } },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { clusterIP: '10.96.0.9', ports: [{ name: 'http', port: 80 }] } },
  { apiVersion: GW, kind: 'HTTPRoute', metadata: { name: 'web', namespace: 'shop', generation: 4 }, spec: { parentRefs: [{ name: 'edge', namespace: 'ingress', sectionName: 'http' }, { name: 'edge', namespace: 'ingress', sectionName: 'nope' }], rules: [{ backendRefs: [{ name: 'web', port: 80 }, { name: 'gone', port: 80 }] }] } },
];
const model = buildModel(objects);

test('Gateway status: addresses from the provisioned Service, listener conditions with the spec reasons, attachedRoutes', () => {
  const s = gatewayStatus(objects[2]!, model.gateways![0]!, T0)!;
  assert.deepEqual(s.addresses, [{ type: 'IPAddress', value: '203.0.113.7' }]);
  const conds = (c: unknown) => (c as Record<string, unknown>[]).map((x) => `${String(x.type)}=${String(x.status)}/${String(x.reason)}`);
  assert.deepEqual(conds(s.conditions), ['Accepted=True/ListenersNotValid', 'Programmed=True/Programmed']);
  const listeners = s.listeners as { name: string; attachedRoutes: number; supportedKinds: unknown[]; conditions: unknown }[];
  assert.deepEqual(listeners.map((l) => [l.name, l.attachedRoutes, conds(l.conditions)]), [
    ['http', 1, ['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs', 'Conflicted=False/NoConflicts', 'Programmed=True/Programmed']],
    ['https', 0, ['Accepted=True/Accepted', 'ResolvedRefs=False/InvalidCertificateRef', 'Conflicted=False/NoConflicts', 'Programmed=False/Invalid']],
    ['https-other-ns', 0, ['Accepted=True/Accepted', 'ResolvedRefs=False/RefNotPermitted', 'Conflicted=False/NoConflicts', 'Programmed=False/Invalid']],
    ['tcp', 0, ['Accepted=False/UnsupportedProtocol', 'ResolvedRefs=True/ResolvedRefs', 'Conflicted=False/NoConflicts', 'Programmed=False/Invalid']],
  ]);
  assert.deepEqual(listeners[0]!.supportedKinds, [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }]);
  assert.equal(gatewayStatus({ ...objects[2]!, status: s }, model.gateways![0]!, '2027-01-01T00:00:00Z'), undefined, 'nothing new: nothing to write');
});

test('a ReferenceGrant from the Gateway lets a listener use a Secret of another namespace', () => {
  const grant: KubeObject = { apiVersion: 'gateway.networking.k8s.io/v1beta1', kind: 'ReferenceGrant', metadata: { name: 'g', namespace: 'certs' }, spec: { from: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'ingress' }], to: [{ group: '', kind: 'Secret' }] } };
  const l = buildModel([...objects, grant]).gateways![0]!.listeners.find((x) => x.name === 'https-other-ns')!;
  assert.deepEqual([l.programmed, l.certificates], [true, ['certs/cert']]);
});

test('HTTPRoute status: one entry per Gateway parentRef with the spec reasons; BackendNotFound names the backend', () => {
  const s = gatewayRouteStatus(objects[6]!, model.gatewayRouteConditions!, T0)!;
  const parents = s.parents as { parentRef: Record<string, unknown>; controllerName: string; conditions: Record<string, unknown>[] }[];
  assert.deepEqual(parents.map((p) => [p.parentRef.sectionName, p.controllerName, p.conditions.map((c) => `${String(c.type)}=${String(c.status)}/${String(c.reason)}`)]), [
    ['http', 'mesh.dev/gateway-controller', ['Accepted=True/Accepted', 'ResolvedRefs=False/BackendNotFound']],
    ['nope', 'mesh.dev/gateway-controller', ['Accepted=False/NoMatchingParent', 'ResolvedRefs=False/BackendNotFound']],
  ]);
  assert.match(String(parents[0]!.conditions[1]!.message), /Service shop\/gone does not exist/);
  assert.equal(parents[0]!.conditions[0]!.observedGeneration, 4);
});

test('the writer updates our GatewayClass, Gateway and route through the status subresource, and nothing of another class', async () => {
  const written: string[] = [];
  const cluster = { replaceStatus: async (o: KubeObject) => (written.push(`${o.kind} ${o.metadata.name}`), o) } as unknown as Cluster;
  await new GatewayStatusWriter(cluster, () => undefined, () => new Date(T0)).sync(() => ({ objects, model }));
  assert.deepEqual(written, ['GatewayClass mesh', 'Gateway edge', 'HTTPRoute web']);
});

test('listeners on 80 and 8080 cannot both be served (80 is bound at 8080 by the non-root proxy): PortUnavailable', () => {
  const m = buildModel([objects[0]!, { apiVersion: GW, kind: 'Gateway', metadata: { name: 'g', namespace: 'ingress' }, spec: { gatewayClassName: 'mesh', listeners: [{ name: 'a', port: 80, protocol: 'HTTP' }, { name: 'b', port: 8080, protocol: 'HTTP' }, { name: 'c', port: 9090, protocol: 'HTTP' }] } }]);
  assert.deepEqual(m.gateways![0]!.listeners.map((l) => [l.name, l.conditions[0]!.reason, l.programmed]), [['a', 'PortUnavailable', false], ['b', 'PortUnavailable', false], ['c', 'Accepted', true]]);
});
