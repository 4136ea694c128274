import type { X509Certificate as NodeCert } from 'node:crypto';
import { inputError } from '../errors.js';
import { ttlMs, type Ttl } from './duration.js';
import { describe, sanOf, type CertInfo } from './info.js';
import { generateP256, keyKind, keyTypeName, P256_SIGN, parsePrivateKey, privateKeyPem, SUPPORTED_KEYS, withPrivateKey } from './keys.js';
import { parseCertificates } from './pem.js';
import { checkTrustDomain, trustDomainId } from './spiffe.js';
import { x509 } from './x509.js';

/** Default lifetime of a generated root: 10 years, as values.ca.rootCertTTL. */
export const DEFAULT_ROOT_TTL = '87600h';
/** A root expiring sooner than this is accepted with a warning. */
export const ROOT_EXPIRY_WARNING_MS = 30 * 24 * 3_600_000;

/** Options of generateRoot. */
export interface GenerateRootOptions {
  /** SPIFFE trust domain the root signs for, e.g. cluster.local. */
  trustDomain: string;
  /** Lifetime; default DEFAULT_ROOT_TTL. */
  ttl?: Ttl;
  /** Issue time (default: the clock); truncated to whole seconds as X.509 stores it. */
  now?: Date;
  /** basicConstraints pathLen: how many intermediate CAs may sit below the root. Default 1. */
  pathLen?: number;
  /** Put `spiffe://TRUST_DOMAIN` in the root's SAN (SPIFFE bundle style). Default true. */
  spiffeSan?: boolean;
}

/**
 * A certificate and its private key. `keyPem` is a non-enumerable property: JSON.stringify,
 * util.inspect and `{...spread}` leave it out; read it explicitly to store it (e.g. in a Secret).
 */
export interface CertAndKey {
  certPem: string;
  readonly keyPem: string;
}

/** Whole seconds, as X.509 times are encoded, so a Date survives a round trip unchanged. */
export function toSeconds(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}

/** Subject of a generated root for `trustDomain`. */
export function rootSubject(trustDomain: string): x509.JsonName {
  return [{ O: ['mesh'] }, { CN: [`mesh root CA (${trustDomain})`] }];
}

/**
 * Generate a self-signed root CA: ECDSA P-256, basicConstraints CA:true with pathLen (critical),
 * keyUsage keyCertSign+cRLSign (critical), subject O=mesh CN="mesh root CA (TRUST_DOMAIN)", and
 * URI SAN spiffe://TRUST_DOMAIN. Everything but the key, serial and signature is a function of the
 * options. Throws inputError for a bad trust domain or ttl.
 */
export async function generateRoot(opts: GenerateRootOptions): Promise<CertAndKey> {
  const td = checkTrustDomain(opts.trustDomain);
  const lifetime = ttlMs(opts.ttl ?? DEFAULT_ROOT_TTL, 'root CA ttl');
  const notBefore = toSeconds(opts.now ?? new Date());
  const notAfter = new Date(notBefore.getTime() + lifetime);
  const keys = await generateP256();
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(true, opts.pathLen ?? 1, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ];
  if (opts.spiffeSan ?? true) extensions.push(new x509.SubjectAlternativeNameExtension([{ type: 'url', value: trustDomainId(td) }]));
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: rootSubject(td),
    keys,
    signingAlgorithm: P256_SIGN,
    notBefore,
    notAfter,
    extensions,
  });
  return withPrivateKey({ certPem: cert.toString('pem') + '\n' }, await privateKeyPem(keys.privateKey));
}

/** Options of validateRoot. */
export interface ValidateRootOptions {
  /** Time to check validity at (default: the clock). */
  now?: Date;
  /** How to name the certificate in errors, e.g. the --ca-cert path. Default "CA certificate". */
  certSource?: string;
  /** How to name the key in errors, e.g. the --ca-key path. Default "CA key". */
  keySource?: string;
}

/** What validateRoot found. Public data only. */
export interface RootInfo extends CertInfo {
  /** e.g. "ECDSA P-256". */
  keyType: string;
  /** basicConstraints pathLen, or null when unlimited. */
  pathLen: number | null;
  selfSigned: boolean;
  /** Trust domain named by a spiffe://TD URI SAN of the CA, or null. */
  trustDomain: string | null;
  /** The CA certificate followed by any issuers given after it (PEM, normalised). */
  chainPem: string;
  /** The top certificate of the chain: what workloads must trust (PEM). */
  anchorPem: string;
  /** Problems that do not stop the mesh working yet (e.g. expiring within 30 days). One line each. */
  warnings: string[];
}

/** An X.509 time the way people read it (UTC, to the minute). */
function day(d: Date): string {
  return d.toISOString().replace('T', ' ').replace(/:\d\d\.\d+Z$/, ' UTC');
}

/**
 * Check a root CA supplied by the user (--ca-cert / --ca-key) and describe it.
 * The certificate file may hold a chain: the CA that will sign first, then its issuers.
 * Throws inputError, one line plus a hint, naming the file, for: not PEM / unparsable, a key type we
 * cannot sign with, not a CA (basicConstraints) or not allowed to sign certificates (keyUsage),
 * key not matching the certificate, expired, not yet valid, a chain that does not link up.
 * Expiring within 30 days, or not ending in a self-signed root, is a warning in the result.
 * Pure apart from reading the clock when `now` is not given.
 */
export function validateRoot(certPem: string, keyPem: string, opts: ValidateRootOptions = {}): RootInfo {
  const certSource = opts.certSource ?? 'CA certificate';
  const keySource = opts.keySource ?? 'CA key';
  const now = opts.now ?? new Date();
  const chain = parseCertificates(certPem, certSource);
  const cert = chain[0] as NodeCert;
  const key = parsePrivateKey(keyPem, keySource);

  const certKind = keyKind(cert.publicKey);
  if (!certKind) {
    throw inputError(`${certSource} has an unsupported ${keyTypeName(cert.publicKey)} key`, `the mesh CA signs with ${SUPPORTED_KEYS}`);
  }
  if (!keyKind(key)) {
    throw inputError(`${keySource} is an unsupported ${keyTypeName(key)} key`, `the mesh CA signs with ${SUPPORTED_KEYS}`);
  }
  const pc = new x509.X509Certificate(cert.raw);
  const bc = pc.getExtension(x509.BasicConstraintsExtension);
  if (!bc?.ca) {
    throw inputError(
      `${certSource} is not a CA certificate (basicConstraints CA:TRUE is ${bc ? 'false' : 'missing'})`,
      'pass a CA certificate, or leave out --ca-cert/--ca-key to let mesh generate a root',
    );
  }
  const ku = pc.getExtension(x509.KeyUsagesExtension);
  if (ku && !(ku.usages & x509.KeyUsageFlags.keyCertSign)) {
    throw inputError(`${certSource} is a CA but its keyUsage does not allow keyCertSign`, 'reissue the CA with keyUsage keyCertSign (and cRLSign)');
  }
  if (!cert.checkPrivateKey(key)) {
    throw inputError(`${keySource} does not match the public key of ${certSource}`, 'pass the private key that belongs to this certificate');
  }
  const notBefore = new Date(cert.validFrom);
  const notAfter = new Date(cert.validTo);
  if (now.getTime() > notAfter.getTime()) {
    throw inputError(`${certSource} expired on ${day(notAfter)}`, 'supply a current CA, or leave out --ca-cert/--ca-key to let mesh generate one');
  }
  if (now.getTime() < notBefore.getTime()) {
    throw inputError(`${certSource} is not valid until ${day(notBefore)}`, "check this machine's clock, or wait until then");
  }

  const warnings: string[] = [];
  for (let i = 1; i < chain.length; i++) {
    const child = chain[i - 1] as NodeCert;
    const parent = chain[i] as NodeCert;
    if (!child.checkIssued(parent) || !child.verify(parent.publicKey)) {
      throw inputError(`certificate #${i + 1} in ${certSource} did not issue certificate #${i}`, 'order the file: the signing CA first, then each issuer up to the root');
    }
    if (now.getTime() > new Date(parent.validTo).getTime()) {
      throw inputError(`certificate #${i + 1} in ${certSource} expired on ${day(new Date(parent.validTo))}`, 'supply a chain whose issuers are all current');
    }
  }
  const top = chain[chain.length - 1] as NodeCert;
  const selfSigned = cert.checkIssued(cert) && cert.verify(cert.publicKey);
  const topSelfSigned = top.checkIssued(top) && top.verify(top.publicKey);
  if (!topSelfSigned) {
    warnings.push(`${certSource} does not end in a self-signed root: workloads will trust "${top.subject.replace(/\n/g, ', ')}" as the anchor; append its issuers up to the root`);
  }
  const chainExpiry = Math.min(...chain.map((c) => new Date(c.validTo).getTime()));
  if (chainExpiry - now.getTime() < ROOT_EXPIRY_WARNING_MS) {
    warnings.push(`${certSource} expires on ${day(new Date(chainExpiry))}, in less than 30 days: plan a root rotation (docs/pki.md)`);
  }

  const td = sanOf(cert).uris.find((u) => /^spiffe:\/\/[^/]+$/.test(u));
  return {
    ...describe(cert),
    keyType: certKind.name,
    pathLen: bc.pathLength ?? null,
    selfSigned,
    trustDomain: td ? td.slice('spiffe://'.length) : null,
    chainPem: chain.map((c) => c.toString()).join(''),
    anchorPem: top.toString(),
    warnings,
  };
}
