// The CA's gRPC CertificateService on the TLS xDS port (never the plaintext one): callers
// authenticate with a projected ServiceAccount token that the test API server reviews
// (TokenReview, audience mesh-ca).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { certificateServiceClient, certificateServiceDefinition, certificateServiceHandlers } from '../../src/controller/ca-service.ts';
import { ServingCert } from '../../src/controller/serving-cert.ts';
import { clusterReviewer, controllerDnsNames } from '../../src/controller/setup.ts';
import { startXdsTls } from '../../src/controller/xds-tls.ts';
import { connectLive } from '../../src/cluster/live.ts';
import { TOKEN_AUDIENCE } from '../../src/constants.ts';
import { CertificateAuthority, createCsr, generateRoot } from '../../src/pki/index.ts';
import { startApiServer, type TestCluster } from '../support/kube.ts';

let c: TestCluster;
let server: grpc.Server;
let serving: ServingCert;
let client: grpc.Client & Record<string, any>;
let rootPem = '';
const logs: string[] = [];
const tokens: string[] = [];

before(async () => {
  c = await startApiServer();
  const root = await generateRoot({ trustDomain: 'example.org' });
  rootPem = root.certPem;
  const cluster = connectLive({ kubeconfig: c.kubeconfigPath });
  const ca = await CertificateAuthority.create(root, { trustDomain: 'example.org', reviewer: clusterReviewer(cluster) });
  serving = await ServingCert.create({ ca, dnsNames: controllerDnsNames('mesh-system') });
  const started = await startXdsTls([{ definition: certificateServiceDefinition(), handlers: certificateServiceHandlers(() => ca, (l) => logs.push(l)) }], serving, { host: '127.0.0.1', port: 0 });
  server = started.server;
  const Client = certificateServiceClient();
  const host = 'mesh-controller.mesh-system.svc';
  client = new Client(`127.0.0.1:${started.port}`, grpc.credentials.createSsl(Buffer.from(rootPem)), { 'grpc.ssl_target_name_override': host, 'grpc.default_authority': host }) as grpc.Client & Record<string, any>;
});

after(async () => {
  client?.close();
  serving?.stop();
  server?.forceShutdown();
  await c?.stop();
});

function create(token: string | undefined, csr: string): Promise<{ cert_chain: string[]; trust_bundle: string }> {
  const md = new grpc.Metadata();
  if (token !== undefined) md.set('authorization', `Bearer ${token}`);
  return new Promise((resolve, reject) => {
    client.CreateCertificate({ csr, validity_seconds: 0 }, md, (err: grpc.ServiceError | null, res: { cert_chain: string[]; trust_bundle: string }) => (err ? reject(err) : resolve(res)));
  });
}

function saToken(ns: string, sa: string, audiences: string[]): string {
  const t = c.server.auth.addServiceAccountToken(ns, sa, { audiences });
  tokens.push(t);
  return t;
}

test('a valid token and a CSR for its identity get a chain: leaf spiffe://TD/ns/NS/sa/SA, verifying against the root', async () => {
  const token = saToken('shop', 'web', [TOKEN_AUDIENCE]);
  const { csrPem } = await createCsr({ spiffeId: 'spiffe://example.org/ns/shop/sa/web' });
  const res = await create(token, csrPem);
  assert.ok(res.cert_chain.length >= 1);
  const leaf = new X509Certificate(res.cert_chain[0]!);
  assert.equal(leaf.subjectAltName, 'URI:spiffe://example.org/ns/shop/sa/web');
  const root = new X509Certificate(rootPem);
  const issuer = res.cert_chain.length > 1 ? new X509Certificate(res.cert_chain[1]!) : root;
  assert.ok(leaf.verify(issuer.publicKey), 'leaf signed by the chain');
  assert.ok(issuer.verify(root.publicKey), 'chain ends at the root');
  assert.match(res.trust_bundle, /BEGIN CERTIFICATE/);
  assert.ok(new X509Certificate(res.trust_bundle).fingerprint256 === root.fingerprint256);
});

test('a token valid for several audiences, ours among them, is accepted', async () => {
  const token = saToken('billing', 'api', ['other', TOKEN_AUDIENCE]);
  const { csrPem } = await createCsr({ spiffeId: 'spiffe://example.org/ns/billing/sa/api' });
  const res = await create(token, csrPem);
  assert.equal(new X509Certificate(res.cert_chain[0]!).subjectAltName, 'URI:spiffe://example.org/ns/billing/sa/api');
});

test('wrong audience, unknown token and no token are UNAUTHENTICATED', async () => {
  const { csrPem } = await createCsr({ spiffeId: 'spiffe://example.org/ns/shop/sa/web' });
  const wrongAudience = saToken('shop', 'web', ['https://kubernetes.default.svc.cluster.local']);
  for (const t of [wrongAudience, 'not-a-registered-token-123456', undefined]) {
    await assert.rejects(create(t, csrPem), (e: grpc.ServiceError) => e.code === grpc.status.UNAUTHENTICATED, String(t));
  }
});

test('a CSR for another identity is PERMISSION_DENIED; garbage is INVALID_ARGUMENT', async () => {
  const token = saToken('shop', 'web', [TOKEN_AUDIENCE]);
  const { csrPem } = await createCsr({ spiffeId: 'spiffe://example.org/ns/kube-system/sa/admin' });
  await assert.rejects(create(token, csrPem), (e: grpc.ServiceError) => e.code === grpc.status.PERMISSION_DENIED && /kube-system/.test(e.details));
  await assert.rejects(create(token, 'hello'), (e: grpc.ServiceError) => e.code === grpc.status.INVALID_ARGUMENT);
  await assert.rejects(create(token, '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n'), (e: grpc.ServiceError) => e.code === grpc.status.INVALID_ARGUMENT);
});

test('the API server down is FAILED_PRECONDITION', async () => {
  const token = saToken('shop', 'web', [TOKEN_AUDIENCE]);
  const { csrPem } = await createCsr({ spiffeId: 'spiffe://example.org/ns/shop/sa/web' });
  const remove = c.server.addFault({ resource: 'tokenreviews', code: 503 });
  try {
    await assert.rejects(create(token, csrPem), (e: grpc.ServiceError) => e.code === grpc.status.FAILED_PRECONDITION);
  } finally {
    remove();
  }
});

test('logs name identities and outcomes, never a token', () => {
  assert.ok(logs.some((l) => l.includes('issued spiffe://example.org/ns/shop/sa/web')));
  assert.ok(logs.some((l) => l.includes('refused')));
  for (const t of tokens) assert.ok(!logs.some((l) => l.includes(t)));
  assert.ok(!logs.some((l) => /PRIVATE KEY/.test(l)));
});
