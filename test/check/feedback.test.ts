import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from '../../src/cluster/index.ts';
import type { Cluster } from '../../src/cluster/types.ts';
import { runCheck } from '../../src/commands/check-run.ts';
import { validateCheckOptions } from '../../src/checks/options.ts';
import { clipText } from '../../src/util/text.ts';
import { startApiServer } from '../support/kube.ts';
import { captureUi } from '../support/ui.ts';
import { check, healthy, useRoots } from './live-support.ts';

useRoots();

/**
 * A live `mesh check -o table` whose EndpointSlice reads (the webhook endpoints check) wait until
 * released, so a test can look at what was printed while that check is still running.
 */
async function heldRun(interactive: boolean) {
  const cluster = await startApiServer({ seed: healthy() });
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const cap = captureUi({ interactive });
  const wrap = (c: Cluster): Cluster =>
    Object.assign(Object.create(Object.getPrototypeOf(c) as object) as Cluster, c, {
      list: async (apiVersion: string, kind: string, o?: Parameters<Cluster['list']>[2]) => {
        if (kind === 'EndpointSlice') await held;
        return c.list(apiVersion, kind, o);
      },
    });
  const done = runCheck(validateCheckOptions({ output: 'table', timeout: '30s' }), cap.ui, {
    connect: async () => wrap(await connect({ kubeconfig: cluster.kubeconfigPath, timeoutMs: 5000 })),
    live: { dnsPodTimeoutMs: 0, pollMs: 50 },
  }).finally(() => cluster.stop());
  return { ...cap, release, done };
}

test('mesh check prints each check as it completes, also when output is not a terminal (not all at the end)', async () => {
  const run = await heldRun(false);
  // The kubernetes-api and control-plane checks are printed while the webhook check still waits.
  await run.waitFor(/^kubernetes-api\n-+\n✔ can reach the Kubernetes API server/m, 'out');
  await run.waitFor(/^control-plane\n-+\n/m, 'out');
  assert.doesNotMatch(run.out(), /Status check results/, 'the run is not over yet');
  assert.doesNotMatch(run.out(), /webhook endpoints|injection webhook's Service/);
  run.release();
  await run.done;
  assert.match(run.out(), /injection webhook's Service has ready endpoints/);
  assert.match(run.out(), /\nStatus check results are /);
});

test('on a terminal the spinner names a check that is still running', async () => {
  const run = await heldRun(true);
  await run.waitFor(/running checks \(\d+\/\d+\): the injection webhook's Service has ready endpoints/, 'err');
  run.release();
  await run.done;
});

test('API server unreachable: check stops after the kubernetes-api category with one error and a hint that fits (no RBAC)', async () => {
  const { report, code, stderr } = await check({ setup: async (c) => c.server.stop() });
  assert.equal(code, 3);
  assert.deepEqual([...new Set(report.checks.map((c) => c.category))], ['kubernetes-api'], 'nothing after kubernetes-api ran');
  assert.match(report.error!.message, /cannot reach the Kubernetes API server.*\(the other \d+ checks were not run\)/);
  assert.equal(stderr.match(/^error: /gm)?.length, 1, stderr);
  assert.ok((stderr.match(/ECONNREFUSED/g) ?? []).length <= 1, stderr);
  assert.match(stderr, /hint: check --context and --kubeconfig/);
  assert.doesNotMatch(stderr + JSON.stringify(report), /RBAC|permission/);
});

test('the DNS check creates no pod unless asked with --dns-probe: mesh check stays read-only by default', async () => {
  const { report, cluster } = await check({ flags: { dnsProbe: false } });
  const dns = report.checks.find((c) => c.id === 'dns.service-resolution')!;
  assert.equal(dns.status, 'skip');
  assert.match(dns.hint ?? '', /--dns-probe/);
  const writes = cluster.server.requests.filter((r) => r.method !== 'GET');
  // SelfSubjectAccessReviews are POSTs that change nothing, and so is webhook.dry-run's pod apply
  // with dryRun=All (the API server admits it through the webhook and stores nothing); every other write would.
  assert.deepEqual(writes.filter((r) => !r.path.includes('selfsubjectaccessreviews') && !/(^|&)dryRun=All(&|$)/.test(r.query ?? '')).map((r) => `${r.method} ${r.path}`), []);
  assert.ok(writes.some((r) => /dryRun=All/.test(r.query ?? '')), 'the webhook was tried with a dry run');
});

test('messages quoted from elsewhere are shortened at a word boundary, never mid-token', () => {
  assert.equal(clipText('short', 10), 'short');
  assert.equal(clipText('upstream connect error or disconnect/reset before headers', 30), 'upstream connect error or …');
  assert.ok(!clipText('a'.repeat(300), 200).includes('a'.repeat(201)));
});
