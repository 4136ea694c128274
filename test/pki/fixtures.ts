// Certificates the tests need that the mesh itself never makes (no CA flag, weak keys, …),
// generated on the fly so no key file is committed.
import { generateKeyPairSync, type KeyObject, webcrypto } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { x509 } from '../../src/pki/x509.ts';

export const DAY = 24 * 3_600_000;
export const T0 = new Date('2030-01-01T00:00:00Z');

export function keyPem(k: KeyObject): string {
  return k.export({ type: 'pkcs8', format: 'pem' }) as string;
}

interface SelfSignedOptions {
  extensions?: x509.Extension[];
  rsaBits?: number;
  notBefore?: Date;
  notAfter?: Date;
  name?: string;
}

/** A self-signed certificate with exactly the given extensions (ECDSA P-256 unless rsaBits). */
export async function selfSigned(o: SelfSignedOptions = {}): Promise<{ certPem: string; keyPem: string }> {
  const { privateKey } = o.rsaBits
    ? generateKeyPairSync('rsa', { modulusLength: o.rsaBits })
    : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const alg = o.rsaBits ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } : { name: 'ECDSA', namedCurve: 'P-256' };
  const sign = o.rsaBits ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } : { name: 'ECDSA', hash: 'SHA-256' };
  const der = privateKey.export({ type: 'pkcs8', format: 'der' });
  const priv = await webcrypto.subtle.importKey('pkcs8', der, alg, true, ['sign']);
  const pubDer = (await import('node:crypto')).createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const pub = await webcrypto.subtle.importKey('spki', pubDer, alg, true, ['verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: o.name ?? 'CN=fixture',
    keys: { privateKey: priv, publicKey: pub },
    signingAlgorithm: sign,
    notBefore: o.notBefore ?? T0,
    notAfter: o.notAfter ?? new Date(T0.getTime() + 365 * DAY),
    extensions: o.extensions ?? [],
  });
  return { certPem: cert.toString('pem'), keyPem: keyPem(privateKey) };
}

/** openssl on PATH, or undefined (tests that need it skip with a message). */
export const openssl: string | undefined = (() => {
  const r = spawnSync('openssl', ['version'], { encoding: 'utf8' });
  return r.status === 0 ? 'openssl' : undefined;
})();
