import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { generateRoot, validateRoot } from '../../src/pki/index.ts';
import { CaSigner, issueServingCert } from '../../src/pki/issue.ts';
import { x509 } from '../../src/pki/x509.ts';
import type { MeshError } from '../../src/errors.ts';
import { DAY, keyPem, selfSigned, T0 } from './fixtures.ts';

test('generateRoot makes a P-256 self-signed CA for the trust domain with the promised extensions', async () => {
  const root = await generateRoot({ trustDomain: 'example.org', ttl: '8760h', now: new Date('2030-01-01T00:00:00.750Z') });
  const c = new X509Certificate(root.certPem);
  assert.equal(c.ca, true);
  assert.equal(c.subject, 'O=mesh\nCN=mesh root CA (example.org)');
  assert.equal(c.issuer, c.subject);
  assert.equal(c.subjectAltName, 'URI:spiffe://example.org');
  assert.equal(c.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  assert.ok(c.verify(c.publicKey), 'self-signed');
  assert.ok(c.checkPrivateKey(createPrivateKey(root.keyPem)), 'the key belongs to the certificate');
  // NotBefore is truncated to the second (as X.509 stores it); NotAfter = NotBefore + ttl.
  assert.equal(new Date(c.validFrom).toISOString(), '2030-01-01T00:00:00.000Z');
  assert.equal(new Date(c.validTo).toISOString(), '2031-01-01T00:00:00.000Z');
  const pc = new x509.X509Certificate(root.certPem);
  const bc = pc.getExtension(x509.BasicConstraintsExtension)!;
  assert.deepEqual([bc.ca, bc.pathLength, bc.critical], [true, 1, true]);
  const ku = pc.getExtension(x509.KeyUsagesExtension)!;
  assert.equal(ku.usages, x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
  assert.equal(ku.critical, true);
});

test('generateRoot is deterministic apart from key, serial and signature', async () => {
  const opts = { trustDomain: 'cluster.local', ttl: '8760h', now: T0 };
  const [a, b] = [new x509.X509Certificate((await generateRoot(opts)).certPem), new x509.X509Certificate((await generateRoot(opts)).certPem)];
  assert.equal(a.subject, b.subject);
  assert.equal(a.issuer, b.issuer);
  assert.deepEqual([a.notBefore, a.notAfter], [b.notBefore, b.notAfter]);
  const exts = (c: x509.X509Certificate) => c.extensions.filter((e) => e.type !== '2.5.29.14').map((e) => [e.type, e.critical, Buffer.from(e.value).toString('hex')]);
  assert.deepEqual(exts(a), exts(b));
  assert.notEqual(a.serialNumber, b.serialNumber);
});

test('generateRoot: the key is hidden from JSON.stringify and util.inspect but readable', async () => {
  const root = await generateRoot({ trustDomain: 'cluster.local' });
  const { inspect } = await import('node:util');
  assert.match(root.keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
  assert.doesNotMatch(JSON.stringify(root), /PRIVATE KEY/);
  assert.doesNotMatch(inspect(root, { showHidden: false }), /PRIVATE KEY/);
  assert.match(inspect(root), /keyPem: '\[redacted\]'/);
  assert.doesNotMatch(String(Object.keys(root)), /keyPem/);
});

test('generateRoot: pathLen and the SPIFFE SAN are options; bad trust domain and ttl are input errors', async () => {
  const r = await generateRoot({ trustDomain: 'cluster.local', pathLen: 0, spiffeSan: false });
  const pc = new x509.X509Certificate(r.certPem);
  assert.equal(pc.getExtension(x509.BasicConstraintsExtension)!.pathLength, 0);
  assert.equal(new X509Certificate(r.certPem).subjectAltName, undefined);
  await assert.rejects(generateRoot({ trustDomain: 'Bad Domain' }), (e: MeshError) => e.exitCode === 2 && /invalid trust domain "Bad Domain"/.test(e.message));
  await assert.rejects(generateRoot({ trustDomain: 'cluster.local', ttl: '10 years' }), /root CA ttl "10 years" is not a duration/);
});

test('validateRoot accepts a generated root and describes it', async () => {
  const root = await generateRoot({ trustDomain: 'cluster.local', ttl: '87600h', now: T0 });
  const info = validateRoot(root.certPem, root.keyPem, { now: new Date(T0.getTime() + DAY) });
  assert.equal(info.isCA, true);
  assert.equal(info.keyType, 'ECDSA P-256');
  assert.equal(info.pathLen, 1);
  assert.equal(info.selfSigned, true);
  assert.equal(info.trustDomain, 'cluster.local');
  assert.equal(info.spiffeId, 'spiffe://cluster.local');
  assert.deepEqual(info.warnings, []);
  assert.equal(info.fingerprint, new X509Certificate(root.certPem).fingerprint256);
  assert.equal(info.anchorPem, new X509Certificate(root.certPem).toString());
  assert.doesNotMatch(JSON.stringify(info), /PRIVATE KEY/);
});

test('validateRoot accepts an RSA 2048 root and SEC1 / PKCS#1 key encodings', async () => {
  const rsa = await selfSigned({ rsaBits: 2048, extensions: [new x509.BasicConstraintsExtension(true, undefined, true)] });
  const pkcs1 = createPrivateKey(rsa.keyPem).export({ type: 'pkcs1', format: 'pem' }) as string;
  const info = validateRoot(rsa.certPem, pkcs1, { now: T0 });
  assert.equal(info.keyType, 'RSA 2048');
  assert.equal(info.pathLen, null);
  const ec = await generateRoot({ trustDomain: 'cluster.local', now: T0 });
  const sec1 = createPrivateKey(ec.keyPem).export({ type: 'sec1', format: 'pem' }) as string;
  assert.match(sec1, /BEGIN EC PRIVATE KEY/);
  assert.equal(validateRoot(ec.certPem, sec1, { now: T0 }).keyType, 'ECDSA P-256');
});

test('validateRoot warns (does not fail) when the root expires within 30 days or is not self-signed', async () => {
  const root = await generateRoot({ trustDomain: 'cluster.local', ttl: 40 * DAY, now: T0 });
  const ok = validateRoot(root.certPem, root.keyPem, { now: new Date(T0.getTime() + 5 * DAY) });
  assert.deepEqual(ok.warnings, []);
  const soon = validateRoot(root.certPem, root.keyPem, { now: new Date(T0.getTime() + 20 * DAY), certSource: 'ca.pem' });
  assert.equal(soon.warnings.length, 1);
  assert.match(soon.warnings[0]!, /^ca\.pem expires on 2030-02-10 00:00 UTC, in less than 30 days/);

  // An intermediate CA given alone: usable, but the anchor is the intermediate itself.
  const signer = await CaSigner.load(root.certPem, root.keyPem, { now: T0 });
  const inter = await intermediate(signer);
  const alone = validateRoot(inter.certPem, inter.keyPem, { now: T0 });
  assert.equal(alone.selfSigned, false);
  assert.match(alone.warnings.join('\n'), /does not end in a self-signed root/);
  // With its root appended, it links up and the anchor is the root.
  const full = validateRoot(inter.certPem + root.certPem, inter.keyPem, { now: T0 });
  assert.deepEqual(full.warnings.filter((w) => /self-signed/.test(w)), []);
  assert.equal(full.anchorPem, new X509Certificate(root.certPem).toString());
});

/** An intermediate CA signed by `signer` (the mesh never makes these; supplied CAs can be). */
async function intermediate(signer: CaSigner): Promise<{ certPem: string; keyPem: string }> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const pub = await crypto.subtle.importKey('spki', publicKey.export({ type: 'spki', format: 'der' }), { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']);
  const { cert } = await signer.signLeaf({
    publicKey: pub,
    subject: [{ O: ['acme'] }, { CN: ['acme intermediate'] }],
    ttl: 100 * DAY,
    now: T0,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true), await x509.SubjectKeyIdentifierExtension.create(pub)],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: keyPem(privateKey) };
}

interface FailCase {
  name: string;
  make: () => Promise<{ cert: string; key: string; now?: Date }>;
  message: RegExp;
  hint: RegExp;
}

const cases: FailCase[] = [
  { name: 'certificate is not PEM', make: async () => ({ cert: 'hello', key: (await root()).keyPem }), message: /^ca\.crt is not a PEM-encoded certificate$/, hint: /openssl x509 -inform der/ },
  { name: 'certificate and key swapped', make: async () => { const r = await root(); return { cert: r.keyPem, key: r.certPem }; }, message: /^ca\.crt holds a private key, not a certificate$/, hint: /swapped/ },
  { name: 'certificate PEM is corrupt', make: async () => ({ cert: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', key: (await root()).keyPem }), message: /^ca\.crt cannot be parsed as an X\.509 certificate$/, hint: /openssl x509 -in FILE/ },
  { name: 'key is not PEM', make: async () => ({ cert: (await root()).certPem, key: 'not a key' }), message: /^ca\.key is not a PEM-encoded private key$/, hint: /openssl pkey/ },
  { name: 'key PEM is corrupt', make: async () => ({ cert: (await root()).certPem, key: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' }), message: /^ca\.key cannot be parsed as a private key$/, hint: /openssl pkey -in FILE/ },
  {
    name: 'key is encrypted',
    make: async () => {
      const r = await root();
      return { cert: r.certPem, key: createPrivateKey(r.keyPem).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }) as string };
    },
    message: /^ca\.key is encrypted with a passphrase$/,
    hint: /decrypt it first/,
  },
  { name: 'unsupported key type (RSA 1024)', make: async () => { const r = await selfSigned({ rsaBits: 1024, extensions: [new x509.BasicConstraintsExtension(true)] }); return { cert: r.certPem, key: r.keyPem }; }, message: /^ca\.crt has an unsupported RSA 1024 key$/, hint: /ECDSA P-256, ECDSA P-384 or RSA/ },
  {
    name: 'unsupported key type (Ed25519 key)',
    make: async () => ({ cert: (await root()).certPem, key: keyPem(generateKeyPairSync('ed25519').privateKey) }),
    message: /^ca\.key is an unsupported Ed25519 key$/,
    hint: /ECDSA P-256/,
  },
  { name: 'no basicConstraints', make: async () => { const r = await selfSigned(); return { cert: r.certPem, key: r.keyPem }; }, message: /^ca\.crt is not a CA certificate \(basicConstraints CA:TRUE is missing\)$/, hint: /leave out --ca-cert/ },
  {
    name: 'a leaf (CA:false)',
    make: async () => {
      const r = await root();
      const leaf = await issueServingCert(await CaSigner.load(r.certPem, r.keyPem, { now: T0 }), { dnsNames: ['x.example'], now: T0 });
      return { cert: leaf.certPem.slice(0, leaf.certPem.indexOf('-----END CERTIFICATE-----') + 26), key: leaf.keyPem };
    },
    message: /^ca\.crt is not a CA certificate \(basicConstraints CA:TRUE is false\)$/,
    hint: /pass a CA certificate/,
  },
  {
    name: 'CA without keyCertSign',
    make: async () => { const r = await selfSigned({ extensions: [new x509.BasicConstraintsExtension(true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature)] }); return { cert: r.certPem, key: r.keyPem }; },
    message: /keyUsage does not allow keyCertSign/,
    hint: /reissue the CA/,
  },
  { name: 'key of another CA', make: async () => ({ cert: (await root()).certPem, key: (await root()).keyPem }), message: /^ca\.key does not match the public key of ca\.crt$/, hint: /belongs to this certificate/ },
  { name: 'expired', make: async () => { const r = await root(); return { cert: r.certPem, key: r.keyPem, now: new Date(T0.getTime() + 400 * DAY) }; }, message: /^ca\.crt expired on 2031-01-01 00:00 UTC$/, hint: /supply a current CA/ },
  { name: 'not yet valid', make: async () => { const r = await root(); return { cert: r.certPem, key: r.keyPem, now: new Date(T0.getTime() - DAY) }; }, message: /^ca\.crt is not valid until 2030-01-01 00:00 UTC$/, hint: /clock/ },
  {
    name: 'chain in the wrong order',
    make: async () => { const a = await root(); const b = await root(); return { cert: a.certPem + b.certPem, key: a.keyPem }; },
    message: /^certificate #2 in ca\.crt did not issue certificate #1$/,
    hint: /order the file/,
  },
];

function root() {
  return generateRoot({ trustDomain: 'cluster.local', ttl: 365 * DAY, now: T0 });
}

for (const c of cases) {
  test(`validateRoot rejects: ${c.name}`, async () => {
    const f = await c.make();
    assert.throws(
      () => validateRoot(f.cert, f.key, { now: f.now ?? new Date(T0.getTime() + DAY), certSource: 'ca.crt', keySource: 'ca.key' }),
      (e: MeshError) => {
        assert.equal(e.name, 'MeshError');
        assert.equal(e.exitCode, 2);
        assert.match(e.message, c.message);
        assert.match(e.hint ?? '', c.hint);
        assert.doesNotMatch(e.message + e.hint, /PRIVATE KEY|-----/, 'errors never quote file contents');
        assert.ok(!e.message.includes('\n'), 'one line');
        return true;
      },
    );
  });
}

test('validateRoot reads one combined cert+key file for both, and CRLF line endings', async () => {
  const r = await root();
  const combined = r.certPem + r.keyPem;
  assert.equal(validateRoot(combined, combined, { now: T0 }).keyType, 'ECDSA P-256');
  const crlf = (s: string) => s.replace(/\n/g, '\r\n');
  assert.equal(validateRoot(crlf(r.certPem), crlf(r.keyPem), { now: T0 }).isCA, true);
});
