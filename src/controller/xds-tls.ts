import * as grpc from '@grpc/grpc-js';
import type { ServingCert } from './serving-cert.js';

/** One gRPC service to register: its definition and handlers. */
export interface GrpcService {
  definition: grpc.ServiceDefinition;
  handlers: grpc.UntypedServiceImplementation;
}

/**
 * Server credentials that serve `serving`'s current certificate and follow its renewals (new
 * handshakes get the new one; open connections keep theirs). Client certificates are asked for but
 * not required: proxies authenticate with their ServiceAccount token in call metadata.
 */
export function servingCredentials(serving: ServingCert): grpc.ServerCredentials {
  const provider = serving.certificateProvider();
  // grpc-js 1.14 declares (caProvider, identityProvider, ...) but its constructor takes the identity
  // provider first; ours provides both (identity = serving chain, CA = trust bundle), so the order
  // cannot matter.
  return grpc.experimental.createCertificateProviderServerCredentials(provider, provider, false);
}

/**
 * Start the TLS xDS server (`--xds-tls-port`): `services` (the control plane's ADS service — the
 * same AdsServer instance as the plaintext port — and the CA's CertificateService) over TLS with
 * `serving`'s certificate. Resolves to the server and the bound port (0 picks one).
 */
export async function startXdsTls(services: readonly GrpcService[], serving: ServingCert, listen: { host?: string; port?: number }): Promise<{ server: grpc.Server; port: number }> {
  // The same keepalive settings as the plaintext ADS server (ControlPlane.start).
  const server = new grpc.Server({ 'grpc.keepalive_time_ms': 30_000, 'grpc.keepalive_timeout_ms': 10_000, 'grpc.http2.min_ping_interval_without_data_ms': 5_000 });
  for (const s of services) server.addService(s.definition, s.handlers);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${listen.host ?? '0.0.0.0'}:${listen.port ?? 0}`, servingCredentials(serving), (err, p) => (err ? reject(err) : resolve(p)));
  });
  return { server, port };
}
