/**
 * The mesh's PKI: root CA generation and validation, SPIFFE workload identities, CSR signing,
 * serving certificates, trust bundles and rotation, and caller authentication before issuance.
 * Heavy (loads @peculiar/x509): import it lazily from handlers, never from a command file.
 * Private keys appear only as the hidden `keyPem` property of results that must hand one back.
 */
export { ttlMs, type Ttl } from './duration.js';
export { IssuanceError, type IssuanceReason } from './errors.js';
export { certInfo, type CertInfo } from './info.js';
export { CaSigner, CLOCK_SKEW_MS, createCsr, DEFAULT_SERVING_TTL, DEFAULT_WORKLOAD_TTL, issueServingCert, signCsr } from './issue.js';
export type { CsrAndKey, IssuedCert, ServingCertOptions, SignCsrOptions } from './issue.js';
export { DEFAULT_ROOT_TTL, generateRoot, ROOT_EXPIRY_WARNING_MS, validateRoot } from './root.js';
export type { CertAndKey, GenerateRootOptions, RootInfo, ValidateRootOptions } from './root.js';
export { checkTrustDomain, formatSpiffeId, parseSpiffeId, spiffeId, trustDomainId, type SpiffeIdentity } from './spiffe.js';
export { authenticateToken, POD_NAME_EXTRA, POD_UID_EXTRA, type Caller, type TokenReviewer, type TokenReviewResult } from './auth.js';
export { CertificateAuthority, type CertificateAuthorityOptions, type IssueResult } from './ca.js';
export { DEFAULT_MIN_REMAINING_MS, needsRotation, rotateAt, TrustBundle } from './rotation.js';
