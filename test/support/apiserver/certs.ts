// A self-signed CA and a serving certificate for 127.0.0.1/localhost, made once per process:
// client-node refuses plain http and kubectl verifies the server, so the test server speaks real TLS.
import { webcrypto } from 'node:crypto';

// @peculiar/x509 uses tsyringe, which needs the Reflect metadata API (normally from the
// reflect-metadata package, not installed here). The three functions it calls are provided below
// before the library is loaded.
type Meta = Map<unknown, unknown>;
const metadata = new WeakMap<object, Map<string | symbol | undefined, Meta>>();
function ownMeta(target: object, prop?: string | symbol): Meta | undefined {
  return metadata.get(target)?.get(prop);
}
function installReflectMetadata(): void {
  const R = Reflect as unknown as Record<string, unknown>;
  if (typeof R.getMetadata === 'function') return;
  R.defineMetadata = (key: unknown, value: unknown, target: object, prop?: string | symbol) => {
    let byProp = metadata.get(target);
    if (!byProp) metadata.set(target, (byProp = new Map()));
    let m = byProp.get(prop);
    if (!m) byProp.set(prop, (m = new Map()));
    m.set(key, value);
  };
  R.getOwnMetadata = (key: unknown, target: object, prop?: string | symbol) => ownMeta(target, prop)?.get(key);
  R.getMetadata = (key: unknown, target: object, prop?: string | symbol) => {
    for (let t: object | null = target; t; t = Object.getPrototypeOf(t) as object | null) {
      const m = ownMeta(t, prop);
      if (m?.has(key)) return m.get(key);
    }
    return undefined;
  };
}

/** PEM material for the test server: the CA clients trust, and the server's key and chain. */
export interface ServingCerts {
  caPem: string;
  certPem: string;
  keyPem: string;
}

let cached: Promise<ServingCerts> | undefined;

/** The process-wide serving certificate (generated on first call, reused after). */
export function servingCerts(): Promise<ServingCerts> {
  cached ??= generate();
  return cached;
}

function pem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN ${label}-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END ${label}-----\n`;
}

async function generate(): Promise<ServingCerts> {
  installReflectMetadata();
  const x509 = await import('@peculiar/x509');
  const crypto = webcrypto;
  x509.cryptoProvider.set(crypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const notBefore = new Date(Date.now() - 3600_000);
  const notAfter = new Date(Date.now() + 7 * 24 * 3600_000);
  const caKeys = (await crypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=mesh-test-apiserver-ca',
    notBefore,
    notAfter,
    keys: caKeys as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]["keys"],
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const keys = (await crypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: '02',
    subject: 'CN=kube-apiserver',
    issuer: ca.subject,
    notBefore,
    notAfter,
    publicKey: keys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        { type: 'ip', value: '127.0.0.1' },
        { type: 'ip', value: '::1' },
        { type: 'dns', value: 'localhost' },
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(ca, false),
    ],
  });
  const pkcs8 = await crypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { caPem: ca.toString('pem') + '\n', certPem: leaf.toString('pem') + '\n', keyPem: pem('PRIVATE KEY', pkcs8) };
}
