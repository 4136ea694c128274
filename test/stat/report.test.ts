import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../src/cluster/types.ts';
import type { MeshError } from '../../src/errors.ts';
import type { PodRead } from '../../src/metrics/scrape.ts';
import { statReport, type Plan, type StatMethod } from '../../src/status/stat.ts';

// statReport is the pure end of `mesh stat`: readings in, rows and warnings out, no cluster.

const pod = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'shop', labels: { app: 'web' } } });
const method: StatMethod = { source: 'pod-proxy', intervalSeconds: 2, description: 'test' };
const plan = (pods: KubeObject[]): Plan => ({ namespace: 'shop', kind: 'Deployment', name: 'web', direction: 'inbound', pods, sources: pods, pick: () => { throw new Error('not reached: no pod has two readings'); } });

test('statReport: warnings for pods that could not be read, and for no proxies at all; exit 1 when none answered', () => {
  const a = pod('web-a');
  const b = pod('web-b');
  const failed = (...names: string[]): Map<string, PodRead> => new Map(names.map((n) => [`shop/${n}`, { error: `${n} refused` }]));
  const cases: { name: string; pods: KubeObject[]; before: Map<string, PodRead>; after: Map<string, PodRead>; opts?: { from?: { kind: 'deploy'; name: string } }; warnings?: RegExp[]; throws?: RegExp }[] = [
    { name: 'both unreadable (one at the first read, one at the second)', pods: [a, b], before: failed('web-a'), after: new Map([['shop/web-b', { error: 'no answer' }]]), throws: /none of the 2 meshed pods answered/ },
    { name: 'one of two failed, the other never read (also a failure)', pods: [a, b], before: failed('web-a'), after: new Map(), warnings: [/^1 of 2 meshed pods could not be read/, /^shop\/web-a: web-a refused$/] },
    { name: 'no proxies', pods: [], before: new Map(), after: new Map(), warnings: [/^no proxies found: no running meshed pods in namespace shop; inject workloads/] },
    { name: 'no proxies matching --from', pods: [], before: new Map(), after: new Map(), opts: { from: { kind: 'deploy', name: 'web' } }, warnings: [/^no running meshed pods match --from deploy\/web in namespace shop$/] },
  ];
  for (const c of cases) {
    const run = () => statReport({ source: 'pods', namespace: 'shop', ...c.opts }, [plan(c.pods)], { pods: c.pods, before: c.before, after: c.after, method });
    if (c.throws) {
      assert.throws(run, (e: MeshError) => e.exitCode === 1 && c.throws!.test(e.message), c.name);
      continue;
    }
    const r = run();
    assert.equal(r.method, method, c.name);
    assert.equal(r.warnings.length, c.warnings!.length, `${c.name}: ${JSON.stringify(r.warnings)}`);
    c.warnings!.forEach((re, i) => assert.match(r.warnings[i]!, re, c.name));
    assert.equal(r.rows[0]!.unreachablePods, c.pods.length, c.name);
    assert.equal(r.rows[0]!.successRate, null, `${c.name}: no window, no rate`);
  }
});
