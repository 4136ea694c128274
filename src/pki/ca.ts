import { inspect } from 'node:util';
import { TOKEN_AUDIENCE } from '../constants.js';
import { inputError } from '../errors.js';
import { authenticateToken, type Caller, type TokenReviewer } from './auth.js';
import { ttlMs, type Ttl } from './duration.js';
import type { CertInfo } from './info.js';
import { withPrivateKey } from './keys.js';
import { CaSigner, createCsr, DEFAULT_WORKLOAD_TTL, issueServingCert, signCsr, type IssuedCert, type ServingCertOptions } from './issue.js';
import type { CertAndKey, RootInfo } from './root.js';
import { checkTrustDomain, spiffeId } from './spiffe.js';
import { TrustBundle } from './rotation.js';

/** Options of CertificateAuthority.create. */
export interface CertificateAuthorityOptions {
  /** The mesh's trust domain (values.trustDomain). */
  trustDomain: string;
  /** Reviews callers' ServiceAccount tokens (TokenReview). */
  reviewer: TokenReviewer;
  /** Audience tokens must carry; default TOKEN_AUDIENCE. */
  audience?: string;
  /** Lifetime of workload certificates; default DEFAULT_WORKLOAD_TTL (24h). */
  workloadTtl?: Ttl;
  /** Clock; default `() => new Date()`. Tests pass a fake. */
  clock?: () => Date;
  /** Other roots workloads must keep trusting (e.g. the trust bundle ConfigMap during a rotation). */
  extraTrustPem?: string;
}

/** A workload identity issued by CertificateAuthority.issue. Public data only. */
export interface IssueResult extends IssuedCert, Caller {
  /** Every root the workload should trust (PEM), including the one that signed this certificate. */
  trustBundlePem: string;
}

/**
 * The mesh CA: authenticates a caller by its ServiceAccount token, derives its SPIFFE ID from the
 * token (never from the request), checks the CSR against it and signs it.
 * Holds the signing key only as a non-extractable WebCrypto key; JSON.stringify and util.inspect
 * show public data only. issue() may run concurrently; rotateRoot() swaps the signer atomically
 * (an issue() already past authentication finishes with the signer it started with).
 */
export class CertificateAuthority {
  readonly trustDomain: string;
  readonly audience: string;
  readonly #reviewer: TokenReviewer;
  readonly #ttl: number;
  readonly #clock: () => Date;
  readonly #bundle: TrustBundle;
  #signer: CaSigner;

  private constructor(signer: CaSigner, bundle: TrustBundle, opts: CertificateAuthorityOptions) {
    this.trustDomain = opts.trustDomain;
    this.audience = opts.audience ?? TOKEN_AUDIENCE;
    this.#reviewer = opts.reviewer;
    this.#ttl = ttlMs(opts.workloadTtl ?? DEFAULT_WORKLOAD_TTL, 'ca.workloadCertTTL');
    this.#clock = opts.clock ?? (() => new Date());
    this.#bundle = bundle;
    this.#signer = signer;
  }

  /**
   * Load the root (from the root CA Secret) and build the CA. Throws inputError when the root is
   * invalid (see validateRoot) or names another trust domain in its spiffe:// SAN.
   */
  static async create(root: CertAndKey, opts: CertificateAuthorityOptions): Promise<CertificateAuthority> {
    checkTrustDomain(opts.trustDomain);
    const clock = opts.clock ?? (() => new Date());
    const signer = await loadFor(root, opts.trustDomain, clock());
    const bundle = TrustBundle.fromPem(opts.extraTrustPem ?? '', 'trust bundle');
    bundle.add(signer.anchorPem, 'root CA');
    return new CertificateAuthority(signer, bundle, opts);
  }

  /** The CA that signs now (public data). */
  get root(): RootInfo {
    return this.#signer.info;
  }

  /** The roots workloads should trust, oldest first (public data). */
  trustAnchors(): CertInfo[] {
    return this.#bundle.list();
  }

  /** The trust bundle as PEM, as written to the trust bundle ConfigMap and sent over SDS. */
  trustBundlePem(): string {
    return this.#bundle.toPem();
  }

  /**
   * Issue a workload certificate: authenticate `token` (TokenReview, our audience, a ServiceAccount),
   * derive spiffe://TD/ns/NS/sa/SA from it, and sign `csrPem` if it asks for that identity or none.
   * Throws IssuanceError ('unauthenticated', 'permission-denied', 'invalid-argument',
   * 'failed-precondition'); messages name the identity but never the token or key material.
   */
  async issue(req: { token: string; csrPem: string }): Promise<IssueResult> {
    const caller = await authenticateToken(this.#reviewer, req.token, this.audience);
    const id = spiffeId(this.trustDomain, caller.namespace, caller.serviceAccount);
    const issued = await signCsr(this.#signer, req.csrPem, { spiffeId: id, ttl: this.#ttl, now: this.#clock() });
    return { ...issued, ...caller, trustBundlePem: this.trustBundlePem() };
  }

  /**
   * Authenticate a ServiceAccount token as issue() does (TokenReview, our audience), without
   * issuing anything. Throws IssuanceError ('unauthenticated', 'failed-precondition').
   */
  authenticate(token: string): Promise<Caller> {
    return authenticateToken(this.#reviewer, token, this.audience);
  }

  /**
   * Issue a certificate for an identity the caller has ALREADY authenticated (authenticate()),
   * with a key pair generated here: for SDS, where the control plane hands the proxy its key over
   * the authenticated TLS stream. The key is the hidden `keyPem` property (not in JSON/inspect);
   * it is never stored by the CA. Throws IssuanceError('failed-precondition') when the CA expired.
   */
  async issueWithKey(caller: Caller): Promise<IssueResult & { readonly keyPem: string }> {
    const id = spiffeId(this.trustDomain, caller.namespace, caller.serviceAccount);
    const csr = await createCsr({ spiffeId: id });
    const issued = await signCsr(this.#signer, csr.csrPem, { spiffeId: id, ttl: this.#ttl, now: this.#clock() });
    return withPrivateKey({ ...issued, ...caller, trustBundlePem: this.trustBundlePem() }, csr.keyPem);
  }

  /** A serving certificate for the controller itself (webhook, xDS); see issueServingCert. */
  async issueServingCert(opts: ServingCertOptions): Promise<CertAndKey> {
    return issueServingCert(this.#signer, { now: this.#clock(), ...opts });
  }

  /**
   * Root rotation, step 1+2: trust `next` alongside the current roots and sign with it from now
   * on. Workloads that still hold certificates from the old root keep working, because the old
   * root stays in the bundle until pruneExpiredRoots (or removeRoot) drops it.
   * Throws inputError when `next` is invalid.
   */
  async rotateRoot(next: CertAndKey): Promise<RootInfo> {
    const signer = await loadFor(next, this.trustDomain, this.#clock());
    this.#bundle.add(signer.anchorPem, 'new root CA');
    this.#signer = signer;
    return signer.info;
  }

  /**
   * Stop trusting a root (final step of a rotation, once every workload holds a certificate from
   * the new one). Refuses to remove the anchor of the current signer. Returns whether it was there.
   */
  removeRoot(fingerprint: string): boolean {
    const current = this.#bundle.list().find((i) => i.fingerprint === fingerprint.toUpperCase());
    if (current && current.fingerprint === this.#currentAnchorFingerprint()) {
      throw inputError('cannot remove the root the CA is signing with', 'rotate to a new root first');
    }
    return this.#bundle.remove(fingerprint);
  }

  /** Drop expired roots from the bundle; returns them. */
  pruneExpiredRoots(): CertInfo[] {
    return this.#bundle.removeExpired(this.#clock());
  }

  #currentAnchorFingerprint(): string {
    return TrustBundle.fromPem(this.#signer.anchorPem).list()[0]?.fingerprint ?? '';
  }

  /** Public data only. */
  toJSON(): { trustDomain: string; audience: string; root: RootInfo; trustAnchors: CertInfo[] } {
    return { trustDomain: this.trustDomain, audience: this.audience, root: this.root, trustAnchors: this.trustAnchors() };
  }

  [inspect.custom](): string {
    return `CertificateAuthority { trustDomain: ${JSON.stringify(this.trustDomain)}, root: ${JSON.stringify(this.root.subject)}, anchors: ${this.#bundle.size} }`;
  }
}

async function loadFor(root: CertAndKey, trustDomain: string, now: Date): Promise<CaSigner> {
  const signer = await CaSigner.load(root.certPem, root.keyPem, { now, certSource: 'root CA certificate', keySource: 'root CA key' });
  const td = signer.info.trustDomain;
  if (td !== null && td !== trustDomain) {
    throw inputError(`the root CA is for trust domain "${td}", but the mesh uses "${trustDomain}"`, 'generate a root for this trust domain, or set trustDomain to match');
  }
  return signer;
}
