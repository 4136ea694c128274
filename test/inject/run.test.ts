import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { parse } from 'yaml';
import type { Cluster, KubeObject } from '../../src/cluster/types.ts';
import { fakeCluster } from '../support/fake-cluster.ts';
import { captureUi } from '../support/ui.ts';
import { runInject, type InjectRunOptions } from '../../src/commands/inject-run.ts';
import type { MeshError } from '../../src/errors.ts';

const deploy = 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: nginx}]\n';

/** A Cluster with one mesh-config ConfigMap (or none) and a server version, recording what was asked. */
function clusterWith(configMap: KubeObject | undefined, minor: string): Cluster & { asked: string[] } {
  const asked: string[] = [];
  return fakeCluster({
    asked,
    serverVersion: async () => ({ major: '1', minor, gitVersion: `v1.${minor}.0` }),
    list: async () => [],
    get: async (_apiVersion: string, kind: string, name: string, ns?: string) => {
      asked.push(`${kind} ${ns}/${name}`);
      return configMap;
    },
  });
}

async function run(o: Partial<InjectRunOptions>, cluster: Cluster): Promise<{ code: number; out: string; err: string }> {
  const stdin = new PassThrough();
  stdin.end(deploy);
  const { ui, out, err } = captureUi({ yes: true });
  const base: InjectRunOptions = { mode: 'inject', files: ['-'], recursive: false, valuesFiles: [], sets: [], fromCluster: true, output: 'yaml', report: 'text', inPlace: false };
  const code = await runInject({ ...base, ...o }, ui, { stdin, connect: async () => cluster });
  return { code, out: out(), err: err() };
}

test('--from-cluster: values come from the installed mesh-config, the Kubernetes version decides native sidecars', async () => {
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'mesh-config', namespace: 'mesh-system' }, data: { 'values.yaml': 'proxy:\n  image: installed/envoy:1\n  uid: 1500\n' } };
  const cluster = clusterWith(cm, '30+');
  const r = await run({ sets: ['proxy.uid=1600'] }, cluster);
  assert.equal(r.code, 0);
  assert.deepEqual(cluster.asked, ['ConfigMap mesh-system/mesh-config']);
  assert.match(r.err, /native sidecar: on \(auto, Kubernetes 1\.30 >= 1\.29\)/);
  const spec = parse(r.out).spec.template.spec;
  const proxy = spec.initContainers.find((c: any) => c.name === 'mesh-proxy');
  assert.equal(proxy.image, 'installed/envoy:1', 'the installed values apply');
  assert.equal(proxy.securityContext.runAsUser, 1600, '--set applies over them');
});

test('--from-cluster: an explicit --kube-version wins over the cluster', async () => {
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'mesh-config' }, data: { 'values.yaml': '{}' } };
  const r = await run({ kubeVersion: '1.28' }, clusterWith(cm, '31'));
  assert.match(r.err, /native sidecar: off \(auto, Kubernetes 1\.28 < 1\.29\)/);
});

test('--from-cluster with no mesh installed fails (exit 1) naming the namespace, and writes nothing', async () => {
  await assert.rejects(run({ sets: ['namespace=mesh'] }, clusterWith(undefined, '30')), (e: MeshError) => {
    assert.equal(e.exitCode, 1);
    assert.match(e.message, /the mesh is not installed in namespace "mesh"/);
    assert.match(e.hint ?? '', /mesh install/);
    return true;
  });
});

test('--values is read like install -f: a missing file or broken YAML is exit 2 naming the file (and line)', async () => {
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const d = mkdtempSync(join(tmpdir(), 'mesh-values-'));
  const broken = join(d, 'broken.yaml');
  writeFileSync(broken, 'proxy:\n  uid: [1,\n');
  const noCluster = clusterWith(undefined, '30');
  await assert.rejects(run({ fromCluster: false, valuesFiles: [join(d, 'missing.yaml')] }, noCluster), (e: MeshError) => e.exitCode === 2 && /^cannot read values file .*missing\.yaml: no such file$/.test(e.message));
  await assert.rejects(run({ fromCluster: false, valuesFiles: [broken] }, noCluster), (e: MeshError) => e.exitCode === 2 && e.message.startsWith(`${broken}:`) && /: not valid YAML/.test(e.message));
  await assert.rejects(run({ fromCluster: false, valuesFiles: ['-'] }, noCluster), (e: MeshError) => e.exitCode === 2 && /stdin \(-\) given more than once/.test(e.message));
});
