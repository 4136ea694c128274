import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runMesh } from '../support/cli.ts';
import { parseProxyTarget } from '../../src/status/proxy-config.ts';
import { parseResourceRef } from '../../src/cluster/resource-ref.ts';
import { parseResourceRef as statParser } from '../../src/status/workloads.ts';

test('proxy-config takes kubectl TYPE/NAME: deploy/, deployment/ and pod/ name the same proxy as a bare NAME (offline)', async () => {
  const bare = await runMesh(['proxy-config', 'cluster', 'frontend', '-f', 'examples/shop', '-o', 'json']);
  assert.equal(bare.code, 0, bare.stderr);
  for (const arg of ['deploy/frontend', 'deployment/frontend', 'Deployments/frontend']) {
    const r = await runMesh(['proxy-config', 'cluster', arg, '-f', 'examples/shop', '-o', 'json']);
    assert.equal(r.code, 0, `${arg}: ${r.stderr}`);
    assert.equal(r.stdout, bare.stdout, arg);
  }
  const sts = await runMesh(['proxy-config', 'cluster', 'sts/frontend', '-f', 'examples/shop']);
  assert.equal(sts.code, 2, 'sts/ names a StatefulSet: there is none called frontend');
  assert.match(sts.stderr, /no Pod or workload named frontend/);
});

test('proxy-config refuses a TYPE/NAME without a proxy of its own (svc/, ns/) and an unknown TYPE, exit 2', async () => {
  for (const [arg, re] of [['svc/frontend', /must name a pod, a workload or a Gateway/], ['ns/shop', /must name a pod, a workload or a Gateway/], ['cronjob/x', /is not KIND\[\/NAME\]/]] as const) {
    const r = await runMesh(['proxy-config', 'cluster', arg, '-f', 'examples/shop']);
    assert.equal(r.code, 2, arg);
    assert.match(r.stderr, re);
  }
  assert.deepEqual(parseProxyTarget('ds/agent.kube-system'), { pod: 'agent.kube-system', kind: 'ds' });
  assert.deepEqual(parseProxyTarget('web-1.shop'), { pod: 'web-1.shop' });
});

test('-f does not swallow the positional arguments after it: proxy-config -f DIR SECTION POD', async () => {
  const before = await runMesh(['proxy-config', '-f', 'examples/shop', 'cluster', 'deploy/frontend']);
  const after = await runMesh(['proxy-config', 'cluster', 'deploy/frontend', '-f', 'examples/shop']);
  assert.equal(before.code, 0, before.stderr);
  assert.equal(before.stdout, after.stdout);
});

test('one TYPE/NAME parser: stat, edges, proxy-config and route all read src/cluster/resource-ref.ts', () => {
  assert.equal(statParser, parseResourceRef);
  assert.deepEqual(parseResourceRef('deployment/web'), { kind: 'deploy', name: 'web' });
  assert.deepEqual(parseResourceRef('svc/web'), { kind: 'svc', name: 'web' });
});
