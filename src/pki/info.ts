import type { X509Certificate as NodeCert } from 'node:crypto';
import { parseCertificate } from './pem.js';
import { x509 } from './x509.js';

/**
 * What `mesh proxy-config secret` and `mesh check` show about a certificate. Public data only:
 * no key material. Field names are stable (they appear in -o json).
 */
export interface CertInfo {
  /** RFC 4514-style one-line subject, e.g. "O=mesh, CN=mesh root CA (cluster.local)". */
  subject: string;
  issuer: string;
  /** First spiffe:// URI SAN, or null. */
  spiffeId: string | null;
  /** DNS SANs, in certificate order. */
  dnsNames: string[];
  /** ISO 8601, UTC. */
  notBefore: string;
  notAfter: string;
  /** Serial number, lowercase hex. */
  serial: string;
  isCA: boolean;
  /** SHA-256 fingerprint, colon-separated uppercase hex (as `openssl x509 -fingerprint -sha256`). */
  fingerprint: string;
}

/** Subject alternative names of a parsed certificate. */
export function sanOf(cert: NodeCert): { uris: string[]; dnsNames: string[]; other: string[] } {
  const pc = new x509.X509Certificate(cert.raw);
  const ext = pc.getExtension(x509.SubjectAlternativeNameExtension);
  const out = { uris: [] as string[], dnsNames: [] as string[], other: [] as string[] };
  for (const n of ext?.names.items ?? []) {
    if (n.type === 'url') out.uris.push(n.value);
    else if (n.type === 'dns') out.dnsNames.push(n.value);
    else out.other.push(`${n.type}:${n.value}`);
  }
  return out;
}

/** Summarise a node X509Certificate (see CertInfo). */
export function describe(cert: NodeCert): CertInfo {
  const pc = new x509.X509Certificate(cert.raw);
  const san = sanOf(cert);
  return {
    subject: pc.subject,
    issuer: pc.issuer,
    spiffeId: san.uris.find((u) => u.startsWith('spiffe://')) ?? null,
    dnsNames: san.dnsNames,
    notBefore: pc.notBefore.toISOString(),
    notAfter: pc.notAfter.toISOString(),
    serial: pc.serialNumber.toLowerCase(),
    isCA: cert.ca,
    fingerprint: cert.fingerprint256,
  };
}

/**
 * Summarise the first certificate of a PEM text (a leaf, or the leaf of a chain).
 * Throws inputError naming `source` when the text holds no parsable certificate. Pure; sync.
 */
export function certInfo(pem: string, source = 'certificate'): CertInfo {
  return describe(parseCertificate(pem, source));
}
