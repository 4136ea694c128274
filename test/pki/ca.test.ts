import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import * as tls from 'node:tls';
import { inspect } from 'node:util';
import { TOKEN_AUDIENCE } from '../../src/constants.ts';
import { CertificateAuthority, createCsr, generateRoot, IssuanceError, spiffeId, type TokenReviewer } from '../../src/pki/index.ts';
import type { MeshError } from '../../src/errors.ts';
import { DAY, T0 } from './fixtures.ts';

/** Tokens are "token:NS:SA" for our audience; "other-aud:NS:SA" for someone else's. */
const reviewer: TokenReviewer = {
  async tokenReview(token, audiences) {
    const [kind, ns, sa] = token.split(':');
    if (kind === 'token') return { authenticated: true, username: `system:serviceaccount:${ns}:${sa}`, audiences };
    if (kind === 'other-aud') return { authenticated: true, username: `system:serviceaccount:${ns}:${sa}`, audiences: ['someone-else'] };
    return { authenticated: false, error: 'invalid bearer token' };
  },
};

async function makeCa(opts: { now?: Date; ttl?: number | string; trustDomain?: string } = {}) {
  let now = opts.now ?? T0;
  const root = await generateRoot({ trustDomain: 'cluster.local', ttl: opts.ttl ?? 365 * DAY, now });
  const ca = await CertificateAuthority.create(root, { trustDomain: opts.trustDomain ?? 'cluster.local', reviewer, clock: () => now });
  return { root, ca, setNow: (d: Date) => (now = d) };
}

test('issue: authenticates, derives the identity from the token, signs for 24h with the trust bundle', async () => {
  const { root, ca } = await makeCa();
  const id = spiffeId('cluster.local', 'shop', 'web');
  const { csrPem } = await createCsr({ spiffeId: id });
  const r = await ca.issue({ token: 'token:shop:web', csrPem });
  assert.equal(r.spiffeId, id);
  assert.equal(r.namespace, 'shop');
  assert.equal(r.serviceAccount, 'web');
  assert.equal(new Date(r.notAfter).getTime() - T0.getTime(), DAY);
  assert.equal(r.trustBundlePem, new X509Certificate(root.certPem).toString());
  assert.equal(ca.audience, TOKEN_AUDIENCE);
});

test('issue: a CSR for another identity than the token is refused; so are bad tokens', async () => {
  const { ca } = await makeCa();
  const { csrPem } = await createCsr({ spiffeId: spiffeId('cluster.local', 'kube-system', 'admin') });
  await assert.rejects(ca.issue({ token: 'token:shop:web', csrPem }), (e: IssuanceError) => e.reason === 'permission-denied' && /authenticated as spiffe:\/\/cluster\.local\/ns\/shop\/sa\/web$/.test(e.message));
  const own = await createCsr({ spiffeId: spiffeId('cluster.local', 'shop', 'web') });
  await assert.rejects(ca.issue({ token: 'garbage', csrPem: own.csrPem }), (e: IssuanceError) => e.reason === 'unauthenticated');
  await assert.rejects(ca.issue({ token: 'other-aud:shop:web', csrPem: own.csrPem }), (e: IssuanceError) => e.reason === 'unauthenticated' && /not for audience "mesh-ca"/.test(e.message));
});

test('the CA, its results and its errors never show a private key', async () => {
  const { root, ca } = await makeCa();
  const id = spiffeId('cluster.local', 'shop', 'web');
  const { csrPem } = await createCsr({ spiffeId: id });
  const r = await ca.issue({ token: 'token:shop:web', csrPem });
  const serving = await ca.issueServingCert({ dnsNames: ['mesh-controller.mesh-system.svc'] });
  let err: unknown;
  try {
    await ca.rotateRoot({ certPem: root.certPem, keyPem: (await generateRoot({ trustDomain: 'cluster.local', now: T0 })).keyPem });
  } catch (e) {
    err = e;
  }
  assert.ok(err, 'a mismatched key is refused');
  for (const v of [ca, r, serving, err, root]) {
    const text = JSON.stringify(v) + inspect(v, { depth: 20 }) + inspect(v, { showHidden: true, depth: 20 }) + String(v);
    assert.doesNotMatch(text, /PRIVATE KEY/);
  }
  assert.match(inspect(ca), /^CertificateAuthority \{ trustDomain: "cluster\.local"/);
  assert.deepEqual(Object.keys(JSON.parse(JSON.stringify(ca))).sort(), ['audience', 'root', 'trustAnchors', 'trustDomain']);
});

test('create refuses a root for another trust domain, and an expired root', async () => {
  const root = await generateRoot({ trustDomain: 'other.example', now: T0 });
  await assert.rejects(CertificateAuthority.create(root, { trustDomain: 'cluster.local', reviewer, clock: () => T0 }), (e: MeshError) => e.exitCode === 2 && /the root CA is for trust domain "other\.example", but the mesh uses "cluster\.local"/.test(e.message));
  const old = await generateRoot({ trustDomain: 'cluster.local', ttl: DAY, now: T0 });
  await assert.rejects(CertificateAuthority.create(old, { trustDomain: 'cluster.local', reviewer, clock: () => new Date(T0.getTime() + 2 * DAY) }), /root CA certificate expired on/);
});

test('root rotation: the new root signs, both roots are trusted until the old one expires, then it is pruned', async () => {
  const { root, ca, setNow } = await makeCa({ ttl: 30 * DAY });
  const id = spiffeId('cluster.local', 'shop', 'web');
  const { csrPem } = await createCsr({ spiffeId: id });
  const before = await ca.issue({ token: 'token:shop:web', csrPem });

  setNow(new Date(T0.getTime() + 10 * DAY));
  const next = await generateRoot({ trustDomain: 'cluster.local', ttl: 365 * DAY, now: new Date(T0.getTime() + 10 * DAY) });
  const info = await ca.rotateRoot(next);
  assert.equal(info.fingerprint, new X509Certificate(next.certPem).fingerprint256);
  const after = await ca.issue({ token: 'token:shop:web', csrPem });
  assert.equal(ca.trustAnchors().length, 2);
  // Old leaf verifies with the old root, new leaf with the new one; the bundle has both.
  const leaf = (pem: string) => new X509Certificate(pem.slice(0, pem.indexOf('-----END CERTIFICATE-----') + 25));
  assert.ok(leaf(before.certChainPem).verify(new X509Certificate(root.certPem).publicKey));
  assert.ok(leaf(after.certChainPem).verify(new X509Certificate(next.certPem).publicKey));
  assert.equal(after.trustBundlePem.match(/BEGIN CERTIFICATE/g)?.length, 2);
  assert.throws(() => ca.removeRoot(info.fingerprint), /cannot remove the root the CA is signing with/);

  setNow(new Date(T0.getTime() + 31 * DAY));
  assert.deepEqual(ca.pruneExpiredRoots().map((i) => i.fingerprint), [new X509Certificate(root.certPem).fingerprint256]);
  assert.deepEqual(ca.trustAnchors().map((i) => i.fingerprint), [info.fingerprint]);
});

/** Open a TLS server with `server`'s identity, connect with `client`'s, and report both sides. */
async function handshake(server: { cert: string; key: string; ca: string }, client: { cert: string; key: string; ca: string }, serverRejects = true) {
  const srv = tls.createServer({ ...server, requestCert: true, rejectUnauthorized: serverRejects, minVersion: 'TLSv1.3' });
  const serverSaw = new Promise<string>((resolve, reject) => {
    srv.on('secureConnection', (s) => {
      resolve(s.authorized ? (s.getPeerCertificate().subjectaltname ?? '') : `unauthorized: ${s.authorizationError}`);
      s.end('hello');
    });
    srv.on('tlsClientError', reject);
  });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address() as AddressInfo;
  const sock = tls.connect({
    host: '127.0.0.1',
    port,
    ...client,
    // SPIFFE peers are checked by URI SAN, not host name.
    checkServerIdentity: (_host, cert) => (cert.subjectaltname?.startsWith('URI:spiffe://cluster.local/') ? undefined : new Error('not a mesh identity')),
  });
  const clientResult = new Promise<string>((resolve, reject) => {
    let data = '';
    sock.on('data', (d) => (data += d));
    sock.on('end', () => resolve(`${sock.getPeerCertificate().subjectaltname} said ${data}`));
    sock.on('error', reject);
  });
  try {
    return await Promise.allSettled([serverSaw, clientResult]);
  } finally {
    sock.destroy();
    srv.close();
  }
}

test('mutual TLS on 127.0.0.1 between two issued workload certificates; a foreign root is rejected', async () => {
  const { ca } = await makeCa({ now: new Date(), ttl: '8760h' });
  async function workload(ns: string, sa: string, authority = ca) {
    const { csrPem, keyPem } = await createCsr({ spiffeId: spiffeId('cluster.local', ns, sa) });
    const r = await authority.issue({ token: `token:${ns}:${sa}`, csrPem });
    return { cert: r.certChainPem, key: keyPem, ca: r.trustBundlePem };
  }
  const web = await workload('shop', 'web');
  const db = await workload('shop', 'db');
  const [srv, cli] = await handshake(db, web);
  assert.deepEqual(srv, { status: 'fulfilled', value: 'URI:spiffe://cluster.local/ns/shop/sa/web' });
  assert.deepEqual(cli, { status: 'fulfilled', value: 'URI:spiffe://cluster.local/ns/shop/sa/db said hello' });

  const { ca: foreignCa } = await makeCa({ now: new Date(), ttl: '8760h' });
  const intruder = await workload('shop', 'web', foreignCa);
  // A client with a certificate from another root (that itself trusts our root): the server
  // refuses it (its TLS stack closes the connection before any data), and says why.
  const [srv2, cli2] = await handshake(db, { ...intruder, ca: db.ca });
  assert.equal(srv2.status, 'rejected', 'no secure connection on the server');
  assert.ok(cli2.status === 'rejected' || !cli2.value.endsWith('hello'), 'the client got no data');
  const [why] = await handshake(db, { ...intruder, ca: db.ca }, false);
  assert.deepEqual(why, { status: 'fulfilled', value: 'unauthorized: SELF_SIGNED_CERT_IN_CHAIN' });
  // A server with a certificate from another root: the client refuses it.
  const [, cli3] = await handshake({ ...intruder, ca: web.ca }, web);
  assert.equal(cli3.status, 'rejected');
  assert.match(String((cli3 as PromiseRejectedResult).reason), /unable to verify|self.signed|certificate/i);
});
