import type { CertAndKey, CertificateAuthority } from '../pki/index.js';
import { certInfo } from '../pki/index.js';

/** Options of {@link RootReloader}. */
export interface RootReloaderOptions {
  ca: CertificateAuthority;
  /** Read the root as configured now (Secret mesh-root-ca, or the --ca-cert/--ca-key files); throws or returns `why` when it cannot. */
  read: () => Promise<{ root?: CertAndKey; why?: string }>;
  /** Also check every this many ms (0: only when check() is called). */
  everyMs?: number;
  log?: (line: string) => void;
  /** Called after the CA switched to a new root (re-issue serving certificates, publish the bundle). */
  onRotated?: () => void | Promise<void>;
}

/**
 * Notices a root replaced where the controller reads it and rotates the CA onto it
 * (CertificateAuthority.rotateRoot: the old root stays in the trust bundle, so certificates it
 * signed keep verifying). When a read fails or the new root is refused, the last good root stays
 * and the reason is logged once (again only when it changes). Checks are serialised.
 */
export class RootReloader {
  readonly #opts: RootReloaderOptions;
  #timer: NodeJS.Timeout | undefined;
  #chain: Promise<boolean> = Promise.resolve(false);
  #lastProblem = '';

  constructor(opts: RootReloaderOptions) {
    this.#opts = opts;
    if (opts.everyMs) {
      this.#timer = setInterval(() => void this.check(), opts.everyMs);
      this.#timer.unref();
    }
  }

  /** Read the root now; resolves to whether the CA moved to a new one. Never rejects. */
  check(): Promise<boolean> {
    this.#chain = this.#chain.then(() => this.#check());
    return this.#chain;
  }

  async #check(): Promise<boolean> {
    const { ca, log } = this.#opts;
    let next: CertAndKey;
    try {
      const r = await this.#opts.read();
      if (!r.root) throw new Error(r.why ?? 'no root CA');
      next = r.root;
      if (certInfo(next.certPem).fingerprint === ca.root.fingerprint) {
        this.#lastProblem = '';
        return false;
      }
      const before = ca.root;
      const now = await ca.rotateRoot(next);
      this.#lastProblem = '';
      log?.(`CA: root changed: now signing as "${now.subject}" (serial ${now.serial}); the old root (serial ${before.serial}) stays trusted`);
    } catch (err) {
      const msg = (err as Error).message;
      if (msg !== this.#lastProblem) log?.(`CA: cannot reload the root (keeping the current one): ${msg}`);
      this.#lastProblem = msg;
      return false;
    }
    try {
      await this.#opts.onRotated?.();
    } catch (err) {
      log?.(`CA: after the root change: ${(err as Error).message}`);
    }
    return true;
  }

  /** Stop the periodic check. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
