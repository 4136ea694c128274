import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { CertificateAuthority, IssuanceReason } from '../pki/index.js';
import { IssuanceError } from '../pki/errors.js';
import { ExpiringSet, KeyedBudget, RepeatLog, type Clock } from './throttle.js';

/** The .proto of the CA service, shipped in the package (package.json "files": proto). */
export const CA_PROTO = fileURLToPath(new URL('../../proto/mesh/ca/v1/ca.proto', import.meta.url));
/** Full gRPC path of CreateCertificate. */
export const CREATE_CERTIFICATE_PATH = '/mesh.ca.v1.CertificateService/CreateCertificate';

/** Request message of CreateCertificate (proto field names). */
export interface CreateCertificateRequest {
  csr: string;
  validity_seconds?: string | number;
}

/** Response message of CreateCertificate. */
export interface CreateCertificateResponse {
  cert_chain: string[];
  trust_bundle: string;
}

const STATUS: Record<IssuanceReason, grpc.status> = {
  unauthenticated: grpc.status.UNAUTHENTICATED,
  'permission-denied': grpc.status.PERMISSION_DENIED,
  'invalid-argument': grpc.status.INVALID_ARGUMENT,
  'failed-precondition': grpc.status.FAILED_PRECONDITION,
};

/** The service definition, loaded from CA_PROTO (keepCase: snake_case fields as in the .proto). */
export function certificateServiceDefinition(): grpc.ServiceDefinition {
  return certificateServiceClient().service;
}

/** A client constructor for the service (tests, and proxies written in Node). */
export function certificateServiceClient(): grpc.ServiceClientConstructor {
  const pkg = protoLoader.loadSync(CA_PROTO, { keepCase: true, longs: String, defaults: true });
  return (grpc.loadPackageDefinition(pkg).mesh as unknown as { ca: { v1: { CertificateService: grpc.ServiceClientConstructor } } }).ca.v1.CertificateService;
}

/** Split a PEM bundle into its certificates. */
export function splitPem(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)?.map((c) => `${c}\n`) ?? [];
}

/** Limits of {@link certificateServiceHandlers}; the defaults suit a cluster's worth of pods. */
export interface CertificateServiceLimits {
  /** A token a TokenReview refused is refused again without a review for this long (default 60 s). */
  negativeTtlMs?: number;
  /** Refused requests a peer address may make at once before it is turned away unreviewed (default 20)... */
  peerBurst?: number;
  /** ...and how many more per second it earns back (default 1). */
  peerPerSecond?: number;
  /** Refusals are logged once per peer and reason per this interval, then counted (default 10 s). */
  logIntervalMs?: number;
  now?: Clock;
}

/** The address of a gRPC peer without its port ("ipv4:10.0.0.7:51234" -> "10.0.0.7"): a client's new connections share it. */
export function peerAddress(peer: string): string {
  const p = peer.replace(/^(ipv4|ipv6):/, '');
  const m = /^\[(.*)\]:\d+$/.exec(p) ?? /^([^:]*):\d+$/.exec(p);
  return m ? (m[1] as string) : p;
}

/** How a refused token is remembered: a digest, never the token itself. */
function tokenKey(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/**
 * Handlers of mesh.ca.v1.CertificateService on `ca`: the caller's token comes from the
 * `authorization: Bearer TOKEN` metadata, IssuanceError reasons map to gRPC codes. Logs name the
 * identity and the outcome, never the token or any key.
 *
 * Garbage is cheap to refuse: a token a TokenReview rejected is remembered (by its SHA-256) for
 * negativeTtlMs and refused again without a review; each peer address has a budget of refusals
 * (peerBurst, refilled at peerPerSecond) and past it is answered RESOURCE_EXHAUSTED unreviewed,
 * while issued certificates give their budget back, so pods that renew never run out; refusals
 * are logged once per peer and reason per logIntervalMs, then as one line with their count.
 */
export function certificateServiceHandlers(
  ca: () => CertificateAuthority | undefined,
  log: (line: string) => void = () => undefined,
  limits: CertificateServiceLimits = {},
  /** Told each call's result (metrics): undefined when a certificate was issued, else why not. */
  onResult: (failure: string | undefined) => void = () => undefined,
): grpc.UntypedServiceImplementation {
  const now = limits.now ?? Date.now;
  const refusedTokens = new ExpiringSet(limits.negativeTtlMs ?? 60_000, now);
  const budget = new KeyedBudget(limits.peerBurst ?? 20, limits.peerPerSecond ?? 1, now);
  const refusals = new RepeatLog(log, (key, n, secs) => `CA: ${n} more certificate requests refused from ${key} in ${secs}s`, limits.logIntervalMs ?? 10_000, now);
  const refuse = (peer: string, cb: grpc.sendUnaryData<CreateCertificateResponse>, code: grpc.status, reason: string, details: string): void => {
    refusals.record(`${peer}: ${reason}`, () => `CA: refused ${peer}: ${reason}: ${details}`);
    onResult(reason);
    cb({ code, details });
  };
  const CreateCertificate = (call: grpc.ServerUnaryCall<CreateCertificateRequest, CreateCertificateResponse>, cb: grpc.sendUnaryData<CreateCertificateResponse>): void => {
    const authority = ca();
    if (!authority) {
      onResult('no-ca');
      cb({ code: grpc.status.UNAVAILABLE, details: 'the mesh CA is not configured on this controller (no root CA)' });
      return;
    }
    const peer = peerAddress(call.getPeer());
    const auth = call.metadata.get('authorization')[0];
    const m = typeof auth === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(auth) : null;
    if (!m) {
      onResult('no-token');
      cb({ code: grpc.status.UNAUTHENTICATED, details: 'no ServiceAccount token: send it as "authorization: Bearer TOKEN" metadata' });
      return;
    }
    const csr = call.request.csr ?? '';
    if (!csr.includes('CERTIFICATE REQUEST')) {
      onResult('invalid-csr');
      cb({ code: grpc.status.INVALID_ARGUMENT, details: 'csr must be a PEM-encoded PKCS#10 certificate request' });
      return;
    }
    const token = m[1] as string;
    const key = tokenKey(token);
    if (refusedTokens.has(key)) {
      refuse(peer, cb, grpc.status.UNAUTHENTICATED, 'unauthenticated', 'the ServiceAccount token was rejected (recently reviewed; not reviewed again)');
      return;
    }
    // Spent before the review (concurrent calls count), given back when a certificate is issued.
    if (!budget.take(peer)) {
      refuse(peer, cb, grpc.status.RESOURCE_EXHAUSTED, 'rate-limited', `too many refused certificate requests from ${peer}; retry in ${budget.waitSeconds(peer)}s`);
      return;
    }
    authority.issue({ token, csrPem: csr }).then(
      (r) => {
        budget.give(peer);
        log(`CA: issued ${r.spiffeId} (serial ${r.serial}, until ${r.notAfter}) to ${call.getPeer()}`);
        onResult(undefined);
        cb(null, { cert_chain: splitPem(r.certChainPem), trust_bundle: r.trustBundlePem });
      },
      (err: unknown) => {
        if (err instanceof IssuanceError) {
          if (err.reason === 'unauthenticated') refusedTokens.add(key);
          // The API server being down is not the caller's fault.
          if (err.reason === 'failed-precondition') budget.give(peer);
          refuse(peer, cb, STATUS[err.reason], err.reason, err.hint ? `${err.message} (${err.hint})` : err.message);
        } else {
          budget.give(peer);
          log(`CA: internal error for ${call.getPeer()}: ${(err as Error).message}`);
          onResult('internal');
          cb({ code: grpc.status.INTERNAL, details: 'the CA failed to sign' });
        }
      },
    );
  };
  return { CreateCertificate };
}
