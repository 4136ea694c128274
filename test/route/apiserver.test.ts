// The route scenarios against the test Kubernetes API server (real HTTPS, client-node, CRDs,
// resourceVersion conflicts), plus the built CLI end to end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { connectLive } from '../../src/cluster/live.ts';
import { startApiServer, type TestCluster } from '../support/kube.ts';
import { spawn } from 'node:child_process';
import { MESH_BIN, runMesh, runMeshInProcess } from '../support/cli.ts';
import { defineRouteScenarios, SEED } from './scenarios.ts';
import { captureUi, fakeClock, HTTPROUTE_CRD, scriptedMetrics } from './support.ts';
import { validateCanaryOptions } from '../../src/route/options.ts';
import { runCanary } from '../../src/commands/route-run.ts';
import { splitWeights } from '../../src/route/httproute.ts';
import type { MeshError } from '../../src/errors.ts';

const NAMESPACE = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } };

async function start(crd: boolean): Promise<TestCluster> {
  return startApiServer({ seed: [NAMESPACE, ...(crd ? [HTTPROUTE_CRD] : []), ...SEED] as Record<string, unknown>[] });
}

defineRouteScenarios('apiserver', async () => {
  const servers: TestCluster[] = [await start(true)];
  return {
    cluster: connectLive({ kubeconfig: servers[0]!.kubeconfigPath }),
    clusterWithoutCrd: async () => {
      const bare = await start(false);
      servers.push(bare);
      return connectLive({ kubeconfig: bare.kubeconfigPath });
    },
    close: async () => {
      await Promise.all(servers.map((s) => s.stop()));
    },
  };
});

// In-process (the CLI's main, no process start); the exit 1 and Ctrl-C cases below run bin/mesh.
test('the CLI: canary, show, set, promote, status and dry-run against the API server', async () => {
  const kube = await start(true);
  try {
    const mesh = (...args: string[]) => runMeshInProcess(['--kubeconfig', kube.kubeconfigPath, '-n', 'shop', ...args]);
    let r = await mesh('route', 'canary', 'web', '--canary', 'web-v2', '--weight', '10', '--dry-run');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(parse(r.stdout).kind, 'HTTPRoute');
    assert.equal((await kube.request('GET', '/apis/gateway.networking.k8s.io/v1/namespaces/shop/httproutes/web')).status, 404, 'dry run wrote nothing');
    r = await mesh('route', 'canary', 'web', '--canary', 'web-v2', '--weight', '10', '--match-header', 'x-canary=true', '--retries', '2', '--fault-abort', '503', '--fault-abort-percent', '5');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /httproute\/web created in shop: web 90%, web-v2 10%/);
    r = await mesh('route', 'show', 'web', '-o', 'json');
    assert.equal(r.code, 0, r.stderr);
    const shown = JSON.parse(r.stdout);
    assert.deepEqual(shown.rules.map((x: { match: string }) => x.match), ['header x-canary=true', 'path /*']);
    assert.deepEqual(shown.fault, { abort: { httpStatus: 503, percent: 5 } });
    assert.equal(shown.metrics, 'metrics unavailable: pass --prometheus-url');
    r = await mesh('route', 'set', 'web', 'web=50', 'web-v2=50');
    assert.equal(r.code, 0, r.stderr);
    r = await mesh('route', 'promote', 'web', '-o', 'yaml');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(parse(r.stdout).spec.rules[1].backendRefs.map((b: { weight: number }) => b.weight), [0, 100]);
    r = await mesh('route', 'status', 'web', '--watch');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Promoted/);
    r = await mesh('route', 'rollback', 'web');
    assert.equal(r.code, 0);
    r = await mesh('route', 'status', 'web', '--watch');
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^RolledBack/);
  } finally {
    await kube.stop();
  }
});

test('the built CLI names the missing HTTPRoute CRD and the fix (exit 1)', async () => {
  const kube = await start(false);
  try {
    const r = await runMesh(['--kubeconfig', kube.kubeconfigPath, '-n', 'shop', 'route', 'canary', 'web', '--canary', 'web-v2', '--weight', '10']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /error: the cluster does not serve HTTPRoute gateway\.networking\.k8s\.io\/v1: the CRD httproutes\.gateway\.networking\.k8s\.io is missing/);
    assert.match(r.stderr, /hint: run "mesh install --gateway-api"/);
  } finally {
    await kube.stop();
  }
});

test('a real lost API connection mid-rollout: exit 3, the route keeps the last written step', async () => {
  const kube = await start(true);
  try {
    const cluster = connectLive({ kubeconfig: kube.kubeconfigPath, timeoutMs: 3000 });
    const clock = fakeClock();
    clock.onSleep = async (n) => {
      if (n === 2) await kube.server.stop();
    };
    const cap = captureUi();
    await assert.rejects(
      runCanary({ ...validateCanaryOptions('web', { canary: 'web-v2', steps: '10,50,100', interval: '1m', maxErrorRate: '1%' }), namespace: 'shop', output: 'table' }, cap.ui, {
        cluster,
        clock,
        metrics: scriptedMetrics(() => ({ rps: 5, successRate: 1, p99Ms: 5 })),
      }),
      (e: MeshError) => e.exitCode === 3,
    );
    assert.match(cap.err(), /route left at 50% to web-v2 as last written \(phase Progressing recorded/);
    await (kube.server as any).listen();
    const r = await cluster.get('gateway.networking.k8s.io/v1', 'HTTPRoute', 'web', 'shop');
    assert.deepEqual(splitWeights(r!).map((w) => w.weight), [50, 50]);
  } finally {
    await kube.stop();
  }
});

test('the built CLI: Ctrl-C (SIGINT) during a rollout pauses it at the current step and says so', async () => {
  const kube = await start(true);
  try {
    const child = spawn(process.execPath, [MESH_BIN, '--kubeconfig', kube.kubeconfigPath, '-n', 'shop', 'route', 'canary', 'web', '--canary', 'web-v2', '--steps', '10,50,100', '--interval', '10m'], {
      env: { ...process.env, HOME: '/nonexistent-home', KUBECONFIG: '', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    const exited = new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? -1)));
    // Interrupt once the first step is written: the store says when (no polling, no deadline a
    // slow start could miss; 60 s only bounds a CLI that never writes).
    await kube.server.until(() => kube.server.store.get({ group: 'gateway.networking.k8s.io', resource: 'httproutes' }, 'shop', 'web') !== undefined, 60_000, 'the first step to be written');
    child.kill('SIGINT');
    assert.equal(await exited, 1, stderr);
    assert.match(stderr, /interrupted \(Ctrl-C\)/);
    assert.match(stderr, /route left at 10% to web-v2, 90% to web \(phase Paused\)/);
    assert.match(stdout, /httproute\/web Paused in shop: web 90%, web-v2 10%/);
    const route = (await kube.request('GET', '/apis/gateway.networking.k8s.io/v1/namespaces/shop/httproutes/web')).json;
    assert.equal(JSON.parse(route.metadata.annotations['mesh.dev/rollout']).phase, 'Paused');
  } finally {
    await kube.stop();
  }
});
