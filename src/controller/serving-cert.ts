import type { experimental } from '@grpc/grpc-js';
import type { CertAndKey, CertInfo, ServingCertOptions, Ttl } from '../pki/index.js';
import { certInfo, rotateAt } from '../pki/index.js';

/** What the holder needs from the CA (CertificateAuthority has it). */
export interface ServingCertIssuer {
  /** The CA certificate that signs now (its fingerprint tells a root change apart). */
  readonly root: { fingerprint: string };
  issueServingCert(opts: ServingCertOptions): Promise<CertAndKey>;
  /** Every root clients should trust (PEM). */
  trustBundlePem(): string;
}

/** Options of {@link ServingCert.create}. */
export interface ServingCertHolderOptions {
  ca: ServingCertIssuer;
  /** DNS SANs (the first is also the CN), e.g. controllerDnsNames(namespace). */
  dnsNames: string[];
  /** Lifetime of each certificate; default the CA's DEFAULT_SERVING_TTL (720h). */
  ttl?: Ttl;
  /** Clock for rotation decisions only (issuance uses the CA's clock); tests pass a fake. */
  clock?: () => Date;
  /** Shortest wait between two timer checks, and the retry delay after a failed issuance (default 60 s). */
  minCheckMs?: number;
  log?: (line: string) => void;
}

/** Why a certificate was (re-)issued, as logged and passed to listeners. */
export type RenewReason = 'half-life' | 'new root';

/** A listener of new serving certificates: `cert.keyPem` (hidden property) is the new key. */
export type ServingCertListener = (cert: CertAndKey, info: CertInfo, reason: RenewReason) => void;

const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The controller's serving certificate (webhook, TLS xDS port), kept current: issued from the CA
 * with a key generated in memory (never written or logged), re-issued when `needsRotation` says so
 * (half of the lifetime, see src/pki/rotation.ts) or when the CA signs with another root than the
 * one that signed the current certificate, and announced to listeners. Servers swap their secure
 * context on the announcement, so new handshakes get the new certificate and existing connections
 * keep theirs. A failed re-issue keeps the current certificate and is retried. refresh() calls are
 * serialised: concurrent callers share one issuance.
 */
export class ServingCert {
  readonly #opts: ServingCertHolderOptions;
  readonly #clock: () => Date;
  readonly #listeners = new Set<ServingCertListener>();
  #cert: CertAndKey;
  #info: CertInfo;
  #root: string;
  #timer: NodeJS.Timeout | undefined;
  #chain: Promise<boolean> = Promise.resolve(false);
  #stopped = false;

  private constructor(opts: ServingCertHolderOptions, cert: CertAndKey, root: string) {
    this.#opts = opts;
    this.#clock = opts.clock ?? (() => new Date());
    this.#cert = cert;
    this.#info = certInfo(cert.certPem);
    this.#root = root;
  }

  /** Issue the first certificate (throws what the CA throws) and start the rotation timer. */
  static async create(opts: ServingCertHolderOptions): Promise<ServingCert> {
    const root = opts.ca.root.fingerprint;
    const holder = new ServingCert(opts, await opts.ca.issueServingCert(issueOpts(opts)), root);
    holder.#schedule();
    return holder;
  }

  /** The current chain (leaf first) and, as the hidden `keyPem` property, its key. */
  get current(): CertAndKey {
    return this.#cert;
  }

  /** Public data of the current leaf (serial, expiry, SANs). */
  get info(): CertInfo {
    return this.#info;
  }

  /** Call `listener` with every new certificate (not the current one). Returns the unsubscribe function. */
  onChange(listener: ServingCertListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Re-issue now if the certificate is due (half of its lifetime passed at `clock()`) or the CA's
   * signing root changed. Resolves to whether a new certificate was issued; never rejects (a failed
   * issuance is logged and retried by the timer).
   */
  refresh(): Promise<boolean> {
    this.#chain = this.#chain.then(() => this.#refresh());
    return this.#chain;
  }

  async #refresh(): Promise<boolean> {
    if (this.#stopped) return false;
    const root = this.#opts.ca.root.fingerprint;
    const reason: RenewReason | undefined = root !== this.#root ? 'new root' : this.#clock().getTime() >= rotateAt(this.#cert.certPem).getTime() ? 'half-life' : undefined;
    if (!reason) {
      this.#schedule();
      return false;
    }
    try {
      this.#cert = await this.#opts.ca.issueServingCert(issueOpts(this.#opts));
    } catch (err) {
      this.#opts.log?.(`serving certificate: cannot renew (${reason}; keeping serial ${this.#info.serial} until ${this.#info.notAfter}): ${(err as Error).message}`);
      this.#schedule(true);
      return false;
    }
    this.#info = certInfo(this.#cert.certPem);
    this.#root = root;
    this.#announce(reason);
    this.#schedule();
    return true;
  }

  #announce(reason: RenewReason): void {
    this.#opts.log?.(`serving certificate renewed (${reason}): serial ${this.#info.serial}, until ${this.#info.notAfter}, for ${this.#info.dnsNames.join(', ')}`);
    for (const l of [...this.#listeners]) {
      try {
        l(this.#cert, this.#info, reason);
      } catch (err) {
        this.#opts.log?.(`serving certificate: a server could not take the renewed certificate: ${(err as Error).message}`);
      }
    }
  }

  #schedule(retry = false): void {
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#stopped) return;
    const min = this.#opts.minCheckMs ?? 60_000;
    const due = rotateAt(this.#cert.certPem).getTime() - this.#clock().getTime();
    const wait = retry ? min : Math.min(MAX_TIMER_MS, Math.max(min, due));
    this.#timer = setTimeout(() => void this.refresh(), wait);
    this.#timer.unref();
  }

  /** Stop the timer; listeners get nothing more. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#listeners.clear();
  }

  /**
   * A grpc-js CertificateProvider over this holder: identity = the serving chain and key, CA = the
   * trust bundle. For experimental.createCertificateProviderServerCredentials, so a gRPC server
   * picks up a renewed certificate for new handshakes without a restart.
   */
  certificateProvider(): experimental.CertificateProvider {
    return new HolderProvider(this);
  }

  /** The trust bundle the CA publishes now (PEM). */
  trustBundlePem(): string {
    return this.#opts.ca.trustBundlePem();
  }
}

function issueOpts(o: ServingCertHolderOptions): ServingCertOptions {
  return o.ttl === undefined ? { dnsNames: o.dnsNames } : { dnsNames: o.dnsNames, ttl: o.ttl };
}

/**
 * Listeners get the current value on the next tick after subscribing, as grpc-js's own
 * FileWatcherCertificateProvider does: the server registers its watcher only after adding ours.
 */
class HolderProvider implements experimental.CertificateProvider {
  readonly #identity = new Set<experimental.IdentityCertificateUpdateListener>();
  readonly #ca = new Set<experimental.CaCertificateUpdateListener>();
  #unsubscribe: (() => void) | undefined;

  constructor(private readonly holder: ServingCert) {}

  #identityUpdate(cert: CertAndKey): experimental.IdentityCertificateUpdate {
    return { certificate: Buffer.from(cert.certPem), privateKey: Buffer.from(cert.keyPem) };
  }

  #caUpdate(): experimental.CaCertificateUpdate {
    return { caCertificate: Buffer.from(this.holder.trustBundlePem()) };
  }

  #follow(): void {
    if (this.#unsubscribe || this.#identity.size + this.#ca.size === 0) return;
    this.#unsubscribe = this.holder.onChange((cert) => {
      // A new root comes with a new certificate: send the bundle first so both match.
      for (const l of this.#ca) l(this.#caUpdate());
      for (const l of this.#identity) l(this.#identityUpdate(cert));
    });
  }

  #unfollow(): void {
    if (this.#identity.size + this.#ca.size > 0) return;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  addCaCertificateListener(listener: experimental.CaCertificateUpdateListener): void {
    this.#ca.add(listener);
    this.#follow();
    process.nextTick(() => listener(this.#caUpdate()));
  }

  removeCaCertificateListener(listener: experimental.CaCertificateUpdateListener): void {
    this.#ca.delete(listener);
    this.#unfollow();
  }

  addIdentityCertificateListener(listener: experimental.IdentityCertificateUpdateListener): void {
    this.#identity.add(listener);
    this.#follow();
    process.nextTick(() => listener(this.#identityUpdate(this.holder.current)));
  }

  removeIdentityCertificateListener(listener: experimental.IdentityCertificateUpdateListener): void {
    this.#identity.delete(listener);
    this.#unfollow();
  }
}
