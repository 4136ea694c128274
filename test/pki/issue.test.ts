import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { CaSigner, CLOCK_SKEW_MS, createCsr, generateRoot, IssuanceError, issueServingCert, signCsr, spiffeId } from '../../src/pki/index.ts';
import { x509 } from '../../src/pki/x509.ts';
import { DAY, openssl, T0 } from './fixtures.ts';

const ID = spiffeId('cluster.local', 'shop', 'web');

async function makeCa(now = T0, ttl: number | string = 365 * DAY) {
  const root = await generateRoot({ trustDomain: 'cluster.local', ttl, now });
  return { root, ca: await CaSigner.load(root.certPem, root.keyPem, { now }) };
}

function leafOf(chainPem: string): X509Certificate {
  return new X509Certificate(chainPem.slice(0, chainPem.indexOf('-----END CERTIFICATE-----') + 25));
}

test('createCsr: a P-256 key stays with the caller; the CSR carries the SPIFFE ID and verifies', async () => {
  const { csrPem, keyPem } = await createCsr({ spiffeId: ID });
  const csr = new x509.Pkcs10CertificateRequest(csrPem);
  assert.equal(await csr.verify(), true);
  const san = new x509.SubjectAlternativeNameExtension(csr.getExtension('2.5.29.17')!.rawData);
  assert.deepEqual(san.names.toJSON(), [{ type: 'url', value: ID }]);
  assert.equal(createPrivateKey(keyPem).asymmetricKeyDetails?.namedCurve, 'prime256v1');
  assert.doesNotMatch(csrPem, /PRIVATE KEY/);
  const result = await createCsr({ spiffeId: ID });
  assert.doesNotMatch(JSON.stringify(result) + inspect(result), /PRIVATE KEY/);
  await assert.rejects(createCsr({ spiffeId: 'spiffe://cluster.local/web' }), /not a mesh SPIFFE ID/);
});

test('signCsr issues a 24h SPIFFE leaf that node verifies against the root', async () => {
  const { root, ca } = await makeCa();
  const { csrPem, keyPem } = await createCsr({ spiffeId: ID });
  const now = new Date(T0.getTime() + 10 * DAY + 123);
  const issued = await signCsr(ca, csrPem, { spiffeId: ID, now });
  const leaf = leafOf(issued.certChainPem);
  const rootCert = new X509Certificate(root.certPem);
  assert.ok(leaf.verify(rootCert.publicKey), 'signed by the root');
  assert.ok(leaf.checkIssued(rootCert));
  assert.ok(leaf.checkPrivateKey(createPrivateKey(keyPem)), 'certifies the CSR key');
  assert.equal(leaf.ca, false);
  assert.equal(leaf.subjectAltName, `URI:${ID}`);
  assert.equal(leaf.keyUsage?.slice().sort().join(','), '1.3.6.1.5.5.7.3.1,1.3.6.1.5.5.7.3.2');
  const ku = new x509.X509Certificate(leaf.raw).getExtension(x509.KeyUsagesExtension)!;
  assert.equal(ku.usages, x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment);
  const nowS = Math.floor(now.getTime() / 1000) * 1000;
  assert.equal(new Date(leaf.validFrom).getTime(), nowS - CLOCK_SKEW_MS, 'back-dated for clock skew');
  assert.equal(new Date(leaf.validTo).getTime(), nowS + DAY, 'default ttl 24h');
  assert.equal(issued.notAfter, new Date(nowS + DAY).toISOString());
  assert.equal(issued.serial, leaf.serialNumber.toLowerCase());
  assert.equal(issued.spiffeId, ID);
  // The chain is the leaf then the root.
  assert.equal(issued.certChainPem.match(/BEGIN CERTIFICATE/g)?.length, 2);
  assert.ok(issued.certChainPem.endsWith(rootCert.toString()));
  // Serials are unique.
  const again = await signCsr(ca, csrPem, { spiffeId: ID, now });
  assert.notEqual(again.serial, issued.serial);
});

test('signCsr never issues past the root expiry, nor before the root starts; refuses once the root expired', async () => {
  const { ca } = await makeCa(T0, 2 * DAY);
  const { csrPem } = await createCsr({ spiffeId: ID });
  const late = await signCsr(ca, csrPem, { spiffeId: ID, ttl: '24h', now: new Date(T0.getTime() + 1.5 * DAY) });
  assert.equal(late.notAfter, new Date(T0.getTime() + 2 * DAY).toISOString());
  const early = await signCsr(ca, csrPem, { spiffeId: ID, ttl: '1h', now: T0 });
  assert.equal(early.notBefore, T0.toISOString());
  await assert.rejects(signCsr(ca, csrPem, { spiffeId: ID, now: new Date(T0.getTime() + 3 * DAY) }), (e: IssuanceError) => e.reason === 'failed-precondition' && /the mesh CA expired/.test(e.message));
});

test('signCsr rejects a CSR for another identity, or with other names', async () => {
  const { ca } = await makeCa();
  const other = await createCsr({ spiffeId: spiffeId('cluster.local', 'kube-system', 'admin') });
  await assert.rejects(signCsr(ca, other.csrPem, { spiffeId: ID, now: T0 }), (e: IssuanceError) => {
    assert.equal(e.reason, 'permission-denied');
    assert.equal(e.message, `the CSR requests spiffe://cluster.local/ns/kube-system/sa/admin, but the caller is authenticated as ${ID}`);
    return true;
  });
  const dns = await csrWith([new x509.SubjectAlternativeNameExtension([{ type: 'url', value: ID }, { type: 'dns', value: 'kubernetes.default.svc' }])]);
  await assert.rejects(signCsr(ca, dns, { spiffeId: ID, now: T0 }), (e: IssuanceError) => e.reason === 'permission-denied' && /requests DNS:kubernetes\.default\.svc/.test(e.message));
});

test('signCsr ignores everything in the CSR but its key: asking for CA:true or keyCertSign gets a plain leaf', async () => {
  const { ca } = await makeCa();
  const greedy = await csrWith([new x509.BasicConstraintsExtension(true, 5, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)]);
  const issued = await signCsr(ca, greedy, { spiffeId: ID, now: T0 });
  const leaf = leafOf(issued.certChainPem);
  assert.equal(leaf.ca, false);
  assert.equal(leaf.subject, 'O=mesh');
  const ku = new x509.X509Certificate(leaf.raw).getExtension(x509.KeyUsagesExtension)!;
  assert.equal(ku.usages & x509.KeyUsageFlags.keyCertSign, 0);
});

test('signCsr accepts a CSR with no SAN and puts the authenticated identity in', async () => {
  const { ca } = await makeCa();
  const bare = await csrWith([]);
  const issued = await signCsr(ca, bare, { spiffeId: ID, now: T0 });
  assert.equal(leafOf(issued.certChainPem).subjectAltName, `URI:${ID}`);
});

test('signCsr rejects a CSR whose signature is broken, and CSRs that are not CSRs', async () => {
  const { ca } = await makeCa();
  const { csrPem } = await createCsr({ spiffeId: ID });
  const der = Buffer.from(new x509.Pkcs10CertificateRequest(csrPem).rawData);
  der[der.length - 3] = (der[der.length - 3] as number) ^ 0x01;
  const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
  const cases: [string, RegExp][] = [
    [tampered, /^the CSR signature is invalid$/],
    ['garbage', /the CSR is not PEM/],
    ['-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n', /cannot be parsed as PKCS#10/],
    [csrPem + csrPem, /more than one request/],
    ['x'.repeat(70_000), /the limit is/],
  ];
  for (const [input, message] of cases) {
    await assert.rejects(signCsr(ca, input, { spiffeId: ID, now: T0 }), (e: IssuanceError) => {
      assert.equal(e.reason, 'invalid-argument');
      assert.equal(e.exitCode, 2);
      assert.match(e.message, message);
      return true;
    });
  }
});

test('issueServingCert: DNS SANs, serverAuth, its own key; bad names are input errors', async () => {
  const { root, ca } = await makeCa();
  const sc = await issueServingCert(ca, { dnsNames: ['mesh-controller.mesh-system.svc', 'mesh-controller.mesh-system.svc.cluster.local'], now: T0 });
  const leaf = leafOf(sc.certPem);
  assert.ok(leaf.verify(new X509Certificate(root.certPem).publicKey));
  assert.equal(leaf.subjectAltName, 'DNS:mesh-controller.mesh-system.svc, DNS:mesh-controller.mesh-system.svc.cluster.local');
  assert.deepEqual(leaf.keyUsage, ['1.3.6.1.5.5.7.3.1']);
  assert.ok(leaf.checkPrivateKey(createPrivateKey(sc.keyPem)));
  assert.equal(new Date(leaf.validTo).getTime() - T0.getTime(), 30 * DAY);
  assert.doesNotMatch(JSON.stringify(sc) + inspect(sc), /PRIVATE KEY/);
  await assert.rejects(issueServingCert(ca, { dnsNames: [] }), /at least one DNS name/);
  await assert.rejects(issueServingCert(ca, { dnsNames: ['Bad_Name'] }), /invalid DNS name "Bad_Name"/);
});

test('CaSigner never shows its key in JSON or inspect', async () => {
  const { ca } = await makeCa();
  const text = JSON.stringify(ca) + inspect(ca, { showHidden: true, depth: 10 }) + String(ca);
  assert.doesNotMatch(text, /PRIVATE KEY/);
  assert.match(inspect(ca), /CaSigner \{ subject: "O=mesh, CN=mesh root CA \(cluster\.local\)"/);
});

async function csrWith(extensions: x509.Extension[]): Promise<string> {
  const keys = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=anything', keys, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' }, extensions });
  return csr.toString('pem');
}

test('openssl verify: a workload leaf and a serving cert chain to the root', { skip: openssl ? false : 'openssl is not on PATH' }, async () => {
  const { root, ca } = await makeCa(new Date(), '8760h');
  const dir = mkdtempSync(join(tmpdir(), 'mesh-pki-'));
  try {
    const { csrPem } = await createCsr({ spiffeId: ID });
    const issued = await signCsr(ca, csrPem, { spiffeId: ID });
    const serving = await issueServingCert(ca, { dnsNames: ['mesh-controller.mesh-system.svc'] });
    writeFileSync(join(dir, 'root.pem'), root.certPem);
    writeFileSync(join(dir, 'leaf.pem'), issued.certChainPem);
    writeFileSync(join(dir, 'serving.pem'), serving.certPem);
    for (const [file, purpose] of [['leaf.pem', 'sslclient'], ['leaf.pem', 'sslserver'], ['serving.pem', 'sslserver']]) {
      const r = spawnSync(openssl!, ['verify', '-x509_strict', '-purpose', purpose!, '-CAfile', join(dir, 'root.pem'), join(dir, file!)], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${file} ${purpose}: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout, /: OK/);
    }
    // A leaf from another root does not verify.
    const { ca: other } = await makeCa(new Date(), '8760h');
    writeFileSync(join(dir, 'stranger.pem'), (await signCsr(other, csrPem, { spiffeId: ID })).certChainPem.split(/(?<=-----END CERTIFICATE-----\n)/)[0]!);
    const r = spawnSync(openssl!, ['verify', '-CAfile', join(dir, 'root.pem'), join(dir, 'stranger.pem')], { encoding: 'utf8' });
    assert.notEqual(r.status, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a root made by openssl (SEC1 key, its own SKI) signs leaves that openssl verifies', { skip: openssl ? false : 'openssl is not on PATH' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mesh-pki-'));
  try {
    const r = spawnSync(openssl!, [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '30', '-subj', '/O=acme/CN=acme root',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-addext', 'subjectKeyIdentifier=hash',
      '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.crt'),
    ], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const { readFileSync } = await import('node:fs');
    const certPem = readFileSync(join(dir, 'ca.crt'), 'utf8');
    const keyPem = readFileSync(join(dir, 'ca.key'), 'utf8');
    const ca = await CaSigner.load(certPem, keyPem, { certSource: 'ca.crt', keySource: 'ca.key' });
    assert.equal(ca.info.warnings.length, 1, 'a 30-day root warns');
    const { csrPem } = await createCsr({ spiffeId: ID });
    writeFileSync(join(dir, 'leaf.pem'), (await signCsr(ca, csrPem, { spiffeId: ID })).certChainPem);
    const v = spawnSync(openssl!, ['verify', '-x509_strict', '-CAfile', join(dir, 'ca.crt'), join(dir, 'leaf.pem')], { encoding: 'utf8' });
    assert.equal(v.status, 0, v.stdout + v.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
