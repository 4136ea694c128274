import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { CertificateAuthority, IssuanceReason } from '../pki/index.js';
import { IssuanceError } from '../pki/errors.js';

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

/**
 * Handlers of mesh.ca.v1.CertificateService on `ca`: the caller's token comes from the
 * `authorization: Bearer TOKEN` metadata, IssuanceError reasons map to gRPC codes. Logs name the
 * identity and the outcome, never the token or any key.
 */
export function certificateServiceHandlers(ca: () => CertificateAuthority | undefined, log: (line: string) => void = () => undefined): grpc.UntypedServiceImplementation {
  const CreateCertificate = (call: grpc.ServerUnaryCall<CreateCertificateRequest, CreateCertificateResponse>, cb: grpc.sendUnaryData<CreateCertificateResponse>): void => {
    const authority = ca();
    if (!authority) {
      cb({ code: grpc.status.UNAVAILABLE, details: 'the mesh CA is not configured on this controller (no root CA)' });
      return;
    }
    const auth = call.metadata.get('authorization')[0];
    const m = typeof auth === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(auth) : null;
    if (!m) {
      cb({ code: grpc.status.UNAUTHENTICATED, details: 'no ServiceAccount token: send it as "authorization: Bearer TOKEN" metadata' });
      return;
    }
    const csr = call.request.csr ?? '';
    if (!csr.includes('CERTIFICATE REQUEST')) {
      cb({ code: grpc.status.INVALID_ARGUMENT, details: 'csr must be a PEM-encoded PKCS#10 certificate request' });
      return;
    }
    authority.issue({ token: m[1] as string, csrPem: csr }).then(
      (r) => {
        log(`CA: issued ${r.spiffeId} (serial ${r.serial}, until ${r.notAfter}) to ${call.getPeer()}`);
        cb(null, { cert_chain: splitPem(r.certChainPem), trust_bundle: r.trustBundlePem });
      },
      (err: unknown) => {
        if (err instanceof IssuanceError) {
          log(`CA: refused ${call.getPeer()}: ${err.reason}: ${err.message}`);
          cb({ code: STATUS[err.reason], details: err.hint ? `${err.message} (${err.hint})` : err.message });
        } else {
          log(`CA: internal error for ${call.getPeer()}: ${(err as Error).message}`);
          cb({ code: grpc.status.INTERNAL, details: 'the CA failed to sign' });
        }
      },
    );
  };
  return { CreateCertificate };
}
