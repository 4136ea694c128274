// The mesh CA's gRPC service on a TLS port, as the controller serves it on --xds-tls-port, with a
// token reviewer that needs no API server: the token "tok-NS-SA" is ServiceAccount NS/SA (valid
// for our audience), anything else is refused.
import * as grpc from '@grpc/grpc-js';
import { certificateServiceDefinition, certificateServiceHandlers } from '../../src/controller/ca-service.ts';
import { TOKEN_AUDIENCE } from '../../src/constants.ts';
import { CaSigner, CertificateAuthority, generateRoot, issueServingCert, type TokenReviewer, type Ttl } from '../../src/pki/index.ts';

/** The name the CA's serving certificate carries (clients set it as the TLS server name). */
export const CA_SERVER_NAME = 'mesh-controller.mesh-system.svc';

/** A token the test reviewer accepts for ServiceAccount ns/sa. */
export const saToken = (ns: string, sa: string): string => `tok-${ns}-${sa}`;

const reviewer: TokenReviewer = {
  async tokenReview(token, audiences) {
    const m = /^tok-([a-z0-9-]+)-([a-z0-9-]+)$/.exec(token);
    if (!m) return { authenticated: false, error: 'invalid bearer token' };
    return { authenticated: true, username: `system:serviceaccount:${m[1]}:${m[2]}`, audiences: audiences.filter((a) => a === TOKEN_AUDIENCE) };
  },
};

/** A running TLS CA: its root, port and the CA's log lines (which must never hold a token or key). */
export interface TlsCa {
  rootPem: string;
  port: number;
  logs: string[];
  stop(): Promise<void>;
}

export async function startTlsCa(opts: { trustDomain?: string; workloadTtl?: Ttl; clock?: () => Date } = {}): Promise<TlsCa> {
  const trustDomain = opts.trustDomain ?? 'cluster.local';
  const root = await generateRoot({ trustDomain });
  const ca = await CertificateAuthority.create(root, { trustDomain, reviewer, ...(opts.workloadTtl ? { workloadTtl: opts.workloadTtl } : {}), ...(opts.clock ? { clock: opts.clock } : {}) });
  const serving = await issueServingCert(await CaSigner.load(root.certPem, root.keyPem), { dnsNames: [CA_SERVER_NAME] });
  const logs: string[] = [];
  const server = new grpc.Server();
  server.addService(certificateServiceDefinition(), certificateServiceHandlers(() => ca, (l) => logs.push(l)));
  const creds = grpc.ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(serving.certPem), private_key: Buffer.from(serving.keyPem) }], false);
  const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', creds, (e, p) => (e ? rej(e) : res(p))));
  return { rootPem: root.certPem, port, logs, stop: () => new Promise<void>((r) => server.tryShutdown(() => r())) };
}
