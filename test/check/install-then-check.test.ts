import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runMeshInProcess } from '../support/cli.ts';
import { startApiServer, startKubelet } from '../support/kube.ts';

// The two commands a user runs back to back: after "mesh install" on a fresh cluster (the test API
// server, its kubelet stand-in making pods ready), "mesh check" must find nothing wrong.
test('mesh check --pre passes on a fresh cluster, and mesh check passes right after mesh install', async () => {
  const cluster = await startApiServer({
    seed: [
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'kube-dns', namespace: 'kube-system' }, spec: { selector: { 'k8s-app': 'kube-dns' }, ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] } },
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'coredns', namespace: 'kube-system' }, spec: { replicas: 1, selector: { matchLabels: { 'k8s-app': 'kube-dns' } }, template: { metadata: { labels: { 'k8s-app': 'kube-dns' } }, spec: { containers: [{ name: 'coredns', image: 'coredns' }] } } } },
    ],
  });
  const kubelet = startKubelet(cluster.server);
  try {
    const kc = ['--kubeconfig', cluster.kubeconfigPath];
    const pre = await runMeshInProcess(['check', '--pre', ...kc, '-o', 'json']);
    const preDoc = JSON.parse(pre.stdout);
    assert.deepEqual(preDoc.checks.filter((c: { status: string }) => c.status === 'fail').map((c: { id: string }) => c.id), [], pre.stdout);
    assert.equal(pre.code, 0, pre.stderr);
    const install = await runMeshInProcess(['install', ...kc, '--timeout', '60s', '-y']);
    assert.equal(install.code, 0, install.stderr);
    await kubelet.idle();
    // The per-check deadline is generous: this asserts what the checks find, not how fast (on a
    // busy machine webhook.endpoints has taken over 5 s and failed as "timed out").
    const r = await runMeshInProcess(['check', ...kc, '-o', 'json', '--timeout', '30s']);
    const doc = JSON.parse(r.stdout);
    const bad = doc.checks.filter((c: { status: string }) => c.status === 'fail' || c.status === 'warn');
    assert.deepEqual(bad, [], JSON.stringify(bad, null, 2));
    assert.equal(r.code, 0, r.stderr);
    const passed = doc.checks.filter((c: { status: string }) => c.status === 'pass').map((c: { id: string }) => c.id);
    for (const id of ['control-plane.pods-ready', 'control-plane.version', 'control-plane.crds-established', 'webhook.endpoints', 'webhook.ca-bundle', 'identity.root-ca', 'identity.trust-bundle', 'dns.cluster-dns', 'policy.analysis']) {
      assert.ok(passed.includes(id), `${id} should pass after install: ${JSON.stringify(doc.checks.find((c: { id: string }) => c.id === id))}`);
    }
  } finally {
    kubelet.stop();
    await cluster.stop();
  }
});
