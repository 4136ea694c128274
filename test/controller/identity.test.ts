// WorkloadIdentities without gRPC: the per-stream state machine behind SDS, with a reviewer the test steers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkloadIdentities } from '../../src/controller/identity.ts';
import { CertificateAuthority, generateRoot, type TokenReviewResult } from '../../src/pki/index.ts';
import { TYPE } from '../../src/xds/protos.ts';
import { decodeResource } from '../../src/xds/encode.ts';
import type { StreamSecrets } from '../../src/xds/secrets.ts';

const node = { id: 'web-1.shop', kind: 'sidecar' as const, namespace: 'shop', pod: 'web-1' };
const OK: TokenReviewResult = { authenticated: true, username: 'system:serviceaccount:shop:web', audiences: ['mesh-ca'], extra: { 'authentication.kubernetes.io/pod-name': ['web-1'] } };

/** Resolves on the session's next change notification. */
function changes(): { onChange: () => void; next: () => Promise<void> } {
  let waiters: (() => void)[] = [];
  return {
    onChange: () => {
      const w = waiters;
      waiters = [];
      for (const f of w) f();
    },
    next: () => new Promise<void>((r) => waiters.push(r)),
  };
}

test('a TokenReview that cannot be made is retried on the next sweep; then the stream is authenticated and served', async () => {
  let answer: () => Promise<TokenReviewResult> = () => Promise.reject(new Error('connect ECONNREFUSED'));
  const ca = await CertificateAuthority.create(await generateRoot({ trustDomain: 'cluster.local' }), { trustDomain: 'cluster.local', reviewer: { tokenReview: () => answer() } });
  const ids = new WorkloadIdentities({ ca: () => ca, checkIntervalMs: 0 });
  const ch = changes();
  const refused = ch.next();
  const s: StreamSecrets = ids.open({ streamId: 1, node, token: 'secret-token-value', transport: 'tls', onChange: ch.onChange });
  s.want();
  await refused;
  assert.equal(s.identity().authenticated, false);
  assert.match(s.identity().reason ?? '', /failed-precondition: cannot review the token.*\(retrying\)/);
  assert.equal(s.current()?.resources.size, 0, 'no secrets meanwhile');

  answer = () => Promise.resolve(OK);
  const issued = ch.next();
  await ids.sweep(); // re-authenticates, then issues (the stream asked for secrets)
  await issued;
  const id = s.identity();
  assert.equal(id.authenticated, true);
  assert.equal(id.spiffeId, 'spiffe://cluster.local/ns/shop/sa/web');
  assert.equal(id.pod, 'web-1');
  assert.deepEqual([...s.current()!.resources.keys()], ['ROOTCA', 'default']);
  const def = decodeResource(TYPE.secret, s.current()!.resources.get('default')!.any.value) as any;
  assert.match(def.tls_certificate.private_key.inline_string, /BEGIN PRIVATE KEY/, 'the wire form carries the key');
  assert.equal((s.current()!.resources.get('default')!.msg as any).tls_certificate.private_key, '[redacted]', 'the dump form does not');
  assert.ok(!JSON.stringify(id).includes('secret-token-value'));

  s.close();
  assert.equal(s.current(), undefined, 'a closed stream forgets its secrets');
  assert.deepEqual(ids.identities(), []);
});

test('without a root CA, or with a token for another namespace, the stream is refused and says why', async () => {
  const none = new WorkloadIdentities({ ca: () => undefined, checkIntervalMs: 0 });
  const a = none.open({ streamId: 1, node, token: 't', transport: 'tls', onChange: () => undefined });
  assert.match(a.identity().reason ?? '', /no root CA/);
  assert.equal(a.current()?.resources.size, 0);

  const ca = await CertificateAuthority.create(await generateRoot({ trustDomain: 'cluster.local' }), { trustDomain: 'cluster.local', reviewer: { tokenReview: async () => ({ ...OK, username: 'system:serviceaccount:billing:api', extra: {} }) } });
  const ids = new WorkloadIdentities({ ca: () => ca, checkIntervalMs: 0 });
  const ch = changes();
  const done = ch.next();
  const b = ids.open({ streamId: 2, node, token: 't', transport: 'tls', onChange: ch.onChange });
  await done;
  assert.equal(b.identity().authenticated, false);
  assert.match(b.identity().reason ?? '', /claims namespace "shop" but its token is for namespace "billing"/);
});
