// The route handlers' behaviour, written once and run against any Cluster: the in-memory one
// (test/route/run.test.ts) and the test Kubernetes API server (test/route/apiserver.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import type { Cluster, KubeObject } from '../../src/cluster/types.ts';
import { validateCanaryOptions, type RawCanaryFlags } from '../../src/route/options.ts';
import { runCanary, runFinish, runSet, runShow, runStatus } from '../../src/commands/route-run.ts';
import type { RouteDeps, RouteOutput } from '../../src/route/run.ts';
import { readRollout } from '../../src/route/rollout.ts';
import { splitWeights, ruleViews } from '../../src/route/httproute.ts';
import type { MeshError } from '../../src/errors.ts';
import { captureUi, fakeClock, scriptedMetrics, service } from './support.ts';

const HR = ['gateway.networking.k8s.io/v1', 'HTTPRoute'] as const;

/** A fresh cluster with the HTTPRoute kind served and Services web, web-v2, web-shadow in `shop`. */
export interface Env {
  cluster: Cluster;
  /** A cluster that does not serve HTTPRoute. */
  clusterWithoutCrd(): Promise<Cluster>;
  close(): Promise<void>;
}

/** Run the handler scenarios against clusters made by `makeEnv`. */
export function defineRouteScenarios(label: string, makeEnv: () => Promise<Env>): void {
  const ns = 'shop';
  const canary = async (env: Env, flags: RawCanaryFlags, deps: Partial<RouteDeps> = {}, output: RouteOutput = 'table') => {
    const cap = captureUi();
    const code = await runCanary({ ...validateCanaryOptions('web', flags), namespace: ns, output }, cap.ui, { cluster: env.cluster, clock: fakeClock(), ...deps });
    return { code, out: cap.out(), err: cap.err() };
  };
  const route = async (c: Cluster) => (await c.get(HR[0], HR[1], 'web', ns))!;
  const weights = (r: KubeObject) => ruleViews(r).map((v) => v.backends.map((b) => `${b.name}=${b.weight}`).join(','));
  const phase = (r: KubeObject) => readRollout(r.metadata.annotations?.['mesh.dev/rollout'])?.phase;
  const with_ = async (fn: (env: Env) => Promise<void>) => {
    const env = await makeEnv();
    try {
      await fn(env);
    } finally {
      await env.close();
    }
  };

  test(`${label}: canary creates the route, a second canary updates it in place`, () =>
    with_(async (env) => {
      const r1 = await canary(env, { canary: 'web-v2', weight: '10' });
      assert.equal(r1.code, 0);
      assert.match(r1.out, /httproute\/web created in shop: web 90%, web-v2 10%/);
      const created = await route(env.cluster);
      assert.deepEqual(weights(created), ['web=90,web-v2=10']);
      assert.equal(created.metadata.labels?.['app.kubernetes.io/managed-by'], 'mesh');
      assert.deepEqual((created.spec as { parentRefs: unknown[] }).parentRefs, [{ group: '', kind: 'Service', name: 'web' }]);
      assert.equal(phase(created), 'Paused');
      const r2 = await canary(env, { canary: 'web-v2', weight: '30', matchHeader: ['x-canary=true'] }, {}, 'json');
      assert.equal(r2.code, 0);
      const printed = JSON.parse(r2.out) as KubeObject;
      const updated = await route(env.cluster);
      assert.notEqual(updated.metadata.resourceVersion, created.metadata.resourceVersion);
      assert.equal(printed.metadata.resourceVersion, updated.metadata.resourceVersion, '-o json prints the written object');
      assert.deepEqual(weights(updated), ['web=0,web-v2=100', 'web=70,web-v2=30']);
    }));

  test(`${label}: set, promote and rollback change the weights`, () =>
    with_(async (env) => {
      await canary(env, { canary: 'web-v2', weight: '10', matchHeader: ['x-canary=true'] });
      const deps = { cluster: env.cluster, clock: fakeClock() };
      let cap = captureUi();
      assert.equal(await runSet({ namespace: ns, output: 'table', service: 'web', weights: [{ backend: 'web', weight: 40 }, { backend: 'web-v2', weight: 60 }], dryRun: false }, cap.ui, deps), 0);
      assert.match(cap.out(), /web 40%, web-v2 60%/);
      assert.deepEqual(weights(await route(env.cluster)), ['web=0,web-v2=100', 'web=40,web-v2=60']);
      cap = captureUi();
      assert.equal(await runFinish('promote', { namespace: ns, output: 'table', service: 'web', dryRun: false }, cap.ui, deps), 0);
      let r = await route(env.cluster);
      assert.deepEqual(weights(r), ['web=0,web-v2=100', 'web=0,web-v2=100']);
      assert.equal(phase(r), 'Promoted');
      cap = captureUi();
      assert.equal(await runFinish('rollback', { namespace: ns, output: 'table', service: 'web', dryRun: false }, cap.ui, deps), 0);
      r = await route(env.cluster);
      assert.deepEqual(weights(r), ['web=100,web-v2=0', 'web=100,web-v2=0'], 'rollback sends header-matched traffic back too');
      assert.equal(phase(r), 'RolledBack');
    }));

  test(`${label}: a concurrent edit between read and write is a conflict, never overwritten`, () =>
    with_(async (env) => {
      await canary(env, { canary: 'web-v2', weight: '10' });
      // Someone else edits the route after we read it and before we write.
      let raced = false;
      const racing: Cluster = Object.create(env.cluster) as Cluster;
      racing.replace = async (o: KubeObject) => {
        if (!raced) {
          raced = true;
          const theirs = await route(env.cluster);
          theirs.metadata.annotations = { ...theirs.metadata.annotations, owner: 'someone-else' };
          await env.cluster.replace(theirs);
        }
        return env.cluster.replace(o);
      };
      const cap = captureUi();
      await assert.rejects(
        runSet({ namespace: ns, output: 'table', service: 'web', weights: [{ backend: 'web-v2', weight: 100 }], dryRun: false }, cap.ui, { cluster: racing }),
        (e: MeshError) => {
          assert.equal(e.exitCode, 1);
          assert.match(e.message, /HTTPRoute shop\/web was changed by someone else.*nothing was written/);
          return true;
        },
      );
      const r = await route(env.cluster);
      assert.equal(r.metadata.annotations?.owner, 'someone-else', 'their edit survives');
      assert.deepEqual(weights(r), ['web=90,web-v2=10'], 'our weights were not written');
    }));

  test(`${label}: --dry-run prints the route and writes nothing`, () =>
    with_(async (env) => {
      const r = await canary(env, { canary: 'web-v2', weight: '10', dryRun: true, retries: '2', faultAbort: '503', faultAbortPercent: '5' });
      assert.equal(r.code, 0);
      const printed = parse(r.out) as KubeObject;
      assert.equal(printed.kind, 'HTTPRoute');
      assert.equal(printed.metadata.annotations?.['mesh.dev/fault'], '{"abort":{"httpStatus":503,"percent":5}}');
      assert.match(r.err, /dry run: HTTPRoute shop\/web not created/);
      assert.equal(await env.cluster.get(HR[0], HR[1], 'web', ns), undefined);
      await canary(env, { canary: 'web-v2', weight: '10' });
      const before = await route(env.cluster);
      const cap = captureUi();
      await runFinish('promote', { namespace: ns, output: 'table', service: 'web', dryRun: true }, cap.ui, { cluster: env.cluster });
      assert.deepEqual(weights(parse(cap.out()) as KubeObject), ['web=0,web-v2=100']);
      assert.equal((await route(env.cluster)).metadata.resourceVersion, before.metadata.resourceVersion);
    }));

  test(`${label}: a missing HTTPRoute CRD or Service is a clear error`, () =>
    with_(async (env) => {
      const bare = await env.clusterWithoutCrd();
      for (const run of [
        () => canary({ ...env, cluster: bare }, { canary: 'web-v2', weight: '10' }),
        () => runStatus({ namespace: ns, output: 'table', service: 'web', watch: false }, captureUi().ui, { cluster: bare }),
      ]) {
        await assert.rejects(run(), (e: MeshError) => {
          assert.equal(e.exitCode, 1);
          assert.match(e.message, /CRD httproutes\.gateway\.networking\.k8s\.io is missing/);
          assert.match(e.hint ?? '', /mesh install --gateway-api/);
          return true;
        });
      }
      await assert.rejects(canary(env, { canary: 'web-v9', weight: '10' }), /canary Service shop\/web-v9 does not exist/);
      await assert.rejects(runFinish('promote', { namespace: ns, output: 'table', service: 'web', dryRun: false }, captureUi().ui, { cluster: env.cluster }), /no HTTPRoute shop\/web/);
    }));

  test(`${label}: a progressive rollout with healthy metrics walks every step and promotes`, () =>
    with_(async (env) => {
      const metrics = scriptedMetrics(() => ({ rps: 20, successRate: 0.999, p99Ms: 120 }));
      const clock = fakeClock();
      const seen: number[] = [];
      clock.onSleep = async () => {
        seen.push(readRollout((await route(env.cluster)).metadata.annotations?.['mesh.dev/rollout'])!.canaryWeight);
      };
      const r = await canary(env, { canary: 'web-v2', steps: '5,25,50,100', interval: '1m', maxErrorRate: '1%', maxP99: '300ms' }, { metrics, clock });
      assert.equal(r.code, 0, r.err);
      assert.deepEqual(clock.sleeps, [60_000, 60_000, 60_000, 60_000], 'one interval per step, no real time');
      assert.deepEqual(seen, [5, 25, 50, 100]);
      assert.deepEqual(metrics.calls.map((c) => [c.ns, c.service, c.windowSec]), Array(4).fill([ns, 'web-v2', 60]));
      const final = await route(env.cluster);
      assert.equal(phase(final), 'Promoted');
      assert.deepEqual(weights(final), ['web=0,web-v2=100']);
      assert.match(r.err, /step 4\/4: 100% to web-v2: healthy/);
      assert.equal(r.out, 'httproute/web Promoted in shop: web 0%, web-v2 100%\n');
      assert.match(r.err, /promoted/);
    }));

  test(`${label}: a bad error rate at step 2 rolls back by itself and records why`, () =>
    with_(async (env) => {
      const metrics = scriptedMetrics((_svc, call) => (call >= 2 ? { rps: 20, successRate: 0.95, p99Ms: 100 } : { rps: 20, successRate: 1, p99Ms: 100 }));
      const r = await canary(env, { canary: 'web-v2', steps: '5,25,50,100', interval: '30s', maxErrorRate: '1%' }, { metrics });
      assert.equal(r.code, 1);
      const final = await route(env.cluster);
      assert.deepEqual(weights(final), ['web=100,web-v2=0']);
      const state = readRollout(final.metadata.annotations?.['mesh.dev/rollout'])!;
      assert.equal(state.phase, 'RolledBack');
      assert.equal(state.reading?.weight, 25);
      assert.match(state.message, /rolled back at step 2\/4 \(25%\): error rate 5% > 1%/);
      assert.match(r.err, /rolled back/);
      // status reports it, and --watch exits non-zero.
      const cap = captureUi();
      assert.equal(await runStatus({ namespace: ns, output: 'table', service: 'web', watch: true }, cap.ui, { cluster: env.cluster, clock: fakeClock() }), 1);
      assert.match(cap.out(), /RolledBack step 2\/4 +web 100%, web-v2 0%/);
    }));

  test(`${label}: Ctrl-C during a rollout leaves a consistent Paused state; the same command resumes`, () =>
    with_(async (env) => {
      const metrics = scriptedMetrics(() => ({ rps: 5, successRate: 1, p99Ms: 10 }));
      const ac = new AbortController();
      const clock = fakeClock();
      clock.onSleep = (n) => {
        if (n === 2) ac.abort(); // during step 2's interval
      };
      const flags = { canary: 'web-v2', steps: '10,50,100', interval: '1m', maxErrorRate: '1%' };
      const r = await canary(env, flags, { metrics, clock, signal: ac.signal });
      assert.equal(r.code, 1);
      assert.match(r.err, /route left at 50% to web-v2, 50% to web \(phase Paused\)/);
      let cur = await route(env.cluster);
      assert.deepEqual(weights(cur), ['web=50,web-v2=50']);
      assert.equal(phase(cur), 'Paused');
      const st = captureUi();
      await runStatus({ namespace: ns, output: 'json', service: 'web', watch: false }, st.ui, { cluster: env.cluster });
      assert.deepEqual(JSON.parse(st.out()).step, 2);
      const resumed = await canary(env, flags, { metrics, clock: fakeClock() });
      assert.equal(resumed.code, 0, resumed.err);
      assert.match(resumed.err, /resuming the rollout of web-v2 at step 2\/3 \(50%\)/);
      cur = await route(env.cluster);
      assert.equal(phase(cur), 'Promoted');
    }));

  test(`${label}: a lost API connection mid-rollout is reported with the state left behind`, () =>
    with_(async (env) => {
      const metrics = scriptedMetrics(() => ({ rps: 5, successRate: 1, p99Ms: 10 }));
      const flaky: Cluster = Object.create(env.cluster) as Cluster;
      let writes = 0;
      flaky.replace = async (o) => {
        if (++writes >= 2) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' });
        return env.cluster.replace(o);
      };
      await assert.rejects(
        canary(env, { canary: 'web-v2', steps: '10,50,100', interval: '1m', maxErrorRate: '1%' }, { metrics, cluster: flaky }).then(() => undefined),
        (e: MeshError) => e.exitCode === 3 && /cannot reach the Kubernetes API server/.test(e.message),
      );
      const cur = await route(env.cluster);
      assert.deepEqual(weights(cur), ['web=50,web-v2=50'], 'the last successful write stands');
      assert.equal(phase(cur), 'Progressing');
    }));

  test(`${label}: status --watch waits for the outcome: exit 0 on promotion`, () =>
    with_(async (env) => {
      const metrics = scriptedMetrics(() => ({ rps: 5, successRate: 1, p99Ms: 10 }));
      // Start a rollout and interrupt it at once so the route records Progressing with a step.
      await canary(env, { canary: 'web-v2', steps: '10,100', interval: '1m' }, { metrics, clock: fakeClock(), signal: AbortSignal.abort() });
      const cur = await route(env.cluster);
      const state = readRollout(cur.metadata.annotations?.['mesh.dev/rollout'])!;
      cur.metadata.annotations!['mesh.dev/rollout'] = JSON.stringify({ ...state, phase: 'Progressing', updatedAt: new Date(Date.parse('2026-01-01T00:00:00Z')).toISOString() });
      await env.cluster.replace(cur);
      const clock = fakeClock();
      clock.onSleep = async (n) => {
        if (n === 2) await runFinish('promote', { namespace: ns, output: 'table', service: 'web', dryRun: false }, captureUi().ui, { cluster: env.cluster });
      };
      const cap = captureUi();
      const code = await runStatus({ namespace: ns, output: 'table', service: 'web', watch: true, pollMs: 1000 }, cap.ui, { cluster: env.cluster, clock });
      assert.equal(code, 0, cap.out() + cap.err());
      assert.match(cap.out(), /^Progressing step 1\/2/m);
      assert.match(cap.out(), /^Promoted/m);
    }));

  test(`${label}: status --watch gives up after --watch-timeout on a rollout that never finishes`, () =>
    with_(async (env) => {
      await canary(env, { canary: 'web-v2', steps: '10,100', interval: '10m' }, { clock: fakeClock(), signal: AbortSignal.abort() });
      const cur = await route(env.cluster);
      const state = readRollout(cur.metadata.annotations?.['mesh.dev/rollout'])!;
      cur.metadata.annotations!['mesh.dev/rollout'] = JSON.stringify({ ...state, phase: 'Progressing' });
      await env.cluster.replace(cur);
      const cap = captureUi();
      const clock = fakeClock(Date.parse(state.updatedAt));
      assert.equal(await runStatus({ namespace: ns, output: 'json', service: 'web', watch: true, pollMs: 5000, watchTimeoutMs: 30_000 }, cap.ui, { cluster: env.cluster, clock }), 1);
      assert.equal(clock.sleeps.length, 6);
      assert.equal(cap.out().trim().split('\n').length, 1, 'an unchanged state prints once');
      assert.equal(JSON.parse(cap.out()).phase, 'Progressing');
      assert.match(cap.err(), /still Progressing after 30s; giving up/);
    }));

  test(`${label}: show prints weights and matches, with per-backend traffic only when metrics are reachable`, () =>
    with_(async (env) => {
      const made = await canary(env, { canary: 'web-v2', weight: '10', matchHeader: ['x-canary=true'], timeout: '2s', mirror: 'web-shadow' });
      assert.match(made.err, /note: requests are mirrored by Envoy sidecars; proxyless gRPC clients do not mirror/);
      let cap = captureUi();
      await runShow({ namespace: ns, output: 'table', service: 'web' }, cap.ui, { cluster: env.cluster });
      assert.match(cap.out(), /header x-canary=true\s+web:8080\s+0\s+-\s+-\s+-\s+2s/);
      assert.match(cap.out(), /path \/\*\s+web:8080\s+90\s+-\s+-\s+-\s+2s\s+web-shadow/);
      assert.match(cap.err(), /metrics unavailable: pass --prometheus-url/);
      cap = captureUi();
      const metrics = scriptedMetrics((svc) => (svc === 'web-v2' ? { rps: 1.5, successRate: 0.98, p99Ms: 42 } : { rps: 13.5, successRate: 1, p99Ms: 30 }));
      await runShow({ namespace: ns, output: 'json', service: 'web' }, cap.ui, { cluster: env.cluster, metrics });
      const report = JSON.parse(cap.out());
      assert.deepEqual(report.backends, [{ name: 'web', rps: 13.5, successRate: 1, p99Ms: 30 }, { name: 'web-v2', rps: 1.5, successRate: 0.98, p99Ms: 42 }]);
      assert.equal(report.metrics, 'scripted metrics, last 60s');
      assert.deepEqual(splitWeights(await route(env.cluster)).map((w) => w.percent), [90, 10]);
    }));

  test(`${label}: a hand-written route is not taken over by canary, but set can change its weights`, () =>
    with_(async (env) => {
      const hand: KubeObject = {
        apiVersion: HR[0], kind: HR[1], metadata: { name: 'web', namespace: ns },
        spec: { parentRefs: [{ kind: 'Service', name: 'web' }], rules: [{ backendRefs: [{ name: 'web', port: 8080, weight: 1 }] }] },
      };
      await env.cluster.create(hand);
      await assert.rejects(canary(env, { canary: 'web-v2', weight: '10' }), (e: MeshError) => e.exitCode === 1 && /was not created by "mesh route canary"/.test(e.message) && /mesh route set web/.test(e.hint ?? ''));
      await assert.rejects(runFinish('promote', { namespace: ns, output: 'table', service: 'web', dryRun: false }, captureUi().ui, { cluster: env.cluster }), /does not know its canary/);
      const cap = captureUi();
      assert.equal(await runSet({ namespace: ns, output: 'table', service: 'web', weights: [{ backend: 'web', weight: 80 }, { backend: 'web-v2', weight: 20 }], dryRun: false }, cap.ui, { cluster: env.cluster }), 0);
      assert.deepEqual(weights(await route(env.cluster)), ['web=80,web-v2=20']);
    }));

  test(`${label}: another route attached to the same Service is pointed out`, () =>
    with_(async (env) => {
      await env.cluster.create({
        apiVersion: HR[0], kind: HR[1], metadata: { name: 'web-extra', namespace: ns },
        spec: { parentRefs: [{ kind: 'Service', name: 'web' }], rules: [{ backendRefs: [{ name: 'web-shadow', port: 8080 }] }] },
      });
      const r = await canary(env, { canary: 'web-v2', weight: '10' });
      assert.equal(r.code, 0);
      assert.match(r.err, /warning: HTTPRoute shop\/web-extra also attaches to Service web; both routes apply/);
    }));

  test(`${label}: a promote from another terminal during a rollout stops the rollout without overwriting it`, () =>
    with_(async (env) => {
      const metrics = scriptedMetrics(() => ({ rps: 5, successRate: 1, p99Ms: 10 }));
      const clock = fakeClock();
      clock.onSleep = async (n) => {
        if (n === 1) await runFinish('promote', { namespace: ns, output: 'table', service: 'web', dryRun: false }, captureUi().ui, { cluster: env.cluster });
      };
      const cap = captureUi();
      await assert.rejects(
        runCanary({ ...validateCanaryOptions('web', { canary: 'web-v2', steps: '10,50,100', interval: '1m', maxErrorRate: '1%' }), namespace: ns, output: 'table' }, cap.ui, { cluster: env.cluster, clock, metrics }),
        (e: MeshError) => e.exitCode === 1 && /changed by someone else/.test(e.message),
      );
      assert.match(cap.err(), /rollout stopped without overwriting it; it now says: Promoted, web 0%, web-v2 100%/);
      assert.equal(phase(await route(env.cluster)), 'Promoted');
    }));

  test(`${label}: gates without a metrics source are refused before anything is written`, () =>
    with_(async (env) => {
      await assert.rejects(canary(env, { canary: 'web-v2', steps: '5,50', maxErrorRate: '1%' }), (e: MeshError) => e.exitCode === 2 && /metrics unavailable: pass --prometheus-url/.test(e.message));
      assert.equal(await env.cluster.get(HR[0], HR[1], 'web', ns), undefined);
    }));
}

/** The Services every scenario expects. */
export const SEED: KubeObject[] = [service('web'), service('web-v2'), service('web-shadow')];
