import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Cluster } from '../../src/cluster/types.ts';
import { connect } from '../../src/cluster/index.ts';
import { runInstall } from '../../src/install/install.ts';
import { runUpgrade } from '../../src/install/upgrade.ts';
import type { TestCluster } from '../support/kube.ts';
import { captureUi, installOpts, upgradeOpts } from './helpers.ts';
import { getJson, withCluster } from './kube-helpers.ts';

// `mesh install` / `mesh upgrade` killed at every write against the test API server, then re-run.
// The kill is deterministic: the command's Cluster dies at its (k+1)-th write: that write and every
// later call (reads too) never reach the server nor return, and no code of the command runs
// after it (no catch, no cleanup), as with SIGKILL; writes already sent complete. Runs are
// cumulative: run k starts from what run k-1 left and dies one write later, so every run is a
// re-run after an interruption; the first run that gets through its writes must converge.

const WRITES = new Set(['apply', 'create', 'replace', 'delete']);

/** `cluster`, dying at its (k+1)-th write; `died` resolves then. */
function dyingAt(cluster: Cluster, k: number): { cluster: Cluster; died: Promise<void> } {
  let writes = 0;
  let dead = false;
  let die!: () => void;
  const died = new Promise<void>((r) => (die = r));
  const never = new Promise<never>(() => undefined);
  const wrapped = new Proxy(cluster, {
    get(target, prop, receiver) {
      const v: unknown = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        if (dead) return never;
        if (WRITES.has(String(prop)) && writes++ === k) {
          dead = true;
          die();
          return never;
        }
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { cluster: wrapped, died };
}

type Run = (connect: () => Promise<Cluster>) => Promise<number>;

/** Run, dying at write k+1; undefined when it died, else its exit code (a MeshError's message fails the test). */
async function runDyingAt(c: TestCluster, run: Run, k: number): Promise<number | undefined> {
  const live = await connect({ kubeconfig: c.kubeconfigPath });
  const { cluster, died } = dyingAt(live, k);
  const sigint = process.listeners('SIGINT');
  const outcome = await Promise.race([died.then(() => 'died' as const), run(async () => cluster)]);
  // The dead run's Ctrl-C handler would outlive it, as no process does.
  for (const l of process.listeners('SIGINT')) if (!sigint.includes(l)) process.removeListener('SIGINT', l);
  return outcome === 'died' ? undefined : outcome;
}

/** Die at write 1, re-run and die at write 2, ... until a run finishes; returns the deaths and the finishing run's exit code. */
async function dieAtEachWrite(c: TestCluster, run: Run, afterEach?: () => Promise<void>): Promise<{ deaths: number; code: number }> {
  for (let k = 0; k < 100; k++) {
    const code = await runDyingAt(c, run, k);
    if (code !== undefined) return { deaths: k, code };
    await afterEach?.();
  }
  throw new Error('still writing after 100 interrupted runs');
}

const install: Run = (conn) => runInstall(installOpts({ skipChecks: true, wait: false }), captureUi().ui, { connect: conn });
const upgrade = (o: Parameters<typeof upgradeOpts>[0]): Run => (conn) => runUpgrade(upgradeOpts({ wait: false, ...o }), captureUi().ui, { connect: conn });
const rootCert = async (c: TestCluster): Promise<string | undefined> => (await getJson(c, '/api/v1/namespaces/mesh-system/secrets/mesh-root-ca'))?.data?.['tls.crt'];
const replicas = async (c: TestCluster): Promise<number> => (await getJson(c, '/apis/apps/v1/namespaces/mesh-system/deployments/mesh-controller')).spec.replicas;

/** Every object mesh manages, as "kind/namespace/name" with its resourceVersion-free content. */
async function meshObjects(c: TestCluster): Promise<string[]> {
  const paths = [
    '/api/v1/namespaces', '/api/v1/configmaps', '/api/v1/secrets', '/api/v1/serviceaccounts', '/api/v1/services',
    '/apis/apps/v1/deployments', '/apis/apps/v1/replicasets', '/apis/policy/v1/poddisruptionbudgets',
    '/apis/rbac.authorization.k8s.io/v1/clusterroles', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', '/apis/rbac.authorization.k8s.io/v1/roles', '/apis/rbac.authorization.k8s.io/v1/rolebindings',
    '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions',
  ];
  const out: string[] = [];
  for (const p of paths) {
    const r = await c.request('GET', `${p}?labelSelector=app.kubernetes.io/part-of%3Dmesh`);
    for (const o of (r.json as { items: { kind?: string; metadata: { namespace?: string; name: string } }[] }).items) out.push(`${p.split('/').at(-1)}/${o.metadata.namespace ?? ''}/${o.metadata.name}`);
  }
  return out.sort();
}

test('install killed at every write, re-run each time: converges to what one clean install makes, one root CA from its first write on', async () => {
  let reference: string[] = [];
  await withCluster(async (c) => {
    assert.equal(await install(async () => connect({ kubeconfig: c.kubeconfigPath })), 0);
    reference = await meshObjects(c);
  });
  await withCluster(async (c) => {
    let root: string | undefined;
    const { deaths, code } = await dieAtEachWrite(c, install, async () => {
      const now = await rootCert(c);
      if (root) assert.equal(now, root, 'a re-run replaced the root CA an earlier run had written');
      root ??= now;
    });
    assert.equal(code, 0);
    assert.ok(deaths >= 14, `died at ${deaths} writes: one per object at least`);
    assert.equal(await rootCert(c), root);
    const webhook = await getJson(c, '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/mesh-sidecar-injector');
    assert.equal(webhook.webhooks[0].clientConfig.caBundle, root, 'the webhook trusts the root that stayed');
    // Nothing lost, nothing duplicated: the same objects as a clean install (one ReplicaSet: no re-run changed the pod template).
    assert.deepEqual(await meshObjects(c), reference);
    const again = captureUi();
    assert.equal(await runInstall(installOpts({ skipChecks: true, wait: false }), again.ui, { connect: async () => connect({ kubeconfig: c.kubeconfigPath }) }), 0);
    assert.match(again.out(), /^nothing changed: all \d+ objects unchanged$/m);
    console.log(`install: killed at each of ${deaths} writes, then converged`);
  });
});

test('upgrade killed at every write converges; --rollback, killed at every write too, then returns the install\'s values', async () => {
  await withCluster(async (c) => {
    assert.equal(await install(async () => connect({ kubeconfig: c.kubeconfigPath })), 0);
    const installed = await meshObjects(c);
    assert.equal(await replicas(c), 1);

    const up = await dieAtEachWrite(c, upgrade({ sets: ['controller.replicas=2', 'controller.podDisruptionBudget=true'] }));
    assert.equal(up.code, 0);
    assert.ok(up.deaths >= 3, `upgrade died at ${up.deaths} writes`);
    assert.equal(await replicas(c), 2);
    assert.ok(await getJson(c, '/apis/policy/v1/namespaces/mesh-system/poddisruptionbudgets/mesh-controller'));
    const prev = await getJson(c, '/api/v1/namespaces/mesh-system/configmaps/mesh-config-previous');
    assert.doesNotMatch(prev.data['values.yaml'], /replicas: 2/, 'the rollback point is the install, not a half-done upgrade');

    const rb = await dieAtEachWrite(c, upgrade({ rollback: true }));
    assert.equal(rb.code, 0);
    assert.equal(await replicas(c), 1, 'the rollback rolled back, though interrupted at every write');
    assert.equal(await getJson(c, '/apis/policy/v1/namespaces/mesh-system/poddisruptionbudgets/mesh-controller'), undefined, 'the upgrade\'s PDB is pruned');
    const cfg = await getJson(c, '/api/v1/namespaces/mesh-system/configmaps/mesh-config');
    assert.doesNotMatch(cfg.data['values.yaml'], /replicas: 2|podDisruptionBudget: true/);
    const now = (await meshObjects(c)).filter((o) => !o.includes('mesh-config-previous') && !o.startsWith('replicasets/'));
    assert.deepEqual(now, installed.filter((o) => !o.startsWith('replicasets/')));
    console.log(`upgrade: killed at each of ${up.deaths} writes; rollback: killed at each of ${rb.deaths} writes`);
  });
});
