import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ROOT_CA_SECRET } from '../../src/constants.ts';
import { runInstall } from '../../src/install/install.ts';
import { runUninstall } from '../../src/install/uninstall.ts';
import { PREVIOUS_CONFIG_NAME } from '../../src/install/state.ts';
import { runUpgrade } from '../../src/install/upgrade.ts';
import type { MeshError } from '../../src/errors.ts';
import { FakeCluster } from './fake-cluster.ts';
import { CA, captureUi, installOpts, upgradeOpts } from './helpers.ts';
import { loadTemplates } from '../../src/install/templates.ts';

/** A fake cluster that already holds a root CA, so these tests need no key generation. */
function clusterWithRoot(): FakeCluster {
  const c = new FakeCluster();
  c.seed({ apiVersion: 'v1', kind: 'Secret', metadata: { name: ROOT_CA_SECRET, namespace: 'mesh-system' }, type: 'kubernetes.io/tls', data: { 'tls.crt': Buffer.from(CA.certPem).toString('base64'), 'tls.key': Buffer.from(CA.keyPem).toString('base64') } }, 'mesh');
  return c;
}
const deps = (c: FakeCluster, version?: string) => ({ connect: async () => c, version });
const rejects = async (p: Promise<unknown>, code: number, message: RegExp) =>
  assert.rejects(p, (e: MeshError) => {
    assert.equal(e.exitCode, code, e.message);
    assert.match(e.message, message);
    return true;
  });

test('install applies in stage order with the webhook last; a second install changes nothing and says so', async () => {
  const c = clusterWithRoot();
  const first = captureUi();
  assert.equal(await runInstall(installOpts(), first.ui, deps(c)), 0);
  const kinds = c.log.map((l) => l.split(' ')[1]!.split('/')[1]);
  assert.equal(kinds[0], 'CustomResourceDefinition');
  assert.equal(kinds.at(-1), 'MutatingWebhookConfiguration');
  assert.ok(kinds.indexOf('Namespace') < kinds.indexOf('ClusterRole'));
  assert.ok(kinds.indexOf('ConfigMap') < kinds.indexOf('Deployment'));
  assert.match(first.out(), /created/);
  const before = c.log.length;
  const second = captureUi();
  assert.equal(await runInstall(installOpts(), second.ui, deps(c)), 0);
  assert.equal(c.log.length, before, 'nothing was written');
  assert.match(second.out(), /nothing changed: all \d+ objects unchanged/);
});

test('--dry-run prints the manifests and writes nothing', async () => {
  const c = clusterWithRoot();
  const { ui, out, err } = captureUi();
  assert.equal(await runInstall(installOpts({ dryRun: true }), ui, deps(c)), 0);
  assert.equal(c.log.length, 0);
  assert.match(out(), /kind: Deployment/);
  assert.match(out(), /tls.key: <redacted>/);
  assert.match(err(), /Deployment\/mesh-system\/mesh-controller would be created/);
});

test('pre-install checks: a forbidden verb exits 3 naming verb and resource; an old Kubernetes exits 1; nothing is applied', async () => {
  const c = clusterWithRoot();
  c.denied = (a) => a.resource === 'clusterroles' && a.verb === 'create';
  const denied = captureUi();
  await rejects(runInstall(installOpts(), denied.ui, deps(c)), 3, /^forbidden: not allowed to create clusterroles\.rbac\.authorization\.k8s\.io \(cluster-wide\)$/);
  assert.match(denied.err(), /^permissions\n-+\n/m, 'results are grouped as mesh check renders them');
  assert.match(denied.err(), /^✖ can create and update clusterroles\.rbac\.authorization\.k8s\.io: not allowed to create clusterroles/m);
  assert.match(denied.err(), /^ {4}hint: install needs cluster-admin/m);
  assert.equal(c.log.length, 0, 'nothing applied');
  const old = clusterWithRoot();
  old.version = { major: '1', minor: '24', gitVersion: 'v1.24.9' };
  const refused = captureUi();
  await rejects(runInstall(installOpts(), refused.ui, deps(old)), 1, /^pre-install check failed: Kubernetes version is supported \(1\.27 or newer\): the cluster runs v1\.24\.9$/);
  assert.match(refused.err(), /^✖ Kubernetes version is supported \(1\.27 or newer\): the cluster runs v1\.24\.9$/m);
  assert.equal(old.log.length, 0, 'nothing applied');
  assert.equal(await runInstall(installOpts({ skipChecks: true }), captureUi().ui, deps(old)), 0, '--skip-checks skips them');
});

test('pre-install checks: install refuses without cluster DNS (nothing applied), and --skip-checks goes on', async () => {
  const c = new FakeCluster({ dns: false });
  const { ui, out, err } = captureUi();
  await rejects(runInstall(installOpts(), ui, deps(c)), 1, /^pre-install check failed: cluster DNS \(kube-dns\/CoreDNS\) has ready endpoints: no kube-dns or coredns Service in kube-system$/);
  assert.match(err(), /^✖ cluster DNS \(kube-dns\/CoreDNS\) has ready endpoints: no kube-dns or coredns Service in kube-system$/m);
  assert.match(err(), /^ {4}hint: the mesh resolves services through cluster DNS; install CoreDNS$/m);
  assert.equal(out(), '', 'the results go to stderr');
  assert.equal(c.log.length, 0, 'nothing applied');
  assert.equal(c.objects.size, 0);
  const skipped = captureUi();
  assert.equal(await runInstall(installOpts({ skipChecks: true }), skipped.ui, deps(c)), 0);
  assert.doesNotMatch(skipped.err(), /cluster DNS/, 'no checks ran');
  assert.ok(await c.get('apps/v1', 'Deployment', 'mesh-controller', 'mesh-system'));
});

test('pre-install checks: warnings and checks that could not run are shown and do not stop install; --dry-run keeps stdout to YAML', async () => {
  const c = clusterWithRoot();
  // A namespace that would reject injected pods: a warning, as is the missing HTTPRoute CRD.
  c.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'legacy', labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } } }, 'kubectl');
  const list = c.list.bind(c);
  c.list = async (apiVersion, kind, o) => {
    if (kind === 'MutatingWebhookConfiguration') throw Object.assign(new Error('webhooks are forbidden'), { statusCode: 403 });
    if (kind === 'CustomResourceDefinition') return new Promise<never>(() => undefined);
    return list(apiVersion, kind, o);
  };
  const { ui, out, err } = captureUi();
  assert.equal(await runInstall(installOpts({ dryRun: true }), ui, { ...deps(c), checkTimeoutMs: 200 }), 0);
  assert.match(err(), /^‼ Pod Security admission allows the proxy init container's NET_ADMIN: 1 namespace\(s\) would reject injected pods/m);
  assert.match(err(), /^‼ the Gateway API CRDs are installed, release v1.1.0 or later: /m);
  assert.match(err(), /^○ no other mesh's injection webhook would also inject pods: not allowed: webhooks are forbidden$/m);
  assert.match(err(), /^○ mesh\.dev CRDs are absent or owned by a compatible version: could not run: timed out after 200ms/m);
  assert.match(err(), /^pre-install checks passed \(2 warnings, 2 could not run: they do not stop install\)$/m);
  assert.match(err(), /dry run: nothing was changed/);
  assert.match(out(), /^apiVersion: /, 'stdout holds only the manifests');
  assert.doesNotMatch(out(), /pre-install|‼|✔/);
});

test('a CRD that never becomes Established fails with exit 1 naming it', async () => {
  const c = clusterWithRoot();
  c.crdsEstablish = false;
  await rejects(runInstall(installOpts({ timeoutMs: 300 }), captureUi().ui, deps(c)), 1, /CustomResourceDefinition authorizationpolicies\.mesh\.dev did not become Established/);
});

test('a rollout that times out fails with exit 1 and the webhook is not applied', async () => {
  const c = clusterWithRoot();
  c.deploymentsReady = false;
  await rejects(runInstall(installOpts({ timeoutMs: 300 }), captureUi().ui, deps(c)), 1, /Deployment mesh-system\/mesh-controller did not roll out within 0s \(0\/1 ready\)/);
  assert.ok(!c.log.some((l) => l.includes('MutatingWebhookConfiguration')));
});

test('an object owned by another field manager: exit 1 naming object and manager; --force-conflicts takes over', async () => {
  const c = clusterWithRoot();
  c.seed({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'mesh-controller', namespace: 'mesh-system' } }, 'kubectl-edit');
  await rejects(runInstall(installOpts(), captureUi().ui, deps(c)), 1, /ServiceAccount\/mesh-controller has fields owned by another field manager \("kubectl-edit"\)/);
  assert.equal(await runInstall(installOpts({ forceConflicts: true }), captureUi().ui, deps(c)), 0);
});

test('an interrupted install says exactly what was applied and how to resume; re-running completes', async () => {
  const c = clusterWithRoot();
  c.beforeApply = (o) => {
    if (o.kind === 'Deployment') throw Object.assign(new Error('connection reset'), { code: 'ECONNRESET' });
  };
  await assert.rejects(runInstall(installOpts(), captureUi().ui, deps(c)), (e: MeshError) => {
    assert.equal(e.exitCode, 3);
    assert.match(e.message, /stopped after applying \d+ of \d+ objects: CustomResourceDefinition\/authorizationpolicies\.mesh\.dev \(created\)/);
    assert.match(e.message, /ConfigMap\/mesh-system\/mesh-config \(created\)/);
    assert.doesNotMatch(e.message, /Deployment\/mesh-system\/mesh-controller \(/);
    assert.match(e.hint ?? '', /re-run the same mesh install command/);
    return true;
  });
  c.beforeApply = undefined;
  const { ui, out } = captureUi();
  assert.equal(await runInstall(installOpts(), ui, deps(c)), 0);
  assert.match(out(), /Deployment\/mesh-system\/mesh-controller created/);
  assert.match(out(), /MutatingWebhookConfiguration\/mesh-sidecar-injector created/);
  assert.doesNotMatch(out(), /ConfigMap\/mesh-system\/mesh-config/, 'already applied objects are unchanged');
});

test('upgrade keeps installed values, applies new ones, prunes what is no longer rendered, and rollback returns', async () => {
  const c = clusterWithRoot();
  await runInstall(installOpts({ profile: 'ha', sets: ['controller.logLevel=debug'] }), captureUi().ui, deps(c));
  assert.ok(await c.get('policy/v1', 'PodDisruptionBudget', 'mesh-controller', 'mesh-system'));
  const up = captureUi();
  assert.equal(await runUpgrade(upgradeOpts({ sets: ['controller.podDisruptionBudget=false', 'controller.replicas=2'] }), up.ui, deps(c)), 0);
  assert.match(up.out(), /^- {2}replicas: 3$/m, 'the diff is shown');
  assert.match(up.out(), /PodDisruptionBudget\/mesh-system\/mesh-controller pruned/);
  assert.equal(await c.get('policy/v1', 'PodDisruptionBudget', 'mesh-controller', 'mesh-system'), undefined);
  const d = (await c.get('apps/v1', 'Deployment', 'mesh-controller', 'mesh-system'))!;
  assert.equal((d.spec as any).replicas, 2);
  assert.ok((d.spec as any).template.spec.containers[0].env.some((e: any) => e.name === 'MESH_LOG_LEVEL' && e.value === 'debug'), 'installed overrides are kept');
  assert.ok(await c.get('v1', 'ConfigMap', PREVIOUS_CONFIG_NAME, 'mesh-system'));

  assert.equal(await runUpgrade(upgradeOpts({ rollback: true }), captureUi().ui, deps(c)), 0);
  assert.equal(((await c.get('apps/v1', 'Deployment', 'mesh-controller', 'mesh-system'))!.spec as any).replicas, 3);
  assert.ok(await c.get('policy/v1', 'PodDisruptionBudget', 'mesh-controller', 'mesh-system'), 'the PDB is back');
});

test('upgrade refuses a downgrade without --force, and records the new version', async () => {
  const c = clusterWithRoot();
  await runInstall(installOpts(), captureUi().ui, deps(c, '0.3.0'));
  await rejects(runUpgrade(upgradeOpts(), captureUi().ui, deps(c, '0.2.0')), 1, /refusing to downgrade mesh from 0\.3\.0 to 0\.2\.0/);
  assert.equal(await runUpgrade(upgradeOpts({ force: true }), captureUi().ui, deps(c, '0.2.0')), 0);
  assert.equal(((await c.get('v1', 'ConfigMap', 'mesh-config', 'mesh-system'))!.data as any).version, '0.2.0');
  assert.equal(await runUpgrade(upgradeOpts(), captureUi().ui, deps(c, '0.4.0')), 0);
  const d = (await c.get('apps/v1', 'Deployment', 'mesh-controller', 'mesh-system'))!;
  assert.equal(d.metadata.labels?.['app.kubernetes.io/version'], '0.4.0');
  await rejects(runUpgrade(upgradeOpts({ rollback: true }), captureUi().ui, deps(c, '0.4.0')), 1, /previous install was mesh 0\.2\.0.*rendered by the 0\.2\.0 CLI/);
});

test('upgrade of a cluster without mesh says to install first', async () => {
  await rejects(runUpgrade(upgradeOpts(), captureUi().ui, deps(new FakeCluster())), 1, /mesh is not installed in namespace mesh-system/);
});

test('uninstall removes the webhook first and keeps CRDs; --purge removes them too', async () => {
  const c = clusterWithRoot();
  await runInstall(installOpts(), captureUi().ui, deps(c));
  c.log.length = 0;
  const u = captureUi();
  assert.equal(await runUninstall({ namespace: 'mesh-system', purge: false, dryRun: false, output: 'table' }, u.ui, deps(c)), 0);
  assert.match(c.log[0]!, /MutatingWebhookConfiguration/);
  assert.ok(await c.get('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'authorizationpolicies.mesh.dev'));
  assert.equal(await c.get('apps/v1', 'Deployment', 'mesh-controller', 'mesh-system'), undefined);
  assert.match(u.err(), /kept the mesh CRDs/);
  assert.equal(await runUninstall({ namespace: 'mesh-system', purge: true, dryRun: false, output: 'table' }, captureUi().ui, deps(c)), 0);
  assert.equal(await c.get('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'authorizationpolicies.mesh.dev'), undefined);
  assert.equal((await c.list('v1', 'ConfigMap', {})).length, 0);
});

test('on a TTY without --yes install asks, and a "no" changes nothing', async () => {
  const c = clusterWithRoot();
  let asked = '';
  const { ui } = captureUi({ interactive: true });
  await rejects(runInstall(installOpts({ skipChecks: true }), ui, { connect: async () => c, confirm: async (m) => ((asked = m), false) }), 1, /cancelled: nothing was changed/);
  assert.match(asked, /Install mesh .* into fake \(namespace mesh-system\)\?/);
  assert.equal(c.log.length, 0);
});

test('the root CA: generated when absent, never regenerated on re-install; a different --ca-cert is refused', async () => {
  const c = new FakeCluster();
  const first = captureUi();
  assert.equal(await runInstall(installOpts(), first.ui, deps(c)), 0);
  assert.match(first.err(), /generated a new root CA for trust domain cluster\.local/);
  const secret = (await c.get('v1', 'Secret', ROOT_CA_SECRET, 'mesh-system'))!;
  const webhook = (await c.get('admissionregistration.k8s.io/v1', 'MutatingWebhookConfiguration', 'mesh-sidecar-injector'))!;
  assert.equal((webhook.webhooks as any)[0].clientConfig.caBundle, (secret.data as any)['tls.crt'], 'caBundle is the root');
  const bundle = (await c.get('v1', 'ConfigMap', 'mesh-trust-bundle', 'mesh-system'))!;
  assert.equal((bundle.data as any)['ca.crt'], Buffer.from((secret.data as any)['tls.crt'], 'base64').toString());
  const second = captureUi();
  assert.equal(await runInstall(installOpts(), second.ui, deps(c)), 0);
  assert.doesNotMatch(second.err(), /generated/);
  assert.deepEqual((await c.get('v1', 'Secret', ROOT_CA_SECRET, 'mesh-system'))!.data, secret.data, 'same root');
  await rejects(runInstall(installOpts({ caCert: 'test/fixtures/ca/root.crt', caKey: 'test/fixtures/ca/root.key' }), captureUi().ui, deps(c)), 2, /already holds a different root CA than --ca-cert/);
});

test('a supplied --ca-cert/--ca-key becomes the root Secret', async () => {
  const c = new FakeCluster();
  assert.equal(await runInstall(installOpts({ caCert: 'test/fixtures/ca/root.crt', caKey: 'test/fixtures/ca/root.key' }), captureUi().ui, deps(c)), 0);
  const secret = (await c.get('v1', 'Secret', ROOT_CA_SECRET, 'mesh-system'))!;
  assert.equal(Buffer.from((secret.data as any)['tls.crt'], 'base64').toString(), CA.certPem);
});

test('upgrade --set can put a value back to its default; --reset-values drops installed overrides', async () => {
  const c = clusterWithRoot();
  await runInstall(installOpts({ sets: ['controller.replicas=4', 'controller.logLevel=debug'] }), captureUi().ui, deps(c));
  const dep = async () => (await c.get('apps/v1', 'Deployment', 'mesh-controller', 'mesh-system'))!.spec as any;
  assert.equal(await runUpgrade(upgradeOpts({ sets: ['controller.replicas=1'] }), captureUi().ui, deps(c)), 0);
  assert.equal((await dep()).replicas, 1);
  assert.ok((await dep()).template.spec.containers[0].env.some((e: any) => e.name === 'MESH_LOG_LEVEL' && e.value === 'debug'));
  assert.equal(await runUpgrade(upgradeOpts({ resetValues: true }), captureUi().ui, deps(c)), 0);
  assert.ok((await dep()).template.spec.containers[0].env.some((e: any) => e.name === 'MESH_LOG_LEVEL' && e.value === 'info'));
});

test('an abort (Ctrl-C) stops between stages and lists exactly what was applied', async () => {
  const { applyStaged, ApplyInterrupted } = await import('../../src/install/apply.ts');
  const { renderManifests } = await import('../../src/manifests/render.ts');
  const { resolveValues } = await import('../../src/manifests/values.ts');
  const c = new FakeCluster();
  const ac = new AbortController();
  c.beforeApply = (o) => {
    if (o.kind === 'Namespace') ac.abort();
  };
  const objects = renderManifests(resolveValues(), loadTemplates(), { ca: CA });
  await assert.rejects(applyStaged(c, objects, { wait: true, timeoutMs: 1000, signal: ac.signal }), (e: InstanceType<typeof ApplyInterrupted>) => {
    assert.ok(e instanceof ApplyInterrupted);
    assert.match(e.message, /interrupted \(Ctrl-C\)/);
    assert.deepEqual(e.applied.map((r) => r.kind), ['CustomResourceDefinition', 'CustomResourceDefinition', 'CustomResourceDefinition', 'CustomResourceDefinition', 'Namespace']);
    return true;
  });
  assert.equal(c.applies, 5, 'no stage after the abort started');
});

test('an interrupted upgrade lists what was applied, how to resume and how to roll back; the re-run keeps the rollback point', async () => {
  const c = clusterWithRoot();
  await runInstall(installOpts({ sets: ['controller.replicas=3'] }), captureUi().ui, deps(c));
  c.beforeApply = (o) => {
    if (o.kind === 'Deployment') throw Object.assign(new Error('connection reset'), { code: 'ECONNRESET' });
  };
  await assert.rejects(runUpgrade(upgradeOpts({ sets: ['controller.replicas=2'] }), captureUi().ui, deps(c)), (e: MeshError) => {
    assert.match(e.message, /stopped after applying \d+ of \d+ objects: .*ConfigMap\/mesh-system\/mesh-config \(configured\)/);
    assert.match(e.hint ?? '', /re-run "mesh upgrade" with the same flags to finish, or "mesh upgrade --rollback" to return to \d/);
    return true;
  });
  c.beforeApply = undefined;
  assert.equal(await runUpgrade(upgradeOpts({ sets: ['controller.replicas=2'] }), captureUi().ui, deps(c)), 0);
  const prev = (await c.get('v1', 'ConfigMap', PREVIOUS_CONFIG_NAME, 'mesh-system'))!;
  assert.match((prev.data as any)['values.yaml'], /replicas: 3/, 'the rollback point is still the state before the first attempt');
});

test('-o json prints a stable summary; uninstall --dry-run lists and deletes nothing; a "no" to uninstall keeps everything', async () => {
  const c = clusterWithRoot();
  const j = captureUi();
  assert.equal(await runInstall(installOpts({ output: 'json' }), j.ui, deps(c)), 0);
  const report = JSON.parse(j.out());
  assert.deepEqual(Object.keys(report), ['version', 'namespace', 'counts', 'objects']);
  assert.equal(report.counts.created, 17);
  assert.deepEqual(report.objects[0], { ref: 'CustomResourceDefinition/authorizationpolicies.mesh.dev', stage: 'crds', action: 'created' });
  c.log.length = 0;
  const dry = captureUi();
  assert.equal(await runUninstall({ namespace: 'mesh-system', purge: false, dryRun: true, output: 'table' }, dry.ui, deps(c)), 0);
  assert.match(dry.out(), /^MutatingWebhookConfiguration\/mesh-sidecar-injector would be deleted$/m);
  assert.doesNotMatch(dry.out(), /CustomResourceDefinition/);
  assert.equal(c.log.length, 0);
  const { ui } = captureUi({ interactive: true });
  await rejects(runUninstall({ namespace: 'mesh-system', purge: true, dryRun: false, output: 'table' }, ui, { connect: async () => c, confirm: async () => false }), 1, /cancelled/);
  assert.equal(c.log.length, 0);
});

test('install will not silently downgrade a newer installed mesh', async () => {
  const c = clusterWithRoot();
  await runInstall(installOpts(), captureUi().ui, deps(c, '0.3.0'));
  c.log.length = 0;
  // The pre-install check sees the newer CRDs first; with --skip-checks install's own guard still refuses.
  await rejects(runInstall(installOpts(), captureUi().ui, deps(c, '0.2.0')), 1, /^pre-install check failed: mesh\.dev CRDs are absent or owned by a compatible version: 4 CRD\(s\) belong to an incompatible version/);
  await rejects(runInstall(installOpts({ skipChecks: true }), captureUi().ui, deps(c, '0.2.0')), 1, /mesh 0\.3\.0 is installed, newer than this CLI \(0\.2\.0\)/);
  assert.equal(c.log.length, 0);
});
