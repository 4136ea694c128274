import { createPublicKey, randomBytes, type KeyObject, type webcrypto } from 'node:crypto';
import { inspect } from 'node:util';
import { inputError } from '../errors.js';
import { ttlMs, type Ttl } from './duration.js';
import { IssuanceError } from './errors.js';
import { generateP256, importSigningKey, keyKind, keyTypeName, P256_SIGN, parsePrivateKey, privateKeyPem, SUPPORTED_KEYS, withPrivateKey, type KeyKind } from './keys.js';
import { pemBlocks } from './pem.js';
import { toSeconds, validateRoot, type CertAndKey, type RootInfo, type ValidateRootOptions } from './root.js';
import { parseSpiffeId } from './spiffe.js';
import { x509 } from './x509.js';

/** Default lifetime of workload certificates (values.ca.workloadCertTTL). */
export const DEFAULT_WORKLOAD_TTL = '24h';
/** Default lifetime of the controller's own serving certificates (webhook, xDS). */
export const DEFAULT_SERVING_TTL = '720h';
/** Issued certificates start this long before `now`, so peers with slow clocks accept them. */
export const CLOCK_SKEW_MS = 5 * 60_000;
/** CSRs larger than this are refused unparsed. */
const MAX_CSR_BYTES = 64 * 1024;

/** Fields of a leaf certificate the signer fills in; everything else is fixed by the CA. */
interface LeafParams {
  publicKey: x509.PublicKey | webcrypto.CryptoKey;
  subject: x509.JsonName;
  extensions: x509.Extension[];
  ttl: number;
  now: Date;
}

/**
 * A loaded CA: the certificate chain and a non-extractable signing key. The key is held in a
 * private field: JSON.stringify / util.inspect show only public data. Immutable; safe to share
 * between concurrent issuances.
 */
export class CaSigner {
  /** What validateRoot found about the CA (public data). */
  readonly info: RootInfo;
  readonly #key: webcrypto.CryptoKey;
  readonly #kind: KeyKind;
  readonly #cert: x509.X509Certificate;
  readonly #akiKeyId: string;

  private constructor(info: RootInfo, key: webcrypto.CryptoKey, kind: KeyKind, cert: x509.X509Certificate, akiKeyId: string) {
    this.info = info;
    this.#key = key;
    this.#kind = kind;
    this.#cert = cert;
    this.#akiKeyId = akiKeyId;
  }

  /**
   * Validate (see validateRoot, which throws inputError) and load a CA for signing.
   * The key PEM is not kept; only a non-extractable WebCrypto key derived from it.
   */
  static async load(certPem: string, keyPem: string, opts: ValidateRootOptions = {}): Promise<CaSigner> {
    const info = validateRoot(certPem, keyPem, opts);
    const key = parsePrivateKey(keyPem, opts.keySource ?? 'CA key');
    const kind = keyKind(key) as KeyKind;
    const cert = new x509.X509Certificate(pemBlocks(info.chainPem, 'CERTIFICATE')[0] as string);
    // Leaves must name the CA's own key identifier, or chain building by AKI/SKI fails for
    // supplied CAs whose SKI was not computed the usual way.
    const ski = cert.getExtension(x509.SubjectKeyIdentifierExtension);
    const akiKeyId = ski?.keyId ?? Buffer.from(await cert.publicKey.getKeyIdentifier()).toString('hex');
    return new CaSigner(info, await importSigningKey(key, kind), kind, cert, akiKeyId);
  }

  /** The CA certificate followed by its issuers, as appended to every issued leaf (PEM). */
  get chainPem(): string {
    return this.info.chainPem;
  }

  /** The certificate workloads must trust (the top of the chain; PEM). */
  get anchorPem(): string {
    return this.info.anchorPem;
  }

  /**
   * Sign a leaf. Validity is [now - CLOCK_SKEW_MS, now + ttl], clipped to the CA chain's own
   * validity. Throws IssuanceError('failed-precondition') when the CA has expired.
   * Low level: use signCsr or issueServingCert, which fix the identity and key usages.
   */
  async signLeaf(p: LeafParams): Promise<{ cert: x509.X509Certificate; chainPem: string }> {
    const now = toSeconds(p.now);
    const caNotBefore = new Date(this.info.notBefore).getTime();
    const caNotAfter = Math.min(...chainExpiries(this.info.chainPem));
    const notBefore = new Date(Math.max(now.getTime() - CLOCK_SKEW_MS, caNotBefore));
    const notAfter = new Date(Math.min(now.getTime() + p.ttl, caNotAfter));
    if (notAfter.getTime() <= now.getTime()) {
      throw new IssuanceError('failed-precondition', `the mesh CA expired on ${new Date(caNotAfter).toISOString()}; cannot issue certificates`, 'rotate the root CA (docs/pki.md)');
    }
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: p.subject,
      issuer: this.#cert.subjectName,
      notBefore,
      notAfter,
      publicKey: p.publicKey,
      signingKey: this.#key,
      signingAlgorithm: this.#kind.signAlg,
      extensions: [...p.extensions, new x509.AuthorityKeyIdentifierExtension(this.#akiKeyId)],
    });
    return { cert, chainPem: cert.toString('pem') + '\n' + this.chainPem };
  }

  /** Public data only. */
  toJSON(): { info: RootInfo } {
    return { info: this.info };
  }

  [inspect.custom](): string {
    return `CaSigner { subject: ${JSON.stringify(this.info.subject)}, notAfter: ${this.info.notAfter} }`;
  }
}

function chainExpiries(chainPem: string): number[] {
  return pemBlocks(chainPem, 'CERTIFICATE').map((p) => new x509.X509Certificate(p).notAfter.getTime());
}

/** A positive 127-bit serial with no leading zero byte (RFC 5280: positive, at most 20 octets). */
function serial(): string {
  const b = randomBytes(16);
  b[0] = ((b[0] as number) & 0x7f) | 0x40;
  return b.toString('hex');
}

/** A freshly generated key pair's CSR. `keyPem` is hidden from JSON/inspect (see CertAndKey). */
export interface CsrAndKey {
  csrPem: string;
  readonly keyPem: string;
}

/**
 * Generate an ECDSA P-256 key pair and a CSR for `spiffeId` (URI SAN; none when omitted), signed with it.
 * Runs where the workload runs: the private key stays with the caller and is never sent to the CA.
 * Throws inputError for a malformed SPIFFE ID.
 */
export async function createCsr(opts: { spiffeId?: string } = {}): Promise<CsrAndKey> {
  if (opts.spiffeId !== undefined) parseSpiffeId(opts.spiffeId);
  const keys = await generateP256();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [{ O: ['mesh'] }],
    keys,
    signingAlgorithm: P256_SIGN,
    // Without a SAN the CA fills in the identity it authenticated (the caller need not know the trust domain).
    extensions: opts.spiffeId === undefined ? [] : [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: opts.spiffeId }])],
  });
  return withPrivateKey({ csrPem: csr.toString('pem') + '\n' }, await privateKeyPem(keys.privateKey));
}

/** A signed workload identity. Public data only (the workload holds the key). */
export interface IssuedCert {
  spiffeId: string;
  /** Leaf first, then the CA chain (PEM): what the workload presents in TLS. */
  certChainPem: string;
  /** ISO 8601 UTC. */
  notBefore: string;
  notAfter: string;
  /** Lowercase hex. */
  serial: string;
}

/** Options of signCsr. */
export interface SignCsrOptions {
  /** The identity the caller authenticated as. The CSR may request this identity or none. */
  spiffeId: string;
  /** Default DEFAULT_WORKLOAD_TTL; never extends past the CA's own expiry. */
  ttl?: Ttl;
  /** Default: the clock. */
  now?: Date;
}

/**
 * Check a workload's CSR and sign it as `opts.spiffeId`. Only the CSR's public key is used: the
 * issued certificate has subject O=mesh, the SPIFFE URI SAN, EKU serverAuth+clientAuth, keyUsage
 * digitalSignature+keyEncipherment, CA:false.
 * Throws IssuanceError: 'invalid-argument' for a CSR that is not PEM, does not parse, has a bad
 * signature or an unsupported key; 'permission-denied' when it asks for any name other than
 * `opts.spiffeId`; 'failed-precondition' when the CA has expired.
 */
export async function signCsr(ca: CaSigner, csrPem: string, opts: SignCsrOptions): Promise<IssuedCert> {
  parseSpiffeId(opts.spiffeId);
  const csr = await parseCsr(csrPem);
  const san = csr.getExtension('2.5.29.17');
  if (san) {
    const names = new x509.SubjectAlternativeNameExtension(san.rawData).names.items;
    for (const n of names) {
      if (n.type !== 'url' || n.value !== opts.spiffeId) {
        throw new IssuanceError(
          'permission-denied',
          `the CSR requests ${n.type === 'url' ? '' : n.type.toUpperCase() + ':'}${n.value}, but the caller is authenticated as ${opts.spiffeId}`,
          'request only the identity of the pod\'s own ServiceAccount, or leave the SAN empty',
        );
      }
    }
  }
  const { cert, chainPem } = await ca.signLeaf({
    publicKey: csr.publicKey,
    subject: [{ O: ['mesh'] }],
    ttl: ttlMs(opts.ttl ?? DEFAULT_WORKLOAD_TTL, 'workload certificate ttl'),
    now: opts.now ?? new Date(),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: opts.spiffeId }]),
      await x509.SubjectKeyIdentifierExtension.create(csr.publicKey),
    ],
  });
  return {
    spiffeId: opts.spiffeId,
    certChainPem: chainPem,
    notBefore: cert.notBefore.toISOString(),
    notAfter: cert.notAfter.toISOString(),
    serial: cert.serialNumber.toLowerCase(),
  };
}

async function parseCsr(csrPem: string): Promise<x509.Pkcs10CertificateRequest> {
  if (csrPem.length > MAX_CSR_BYTES) throw new IssuanceError('invalid-argument', `the CSR is ${csrPem.length} bytes; the limit is ${MAX_CSR_BYTES}`);
  const blocks = pemBlocks(csrPem, '(?:NEW )?CERTIFICATE REQUEST');
  if (blocks.length !== 1) {
    throw new IssuanceError('invalid-argument', blocks.length ? 'the CSR text holds more than one request' : 'the CSR is not PEM (no "-----BEGIN CERTIFICATE REQUEST-----" block)');
  }
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest((blocks[0] as string).replace(/NEW CERTIFICATE REQUEST/g, 'CERTIFICATE REQUEST'));
  } catch {
    throw new IssuanceError('invalid-argument', 'the CSR cannot be parsed as PKCS#10');
  }
  let spki: KeyObject;
  try {
    spki = createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki' });
  } catch {
    throw new IssuanceError('invalid-argument', 'the CSR carries a public key that cannot be read');
  }
  if (!keyKind(spki)) throw new IssuanceError('invalid-argument', `the CSR has an unsupported ${keyTypeName(spki)} key`, `use ${SUPPORTED_KEYS}`);
  let ok = false;
  try {
    ok = await csr.verify();
  } catch {
    ok = false;
  }
  if (!ok) throw new IssuanceError('invalid-argument', 'the CSR signature is invalid', 'the CSR must be signed with the private key of the public key it carries');
  return csr;
}

/** Options of issueServingCert. */
export interface ServingCertOptions {
  /** DNS names the server answers to, e.g. mesh-controller.mesh-system.svc; the first is also the CN. */
  dnsNames: string[];
  /** Default DEFAULT_SERVING_TTL; never extends past the CA's own expiry. */
  ttl?: Ttl;
  now?: Date;
}

const DNS_NAME = /^(\*\.)?([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/;

/**
 * Issue a serving certificate (webhook, xDS server) with a key generated here: the key belongs to
 * the controller that asks. EKU serverAuth, DNS SANs. Returns the chain (leaf first) and the key,
 * hidden from JSON/inspect (see CertAndKey). Throws inputError for an empty list or a bad DNS name.
 */
export async function issueServingCert(ca: CaSigner, opts: ServingCertOptions): Promise<CertAndKey> {
  if (opts.dnsNames.length === 0) throw inputError('a serving certificate needs at least one DNS name');
  for (const n of opts.dnsNames) {
    if (n.length > 253 || !DNS_NAME.test(n)) throw inputError(`invalid DNS name "${n}" for a serving certificate`, 'use lowercase RFC 1123 names such as mesh-controller.mesh-system.svc');
  }
  const keys = await generateP256();
  const { chainPem } = await ca.signLeaf({
    publicKey: keys.publicKey,
    subject: [{ O: ['mesh'] }, { CN: [(opts.dnsNames[0] as string).slice(0, 64)] }],
    ttl: ttlMs(opts.ttl ?? DEFAULT_SERVING_TTL, 'serving certificate ttl'),
    now: opts.now ?? new Date(),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(opts.dnsNames.map((value) => ({ type: 'dns' as const, value }))),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return withPrivateKey({ certPem: chainPem }, await privateKeyPem(keys.privateKey));
}
