import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatSpiffeId, parseSpiffeId, spiffeId, ttlMs } from '../../src/pki/index.ts';
import type { MeshError } from '../../src/errors.ts';

test('spiffeId builds spiffe://TD/ns/NS/sa/SA and parseSpiffeId inverts it', () => {
  const id = spiffeId('cluster.local', 'shop', 'web-frontend');
  assert.equal(id, 'spiffe://cluster.local/ns/shop/sa/web-frontend');
  assert.deepEqual(parseSpiffeId(id), { trustDomain: 'cluster.local', namespace: 'shop', serviceAccount: 'web-frontend' });
  assert.equal(spiffeId('example.org', 'a', 'sa.with.dots'), 'spiffe://example.org/ns/a/sa/sa.with.dots');
});

const bad: [string, RegExp][] = [
  ['spiffe://cluster.local/ns/shop', /is not a mesh SPIFFE ID/],
  ['spiffe://cluster.local/ns/shop/sa/web/extra', /is not a mesh SPIFFE ID/],
  ['https://cluster.local/ns/shop/sa/web', /is not a mesh SPIFFE ID/],
  ['spiffe://Cluster.Local/ns/shop/sa/web', /invalid trust domain "Cluster.Local"/],
  ['spiffe://cluster.local:8080/ns/shop/sa/web', /invalid trust domain/],
  ['spiffe://user@cluster.local/ns/shop/sa/web', /invalid trust domain/],
  ['spiffe://cluster.local/ns/Shop/sa/web', /invalid namespace name "Shop"/],
  ['spiffe://cluster.local/ns/shop/sa/web?x=1', /invalid ServiceAccount name/],
  ['spiffe://cluster.local/ns/shop/sa/..', /invalid ServiceAccount name/],
  ['spiffe://cluster.local/ns//sa/web', /is not a mesh SPIFFE ID/],
];
for (const [id, message] of bad) {
  test(`parseSpiffeId rejects ${id}`, () => {
    assert.throws(() => parseSpiffeId(id), (e: MeshError) => e.exitCode === 2 && message.test(e.message));
  });
}

test('ttlMs reads Go durations and milliseconds; rejects junk, zero and negatives', () => {
  assert.equal(ttlMs('24h'), 86_400_000);
  assert.equal(ttlMs('1h30m'), 5_400_000);
  assert.equal(ttlMs('1.5h'), 5_400_000);
  assert.equal(ttlMs('90s'), 90_000);
  assert.equal(ttlMs('250ms'), 250);
  assert.equal(ttlMs(1234), 1234);
  for (const junk of ['', '24', 'h', '1d', '24 h', '-1h', '0h', '1h-']) {
    assert.throws(() => ttlMs(junk, 'ca.workloadCertTTL'), (e: MeshError) => e.exitCode === 2 && /^ca\.workloadCertTTL (is empty|24: add a unit|".*" is (not a duration|negative)|must be longer than zero)/.test(e.message), junk);
  }
  assert.throws(() => ttlMs(0), /positive/);
  assert.throws(() => ttlMs(Number.NaN), /positive/);
});

test('property: parseSpiffeId(spiffeId(td, ns, sa)) returns td, ns, sa for any valid names, and the unchecked builder the model uses spells the same ID', async () => {
  const fc = (await import('fast-check')).default;
  const label = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/);
  const td = fc.stringMatching(/^[a-z0-9_-]{1,10}(\.[a-z0-9_-]{1,10}){0,2}$/);
  fc.assert(
    fc.property(td, label, label, (trustDomain, namespace, serviceAccount) => {
      assert.deepEqual(parseSpiffeId(spiffeId(trustDomain, namespace, serviceAccount)), { trustDomain, namespace, serviceAccount });
      assert.equal(formatSpiffeId(trustDomain, namespace, serviceAccount), spiffeId(trustDomain, namespace, serviceAccount));
    }),
    { numRuns: 300 },
  );
});
