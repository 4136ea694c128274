// Leader election on a coordination.k8s.io/v1 Lease in the test API server, driven round by round
// with a fake clock: one holder at a time, takeover after expiry, release on stop, a race that only
// one replica wins (resourceVersion precondition), stepping down when the API server is away.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { LeaderElector } from '../../src/controller/leader.ts';
import { connectLive } from '../../src/cluster/live.ts';
import type { Cluster } from '../../src/cluster/types.ts';
import { startApiServer, type TestCluster } from '../support/kube.ts';

let c: TestCluster;
let cluster: Cluster;
let now = Date.parse('2026-01-01T00:00:00Z');
const changes: string[] = [];

function elector(identity: string, name: string): LeaderElector {
  return new LeaderElector({ cluster, namespace: 'mesh-system', name, identity, leaseDurationMs: 15_000, clock: () => now, onChange: (l) => changes.push(`${identity}:${l}`) });
}

const holder = async (name: string) => ((await cluster.get('coordination.k8s.io/v1', 'Lease', name, 'mesh-system'))?.spec as { holderIdentity?: string; leaseTransitions?: number } | undefined);

before(async () => {
  c = await startApiServer({ seed: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'mesh-system' } }] });
  cluster = connectLive({ kubeconfig: c.kubeconfigPath });
});

after(async () => {
  await c?.stop();
});

test('one leader; the other takes over only after the lease expires; release on stop hands over at once', async () => {
  const a = elector('a', 'l1');
  const b = elector('b', 'l1');
  assert.equal(await a.tryOnce(), true);
  assert.equal(await b.tryOnce(), false);
  now += 10_000;
  assert.equal(await a.tryOnce(), true, 'renewed');
  now += 10_000;
  assert.equal(await b.tryOnce(), false, 'a renewed 10 s ago: not expired');
  now += 16_000;
  assert.equal(await b.tryOnce(), true, 'a stopped renewing: b takes over');
  assert.equal(await a.tryOnce(), false, 'a sees b holds it and steps down');
  const h = await holder('l1');
  assert.equal(h?.holderIdentity, 'b');
  assert.equal(h?.leaseTransitions, 1);
  await b.stop();
  assert.equal(b.isLeader, false);
  assert.equal((await holder('l1'))?.holderIdentity, undefined, 'released');
  assert.equal(await a.tryOnce(), true, 'a free lease is taken without waiting');
  assert.deepEqual(changes.filter((x) => x.startsWith('a') || x.startsWith('b')), ['a:true', 'b:true', 'a:false', 'b:false', 'a:true']);
});

test('two replicas racing for an expired lease: exactly one wins', async () => {
  const first = elector('x', 'l2');
  assert.equal(await first.tryOnce(), true);
  now += 60_000;
  const rivals = [elector('p', 'l2'), elector('q', 'l2'), elector('r', 'l2')];
  const won = await Promise.all(rivals.map((e) => e.tryOnce()));
  assert.equal(won.filter(Boolean).length, 1, JSON.stringify(won));
  const h = await holder('l2');
  assert.equal(h?.holderIdentity, ['p', 'q', 'r'][won.indexOf(true)]);
});

test('a leader that cannot reach the API server keeps leading for one lease duration, then steps down', async () => {
  const e = elector('solo', 'l3');
  assert.equal(await e.tryOnce(), true);
  const remove = c.server.addFault({ resource: 'leases', code: 503 });
  try {
    now += 5_000;
    assert.equal(await e.tryOnce(), true);
    now += 11_000;
    assert.equal(await e.tryOnce(), false);
  } finally {
    remove();
  }
  assert.equal(await e.tryOnce(), true, 'back: its own lease is renewed');
});
