import { inputError } from '../errors.js';
import { isDns1123Label, isDns1123Subdomain } from '../names.js';

/**
 * SPIFFE identities of the mesh: `spiffe://TRUST_DOMAIN/ns/NAMESPACE/sa/SERVICEACCOUNT`.
 * Pure functions; they throw inputError for anything that is not such an identity.
 */

/** A workload identity, split into its parts. */
export interface SpiffeIdentity {
  trustDomain: string;
  namespace: string;
  serviceAccount: string;
}

// SPIFFE ID spec: trust domain is lowercase letters, digits, '.', '-', '_'; as a DNS-style name
// it has no empty label (no leading, trailing or doubled dot).
const TRUST_DOMAIN = /^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/;

/** Throws inputError unless `td` is a valid SPIFFE trust domain (e.g. `cluster.local`). */
export function checkTrustDomain(td: string): string {
  if (!TRUST_DOMAIN.test(td) || td.length > 255) {
    throw inputError(`invalid trust domain "${td}"`, 'a trust domain is lowercase letters, digits, ".", "-" and "_", e.g. cluster.local');
  }
  return td;
}

/**
 * The one place a workload SPIFFE ID is spelled: `spiffe://TD/ns/NS/sa/SA`, unchecked, for names
 * Kubernetes has already validated (the model, status tables), where throwing is not an option.
 * {@link spiffeId} is the checked form.
 */
export function formatSpiffeId(trustDomain: string, ns: string, sa: string): string {
  return `spiffe://${trustDomain}/ns/${ns}/sa/${sa}`;
}

/** The SPIFFE ID of ServiceAccount `sa` in namespace `ns`; throws inputError for invalid names. */
export function spiffeId(trustDomain: string, ns: string, sa: string): string {
  checkTrustDomain(trustDomain);
  if (!isDns1123Label(ns)) throw inputError(`invalid namespace name "${ns}" for a SPIFFE ID`, 'namespaces are DNS-1123 labels');
  if (!isDns1123Subdomain(sa)) throw inputError(`invalid ServiceAccount name "${sa}" for a SPIFFE ID`, 'ServiceAccount names are DNS-1123 subdomains');
  return formatSpiffeId(trustDomain, ns, sa);
}

/**
 * Parse a mesh workload SPIFFE ID. Throws inputError for other URIs, other path shapes,
 * query/fragment/port/userinfo, or invalid names. `spiffeId(parse(x)) === x` for every accepted x.
 */
export function parseSpiffeId(id: string): SpiffeIdentity {
  const m = /^spiffe:\/\/([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(id);
  if (!m) {
    throw inputError(`"${id}" is not a mesh SPIFFE ID`, 'expected spiffe://TRUST_DOMAIN/ns/NAMESPACE/sa/SERVICEACCOUNT');
  }
  const [, trustDomain, namespace, serviceAccount] = m as unknown as [string, string, string, string];
  spiffeId(trustDomain, namespace, serviceAccount);
  return { trustDomain, namespace, serviceAccount };
}

/** The SPIFFE ID naming a whole trust domain (`spiffe://TRUST_DOMAIN`), used in the root's SAN. */
export function trustDomainId(trustDomain: string): string {
  return `spiffe://${checkTrustDomain(trustDomain)}`;
}
