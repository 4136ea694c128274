// What the controller provisions for a Gateway of a mesh class, and the node contract end to end:
// the init container's arguments make `mesh proxy-init` write a bootstrap whose node the control
// plane reads as that Gateway's proxy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../src/cluster/types.ts';
import { gatewayObjects, gatewayParameters, GATEWAY_DEFAULTS } from '../../src/manifests/gateway.ts';
import { planProxyInit } from '../../src/manifests/proxy-init.ts';
import { resolveValues } from '../../src/manifests/values.ts';
import { buildModel } from '../../src/model/index.ts';
import { parseNode } from '../../src/xds/ads.ts';

const model = buildModel([
  { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: 'mesh' }, spec: { controllerName: 'mesh.dev/gateway-controller' } },
  {
    apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'edge', namespace: 'ingress' },
    spec: { gatewayClassName: 'mesh', infrastructure: { labels: { team: 'web' }, annotations: { 'example.com/lb': 'internal' } }, listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }, { name: 'https', port: 443, protocol: 'HTTPS', tls: { certificateRefs: [{ name: 'c' }] } }, { name: 'alt', port: 9443, protocol: 'HTTPS', tls: { certificateRefs: [{ name: 'c' }] } }] },
  },
] as KubeObject[]);
const values = resolveValues();
const [sa, deploy, svc] = gatewayObjects(model.gateways![0]!, { apiVersion: 'gateway.networking.k8s.io/v1', uid: 'uid-1' }, { replicas: 3, serviceType: 'NodePort' }, values, '1.2.3') as [KubeObject, KubeObject & { spec: any }, KubeObject & { spec: any }];

test('the ServiceAccount, Deployment and Service are owned by the Gateway, carry its infrastructure labels and are never pruned by mesh upgrade', () => {
  for (const o of [sa, deploy, svc]) {
    assert.equal(o.metadata.name, 'edge-mesh');
    assert.deepEqual(o.metadata.ownerReferences, [{ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', name: 'edge', uid: 'uid-1', controller: true }]);
    assert.equal(o.metadata.labels?.team, 'web');
    assert.equal(o.metadata.annotations?.['example.com/lb'], 'internal');
    assert.equal(o.metadata.labels?.['app.kubernetes.io/managed-by'], 'mesh-gateway-controller');
  }
  assert.equal(deploy.spec.replicas, 3);
  assert.equal(deploy.spec.template.spec.serviceAccountName, 'edge-mesh');
  assert.equal(svc.spec.type, 'NodePort');
  // Privileged ports are bound above 1024 by the non-root proxy; the Service maps them back.
  assert.deepEqual(svc.spec.ports.map((p: { port: number; targetPort: number }) => [p.port, p.targetPort]), [[80, 8080], [443, 8443], [9443, 9443]]);
  const init = deploy.spec.template.spec.initContainers[0];
  assert.equal(init.securityContext.runAsNonRoot, true);
  assert.deepEqual(init.securityContext.capabilities, { drop: ['ALL'] });
});

test("the init container's arguments give a bootstrap whose node is the Gateway's proxy (PROXY_KIND=gateway, NAMESPACE, GATEWAY_NAME, POD_NAME) and install no redirect", () => {
  const init = deploy.spec.template.spec.initContainers[0];
  const [, ...args] = init.args as string[];
  const flags: Record<string, string> = {};
  for (let i = 0; i < args.length; i += 2) flags[args[i]!.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())] = args[i + 1]!;
  const plan = planProxyInit(flags, { POD_NAME: 'edge-mesh-abc', POD_NAMESPACE: 'ingress', POD_IP: '10.0.0.9', SERVICE_ACCOUNT: 'edge-mesh' });
  assert.equal(plan.redirect, false);
  assert.equal(plan.v4, '');
  const node = (JSON.parse(plan.bootstrap!.json) as { node: { id: string; metadata: Record<string, string> } }).node;
  const fields = Object.fromEntries(Object.entries(node.metadata).map(([k, v]) => [k, { stringValue: v }]));
  assert.deepEqual(parseNode({ id: node.id, metadata: { fields } }), { id: 'edge-mesh-abc.ingress', kind: 'gateway', namespace: 'ingress', pod: 'edge-mesh-abc', gateway: 'edge' });
});

test('GatewayClass parameters: replicas and serviceType, anything else refused by key', () => {
  assert.deepEqual(gatewayParameters(undefined), GATEWAY_DEFAULTS);
  assert.deepEqual(gatewayParameters({ replicas: '2', serviceType: 'ClusterIP' }), { replicas: 2, serviceType: 'ClusterIP' });
  assert.deepEqual(gatewayParameters({ replicas: 'two' }), { problem: 'replicas "two" is not a number 0-100' });
  assert.deepEqual(gatewayParameters({ image: 'x' }), { problem: 'unknown key image (replicas, serviceType)' });
});
