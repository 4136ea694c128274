import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runMesh, runMeshInProcess } from '../support/cli.ts';
import { startApiServer } from '../support/kube.ts';
import { VERSION } from '../../src/version.ts';

const controller = (ns: string, version: string, ready: number) => `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: mesh-controller
  namespace: ${ns}
  labels: {app.kubernetes.io/name: mesh-controller, app.kubernetes.io/version: "${version}"}
spec:
  replicas: ${ready}
  selector: {matchLabels: {app: mesh-controller}}
  template:
    metadata: {labels: {app: mesh-controller}}
    spec: {containers: [{name: c, image: mesh}]}
status: {replicas: ${ready}, readyReplicas: ${ready}}
`;
const pod = (name: string, version: string) => `
apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: shop, labels: {mesh.dev/proxy-version: "${version}"}}
spec: {containers: [{name: app, image: app}]}
`;

test('mesh version against a cluster: Kubernetes, control plane and proxies by version (table and json)', async () => {
  const api = await startApiServer();
  try {
    const ns = (n: string) => `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${n}}\n`;
    await api.server.seedYaml([ns('mesh-system'), ns('shop'), controller('mesh-system', VERSION, 2), pod('a', VERSION), pod('b', VERSION), pod('c', '0.0.9')].join('---\n'));
    // The server drops status on create (as the real one does); set it through the status subresource.
    await api.request('PATCH', '/apis/apps/v1/namespaces/mesh-system/deployments/mesh-controller/status', {
      body: JSON.stringify({ status: { replicas: 2, readyReplicas: 2 } }),
      headers: { 'Content-Type': 'application/merge-patch+json' },
    });
    const t = await runMeshInProcess(['version', '--kubeconfig', api.kubeconfigPath]);
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, new RegExp(`^Client version: ${VERSION.replace(/\./g, '\\.')}\\nKubernetes: +v1\\.\\d+\\.\\d+ \\(context \\w+\\)\\n`));
    assert.match(t.stdout, new RegExp(`Control plane: +${VERSION.replace(/\./g, '\\.')} \\(2 ready in mesh-system\\)`));
    assert.match(t.stdout, /Data plane: +0\.0\.9 \(1 proxy\)/);
    assert.match(t.stdout, new RegExp(`Data plane: +${VERSION.replace(/\./g, '\\.')} \\(2 proxies\\)`));
    const j = await runMeshInProcess(['version', '-o', 'json', '--kubeconfig', api.kubeconfigPath]);
    const doc = JSON.parse(j.stdout);
    assert.deepEqual(doc.controlPlane, [{ version: VERSION, replicas: 2, namespace: 'mesh-system' }]);
    assert.deepEqual(doc.dataPlane, [{ version: '0.0.9', proxies: 1 }, { version: VERSION, proxies: 2 }]);
    assert.equal(doc.note, undefined);
  } finally {
    await api.stop();
  }
});

test('mesh version against a cluster without the mesh says so', async () => {
  const api = await startApiServer();
  try {
    const r = await runMeshInProcess(['version', '--kubeconfig', api.kubeconfigPath]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Control plane: +not installed\nData plane: +no proxies\n$/);
  } finally {
    await api.stop();
  }
});

test('mesh version when listing pods is forbidden: exit 3 and the note names the refusal', async () => {
  const api = await startApiServer();
  try {
    // May read deployments but not pods: the data-plane part cannot be answered.
    const token = api.server.addUser('jane', [{ verbs: ['get', 'list'], apiGroups: ['apps'], resources: ['deployments'] }]);
    const r = await runMesh(['version', '--kubeconfig', api.kubeconfigFor(token)]);
    assert.equal(r.code, 3);
    assert.match(r.stdout, /^Client version: /);
    assert.match(r.stderr, /note: server versions unavailable: the Kubernetes API server refused the request: pods is forbidden/);
  } finally {
    await api.stop();
  }
});
