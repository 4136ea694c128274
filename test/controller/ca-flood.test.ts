// CreateCertificate under a flood of garbage tokens: few TokenReviews, few log lines, and a good
// token from the same peer still gets its certificate.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { certificateServiceClient, certificateServiceDefinition, certificateServiceHandlers, peerAddress } from '../../src/controller/ca-service.ts';
import { TOKEN_AUDIENCE } from '../../src/constants.ts';
import { CertificateAuthority, createCsr, generateRoot, type TokenReviewer } from '../../src/pki/index.ts';

let server: grpc.Server;
let client: grpc.Client & Record<string, any>;
let csrPem = '';
let clock = 1_000_000;
const reviewed: string[] = [];
const logs: string[] = [];

/** Accepts exactly the tokens 'good-1', 'good-2', ...; counts every review. */
const reviewer: TokenReviewer = {
  async tokenReview(token) {
    reviewed.push(token);
    if (!token.startsWith('good-')) return { authenticated: false, error: 'invalid bearer token' };
    return { authenticated: true, username: 'system:serviceaccount:shop:web', audiences: [TOKEN_AUDIENCE] };
  },
};

before(async () => {
  const root = await generateRoot({ trustDomain: 'example.org' });
  const ca = await CertificateAuthority.create(root, { trustDomain: 'example.org', reviewer });
  server = new grpc.Server();
  // Tests bind the CA service without TLS: what is measured is the handler, not the transport.
  server.addService(certificateServiceDefinition(), certificateServiceHandlers(() => ca, (l) => logs.push(l), { now: () => clock, peerBurst: 5, peerPerSecond: 1, logIntervalMs: 10_000 }));
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  client = new (certificateServiceClient())(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as grpc.Client & Record<string, any>;
  csrPem = (await createCsr({ spiffeId: 'spiffe://example.org/ns/shop/sa/web' })).csrPem;
});

after(() => {
  client?.close();
  server?.forceShutdown();
});

function create(token: string): Promise<{ cert_chain: string[] }> {
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${token}`);
  return new Promise((resolve, reject) => client.CreateCertificate({ csr: csrPem, validity_seconds: 0 }, md, (err: grpc.ServiceError | null, res: { cert_chain: string[] }) => (err ? reject(err) : resolve(res))));
}

/** Fire `n` calls at once; the gRPC codes they end with. */
async function flood(tokens: (i: number) => string, n: number): Promise<number[]> {
  const out = await Promise.allSettled(Array.from({ length: n }, (_, i) => create(tokens(i))));
  return out.map((r) => (r.status === 'rejected' ? (r.reason as grpc.ServiceError).code : grpc.status.OK));
}

test('2,000 calls with one garbage token: one TokenReview, a couple of log lines, and a good token works right after', async () => {
  reviewed.length = logs.length = 0;
  const codes = await flood(() => 'garbage-token-aaaaaaaa', 2000);
  assert.ok(codes.every((c) => c === grpc.status.UNAUTHENTICATED || c === grpc.status.RESOURCE_EXHAUSTED), 'every garbage call is refused');
  assert.ok(reviewed.length <= 5, `${reviewed.length} TokenReviews for one garbage token`);
  assert.ok(logs.length <= 3, `${logs.length} log lines:\n${logs.slice(0, 5).join('\n')}`);
  const res = await create('good-1');
  assert.ok(res.cert_chain.length >= 1);
  assert.ok(!logs.some((l) => l.includes('garbage-token')), 'a token appears in the log');
});

test('2,000 distinct garbage tokens from one peer: reviews stop at the peer budget, the rest is counted in one line', async () => {
  clock += 60_000;
  reviewed.length = logs.length = 0;
  const codes = await flood((i) => `garbage-${i}-${'x'.repeat(20)}`, 2000);
  assert.ok(reviewed.length <= 5, `${reviewed.length} TokenReviews`);
  assert.ok(codes.filter((c) => c === grpc.status.RESOURCE_EXHAUSTED).length >= 1995);
  // The first refusal of each reason is written at once (plus the summary of the previous test's flood).
  assert.ok(logs.length <= 3, logs.join('\n'));
  // After the interval the held-back refusals are summarised in one line with their count.
  clock += 10_000;
  await assert.rejects(create('garbage-late'), (e: grpc.ServiceError) => e.code === grpc.status.UNAUTHENTICATED);
  const summary = logs.find((l) => /^CA: 199\d more certificate requests refused from 127\.0\.0\.1: rate-limited in 1s$/.test(l));
  assert.ok(summary, logs.join('\n'));
  // Budget regained with time: a good token from the same peer is issued.
  assert.ok((await create('good-2')).cert_chain.length >= 1);
});

test('issued certificates give the budget back: a peer that renews often is never limited', async () => {
  clock += 60_000;
  for (let i = 0; i < 30; i++) assert.ok((await create(`good-renew-${i}`)).cert_chain.length >= 1);
});

test('the peer is the address without its port', () => {
  assert.equal(peerAddress('ipv4:10.0.0.7:51234'), '10.0.0.7');
  assert.equal(peerAddress('[::1]:443'), '::1');
  assert.equal(peerAddress('ipv6:[fd00::1]:8080'), 'fd00::1');
  assert.equal(peerAddress('unix:/tmp/s'), 'unix:/tmp/s');
});
