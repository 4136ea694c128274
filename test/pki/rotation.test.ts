import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { CaSigner, certInfo, createCsr, generateRoot, issueServingCert, needsRotation, rotateAt, signCsr, spiffeId, TrustBundle } from '../../src/pki/index.ts';
import type { MeshError } from '../../src/errors.ts';
import { DAY, T0 } from './fixtures.ts';

const at = (days: number) => new Date(T0.getTime() + days * DAY);

test('TrustBundle holds an old and a new root side by side, in a stable order, and drops expired ones', async () => {
  const old = await generateRoot({ trustDomain: 'cluster.local', ttl: 10 * DAY, now: T0 });
  const next = await generateRoot({ trustDomain: 'cluster.local', ttl: 100 * DAY, now: at(5) });
  const a = TrustBundle.fromPem(old.certPem);
  assert.equal(a.add(next.certPem), true);
  assert.equal(a.add(next.certPem), false, 'adding twice is a no-op');
  assert.equal(a.size, 2);
  // Same roots in the other order: same bytes.
  const b = TrustBundle.fromPem(next.certPem + old.certPem);
  assert.equal(a.toPem(), b.toPem());
  assert.deepEqual(a.list().map((i) => i.notBefore), [T0.toISOString(), at(5).toISOString()]);
  assert.equal(TrustBundle.fromPem(a.toPem()).size, 2, 'round-trips through PEM');
  assert.ok(a.has(old.certPem));

  assert.deepEqual(a.removeExpired(at(9)), []);
  const gone = a.removeExpired(at(11));
  assert.deepEqual(gone.map((g) => g.fingerprint), [new X509Certificate(old.certPem).fingerprint256]);
  assert.equal(a.size, 1);
  assert.equal(a.has(old.certPem), false);
  assert.equal(a.remove(certInfo(next.certPem).fingerprint), true);
  assert.equal(a.size, 0);
  assert.equal(a.toPem(), '');
  assert.deepEqual(TrustBundle.fromPem('').list(), []);
  assert.doesNotMatch(JSON.stringify(a), /PRIVATE KEY/);
});

test('TrustBundle refuses a leaf as an anchor', async () => {
  const root = await generateRoot({ trustDomain: 'cluster.local', now: T0 });
  const leaf = await issueServingCert(await CaSigner.load(root.certPem, root.keyPem, { now: T0 }), { dnsNames: ['a.example'], now: T0 });
  assert.throws(() => new TrustBundle().add(leaf.certPem, 'leaf.pem'), (e: MeshError) => e.exitCode === 2 && /^leaf\.pem is not a CA certificate/.test(e.message));
});

test('needsRotation: after half the lifetime, or within the minimum margin, or once expired', async () => {
  const root = await generateRoot({ trustDomain: 'cluster.local', now: T0 });
  const ca = await CaSigner.load(root.certPem, root.keyPem, { now: T0 });
  const id = spiffeId('cluster.local', 'shop', 'web');
  const { csrPem } = await createCsr({ spiffeId: id });
  const issued = await signCsr(ca, csrPem, { spiffeId: id, ttl: '24h', now: at(1) });
  const pem = issued.certChainPem;
  // Lifetime runs from NotBefore (back-dated 5 minutes) to NotAfter.
  const half = new Date((new Date(issued.notBefore).getTime() + new Date(issued.notAfter).getTime()) / 2);
  assert.equal(rotateAt(pem).toISOString(), half.toISOString());
  assert.equal(needsRotation(pem, new Date(half.getTime() - 1000)), false);
  assert.equal(needsRotation(pem, half), true);
  assert.equal(needsRotation(pem, at(3)), true, 'expired');
  assert.equal(needsRotation(pem, at(1), 0.5), false);
  assert.equal(needsRotation(pem, new Date(at(1).getTime() + 2 * 3_600_000), 0.05), true, 'a custom fraction');
  // The margin wins when it comes first: 24h lifetime, 20h margin -> rotate at NotAfter - 20h.
  assert.equal(rotateAt(pem, 0.9, 20 * 3_600_000).toISOString(), new Date(new Date(issued.notAfter).getTime() - 20 * 3_600_000).toISOString());
  assert.throws(() => rotateAt(pem, 0), /fraction must be in/);
});

test('certInfo describes a leaf chain without key material, naming the source when it fails', async () => {
  const root = await generateRoot({ trustDomain: 'cluster.local', now: T0 });
  const ca = await CaSigner.load(root.certPem, root.keyPem, { now: T0 });
  const id = spiffeId('cluster.local', 'shop', 'web');
  const issued = await signCsr(ca, (await createCsr({ spiffeId: id })).csrPem, { spiffeId: id, now: T0 });
  const info = certInfo(issued.certChainPem);
  assert.deepEqual(Object.keys(info).sort(), ['dnsNames', 'fingerprint', 'isCA', 'issuer', 'notAfter', 'notBefore', 'serial', 'spiffeId', 'subject']);
  assert.equal(info.spiffeId, id);
  assert.equal(info.subject, 'O=mesh');
  assert.equal(info.issuer, 'O=mesh, CN=mesh root CA (cluster.local)');
  assert.equal(info.isCA, false);
  assert.equal(info.serial, issued.serial);
  assert.equal(info.notAfter, issued.notAfter);
  assert.match(info.fingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  assert.equal(certInfo(root.certPem).isCA, true);
  assert.throws(() => certInfo('nope', 'secret default'), /^MeshError: secret default is not a PEM-encoded certificate$/);
});
