import type { X509Certificate as NodeCert } from 'node:crypto';
import { inputError } from '../errors.js';
import { describe, type CertInfo } from './info.js';
import { parseCertificate, parseCertificates } from './pem.js';

/**
 * The roots workloads trust. During a root rotation it holds the old and the new root side by
 * side, so certificates from either verify while workloads move to the new one.
 * Not thread-safe in the sense of concurrent mutation from several async tasks interleaving
 * add/remove with toPem; callers that share one should serialise changes.
 */
export class TrustBundle {
  readonly #roots = new Map<string, NodeCert>();

  /** A bundle of every certificate in `pem` (concatenated PEM, e.g. a ConfigMap's ca.crt); each must be a CA. */
  static fromPem(pem: string, source = 'trust bundle'): TrustBundle {
    const b = new TrustBundle();
    if (pem.trim() === '') return b;
    for (const c of parseCertificates(pem, source)) b.#add(c, source);
    return b;
  }

  /**
   * Add a CA certificate (the first in `certPem`). Returns false when it is already present
   * (same SHA-256 fingerprint). Throws inputError when it is not a CA.
   */
  add(certPem: string, source = 'certificate'): boolean {
    return this.#add(parseCertificate(certPem, source), source);
  }

  #add(c: NodeCert, source: string): boolean {
    if (!c.ca) throw inputError(`${source} is not a CA certificate, so it cannot be a trust anchor`, 'add root (or CA) certificates only');
    if (this.#roots.has(c.fingerprint256)) return false;
    this.#roots.set(c.fingerprint256, c);
    return true;
  }

  /** Remove the root with this SHA-256 fingerprint (as in CertInfo.fingerprint). Returns whether it was present. */
  remove(fingerprint: string): boolean {
    return this.#roots.delete(fingerprint.toUpperCase());
  }

  /** Remove every root whose NotAfter is before `now`; returns what was removed. */
  removeExpired(now: Date = new Date()): CertInfo[] {
    const gone: CertInfo[] = [];
    for (const [fp, c] of this.#roots) {
      if (new Date(c.validTo).getTime() < now.getTime()) {
        gone.push(describe(c));
        this.#roots.delete(fp);
      }
    }
    return sortInfos(gone);
  }

  /** The roots, oldest NotBefore first (ties by fingerprint): a stable order. */
  list(): CertInfo[] {
    return sortInfos([...this.#roots.values()].map(describe));
  }

  /** Number of roots. */
  get size(): number {
    return this.#roots.size;
  }

  /** Whether a certificate with the same fingerprint is in the bundle. */
  has(certPem: string): boolean {
    return this.#roots.has(parseCertificate(certPem).fingerprint256);
  }

  /** The bundle as concatenated PEM in list() order; the same roots always give the same bytes. */
  toPem(): string {
    const byFp = new Map([...this.#roots.values()].map((c) => [c.fingerprint256, c] as const));
    return this.list()
      .map((i) => (byFp.get(i.fingerprint) as NodeCert).toString())
      .join('');
  }

  /** Public data only. */
  toJSON(): CertInfo[] {
    return this.list();
  }
}

function sortInfos(list: CertInfo[]): CertInfo[] {
  return list.sort((a, b) => a.notBefore.localeCompare(b.notBefore) || a.fingerprint.localeCompare(b.fingerprint));
}

/** Rotate at least this long before expiry, whatever the fraction says. */
export const DEFAULT_MIN_REMAINING_MS = 5 * 60_000;

/**
 * When a certificate (the first in `certPem`) should be replaced: after `fraction` of its
 * lifetime, or `minRemainingMs` before NotAfter, whichever comes first. Pure.
 */
export function rotateAt(certPem: string, fraction = 0.5, minRemainingMs = DEFAULT_MIN_REMAINING_MS): Date {
  if (!(fraction > 0 && fraction <= 1)) throw inputError(`rotation fraction must be in (0, 1] (got ${fraction})`);
  const c = parseCertificate(certPem);
  const from = new Date(c.validFrom).getTime();
  const to = new Date(c.validTo).getTime();
  return new Date(Math.min(from + (to - from) * fraction, to - minRemainingMs));
}

/**
 * Whether a certificate needs replacing at `now`: more than `fraction` (default half) of its
 * lifetime has passed, or fewer than `minRemainingMs` remain, or it has expired. Pure.
 */
export function needsRotation(certPem: string, now: Date = new Date(), fraction = 0.5, minRemainingMs = DEFAULT_MIN_REMAINING_MS): boolean {
  return now.getTime() >= rotateAt(certPem, fraction, minRemainingMs).getTime();
}
