import { createHash } from 'node:crypto';
import { encodeResource } from './encode.js';
import { TYPE } from './protos.js';
import type { SnapshotResource } from './snapshot.js';
import { SIDECAR, type Msg, type ProxyInfo } from './translate.js';

/**
 * SDS on the ADS stream: the Secret resources a sidecar's config names (`default`, its workload
 * certificate and key; `ROOTCA`, the trust bundle), and the contract between the ADS server and
 * whoever issues them per stream (src/controller/identity.ts). Secrets are per stream, never part
 * of a shared snapshot: each stream holds its own key.
 */

/** The certificate a stream was served, as /debug/syncz shows it (public data only). */
export interface ServedCertificate {
  serial: string;
  notBefore: string;
  notAfter: string;
  /** When the control plane re-issues it (half its lifetime, see src/pki needsRotation). */
  renewAt: string;
  /** False once the identity stopped being valid (e.g. its pod was deleted): it will not be renewed. */
  renewing: boolean;
  /** Certificates issued to this stream so far (1 = the first). */
  issued: number;
}

/** Who a stream is and whether it gets secrets, as /debug/syncz shows it. Never a token or key. */
export interface StreamIdentity {
  /** The stream's token was reviewed, matches the node and the transport is TLS: secrets are served. */
  authenticated: boolean;
  /** Why secrets are not served (or no longer renewed); absent when all is well. */
  reason?: string;
  /** `tls` or `plaintext`: key material only ever goes over TLS. */
  transport: 'tls' | 'plaintext';
  spiffeId?: string;
  namespace?: string;
  serviceAccount?: string;
  /** Pod the token is bound to. */
  pod?: string;
  certificate?: ServedCertificate;
}

/** The Secret resources of one stream, versioned like a snapshot type. */
export interface SecretSet {
  version: string;
  /** `msg` is the config_dump form (private key redacted); `any` is what goes on the wire. */
  resources: ReadonlyMap<string, SnapshotResource>;
}

/** One stream's secrets, owned by its SecretProvider. */
export interface StreamSecrets {
  /** The secrets to serve now; undefined while authentication or issuance is still running (no response yet). */
  current(): SecretSet | undefined;
  /** Identity and certificate state (public data). */
  identity(): StreamIdentity;
  /** The stream subscribed to SDS: issue a certificate if it has none yet. */
  want(): void;
  /** The stream ended: forget its key and stop renewing. */
  close(): void;
}

/** What the ADS server knows about a stream when it opens one's secrets. */
export interface SecretStreamInfo {
  streamId: number;
  node: ProxyInfo;
  /** The bearer token from the stream's `authorization` metadata; never logged or kept in status. */
  token?: string;
  transport: 'tls' | 'plaintext';
  /** Called whenever current() changes (issued, renewed, refused), so the server can push. */
  onChange: () => void;
}

/** Issues per-stream secrets (the controller's WorkloadIdentities). */
export interface SecretProvider {
  open(info: SecretStreamInfo): StreamSecrets;
}

/** Version of a stream's secrets: from public parts only (serial and bundle), never from key bytes. */
export function secretsVersion(serial: string, trustBundlePem: string): string {
  return `${serial.slice(0, 12)}-${createHash('sha256').update(trustBundlePem).digest('hex').slice(0, 8)}`;
}

/**
 * The two Secrets of a sidecar, as plain Envoy messages (pure): `default` = tls_certificate
 * {certificate_chain, private_key} and `ROOTCA` = validation_context {trusted_ca} with every root.
 */
export function secretMessages(o: { certChainPem: string; keyPem: string; trustBundlePem: string }): Record<string, Msg> {
  return {
    [SIDECAR.certSecret]: { name: SIDECAR.certSecret, tls_certificate: { certificate_chain: { inline_string: o.certChainPem }, private_key: { inline_string: o.keyPem } } },
    [SIDECAR.rootSecret]: { name: SIDECAR.rootSecret, validation_context: { trusted_ca: { inline_string: o.trustBundlePem } } },
  };
}

/** Copy of a Secret message with its private key replaced, for config_dump (as Envoy's own dump does). */
function redacted(msg: Msg): Msg {
  const tls = msg.tls_certificate as Msg | undefined;
  return tls ? { ...msg, tls_certificate: { ...tls, private_key: '[redacted]' } } : msg;
}

/**
 * Encode a stream's Secrets (strictly checked against the protos, like every resource). The
 * returned `msg`s are redacted; only the wire bytes carry the key. Throws on an invalid message.
 */
export function encodeSecrets(messages: Record<string, Msg>, version: string): SecretSet {
  const resources = new Map<string, SnapshotResource>();
  for (const name of Object.keys(messages).sort()) {
    const msg = messages[name] as Msg;
    resources.set(name, { name, msg: redacted(msg), any: encodeResource(TYPE.secret, msg) });
  }
  return { version, resources };
}

/** A stream that gets no secrets (missing names), with `version` saying which refusal it is. */
export function noSecrets(): SecretSet {
  return { version: 'empty', resources: new Map() };
}
