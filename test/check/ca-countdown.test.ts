// mesh check's certificate countdowns (linkerd2#4808, #13613): the root, the issuer when it is an
// intermediate, and the proxy certificate closest to expiry; a warning within 30 days.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { generateRoot } from '../../src/pki/index.ts';
import { CaSigner } from '../../src/pki/issue.ts';
import { x509 } from '../../src/pki/x509.ts';
import { b64, check, useRoots, type Obj } from './live-support.ts';

useRoots();
const DAY = 86_400_000;
const result = (r: Awaited<ReturnType<typeof check>>, id: string) => r.report.checks.find((c) => c.id === id)!;

test('a root that is its own issuer: the countdown says so; the oldest proxy certificate\'s countdown is shown', async () => {
  const r = await check();
  const root = result(r, 'identity.root-ca');
  assert.equal(root.status, 'pass');
  assert.match(root.message, /^valid until \S+ \(\d+ days\); the root is also the issuer$/);
  assert.ok(root.details?.some((d) => /^the root CA expires in \d+ day\(s\)/.test(d)), JSON.stringify(root.details));
  const proxies = result(r, 'identity.proxy-certificates');
  assert.equal(proxies.status, 'pass');
  assert.match(proxies.message, /the oldest, shop\/web-1, expires in 2[34]h/);
});

test('an intermediate issuer expiring within 30 days warns, beside the root\'s countdown', async () => {
  const now = new Date();
  const rootCa = await generateRoot({ trustDomain: 'cluster.local', ttl: '8760h' });
  const signer = await CaSigner.load(rootCa.certPem, rootCa.keyPem);
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const pub = await crypto.subtle.importKey('spki', publicKey.export({ type: 'spki', format: 'der' }), { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']);
  const { cert } = await signer.signLeaf({
    publicKey: pub,
    subject: [{ O: ['acme'] }, { CN: ['acme issuer'] }],
    ttl: 20 * DAY,
    now,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true), await x509.SubjectKeyIdentifierExtension.create(pub)],
  });
  const chain = cert.toString('pem') + '\n' + rootCa.certPem;
  const key = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const r = await check({ edit: (o: Obj[]) => o.map((x) => (x.metadata.name === 'mesh-root-ca' ? { ...x, data: { 'tls.crt': b64(chain), 'tls.key': b64(key), 'ca.crt': b64(rootCa.certPem) } } : x)) });
  const res = result(r, 'identity.root-ca');
  assert.equal(res.status, 'warn', JSON.stringify(res));
  assert.match(res.message, /^the issuer \(intermediate .*acme issuer.*\) expires in 19 day\(s\)/);
  assert.ok(res.details?.some((d) => /^the root CA expires in 36[45] day\(s\)/.test(d)), JSON.stringify(res.details));
  assert.match(res.hint ?? '', /mesh upgrade --ca-cert/);
});
