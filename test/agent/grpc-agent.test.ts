// mesh grpc-agent: a proxyless gRPC workload's identity agent. It asks our CA (over TLS, with its
// ServiceAccount token) for a certificate, keeps cert/key/trust bundle and the gRPC xDS bootstrap
// in a directory, and renews at half-life.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateRoot } from '../../src/pki/index.ts';
import { AGENT_FILES, grpcBootstrap, runGrpcAgent, tokenClaims, validateGrpcAgentOptions, type GrpcAgentOptions } from '../../src/agent/grpc-agent.ts';
import { captureUi } from '../support/ui.ts';
import { runMesh, runMeshInProcess } from '../support/cli.ts';
import { CA_SERVER_NAME, saToken, startTlsCa, type TlsCa } from '../support/ca-server.ts';

const TD = 'cluster.local';
let dir: string;
let rootPem: string;
let ca: TlsCa;
let clock = new Date();

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mesh-agent-'));
  ca = await startTlsCa({ trustDomain: TD, workloadTtl: '1h', clock: () => clock });
  rootPem = ca.rootPem;
  writeFileSync(join(dir, 'ca.crt'), rootPem);
});

after(async () => {
  await ca.stop();
  rmSync(dir, { recursive: true, force: true });
});

function options(name: string, token: string, extra: Partial<GrpcAgentOptions> = {}): GrpcAgentOptions {
  writeFileSync(join(dir, `${name}.token`), token);
  return {
    ...validateGrpcAgentOptions({ outDir: join(dir, name), caAddress: `127.0.0.1:${ca.port}`, caServerName: CA_SERVER_NAME, trustBundle: join(dir, 'ca.crt'), tokenFile: join(dir, `${name}.token`), once: true }),
    ...extra,
  };
}
const POD = { POD_NAME: 'front-1', POD_NAMESPACE: 'web' };

test('--once: a certificate for the token\'s identity, its key (0600, never sent), the trust bundle and a gRPC bootstrap that uses them', async () => {
  const { ui, err } = captureUi();
  const o = options('once', saToken('web', 'front'));
  assert.equal(await runGrpcAgent(o, ui, { env: POD }), 0);
  const read = (f: string): string => readFileSync(join(o.outDir, f), 'utf8');
  const leaf = new X509Certificate(read(AGENT_FILES.cert));
  assert.equal(leaf.subjectAltName, `URI:spiffe://${TD}/ns/web/sa/front`);
  assert.ok(leaf.verify(new X509Certificate(rootPem).publicKey), 'chained to the root');
  const key = createPrivateKey(read(AGENT_FILES.key));
  assert.equal(createPublicKey(key).export({ type: 'spki', format: 'pem' }), leaf.publicKey.export({ type: 'spki', format: 'pem' }), 'the key matches the certificate');
  assert.equal(statSync(join(o.outDir, AGENT_FILES.key)).mode & 0o777, 0o600);
  assert.equal(new X509Certificate(read(AGENT_FILES.ca)).fingerprint256, new X509Certificate(rootPem).fingerprint256);
  const boot = JSON.parse(read(AGENT_FILES.bootstrap)) as { node: { metadata: Record<string, string> }; certificate_providers: { default: { config: Record<string, string> } } };
  assert.deepEqual(boot, grpcBootstrap({ xdsAddress: o.xdsAddress, namespace: 'web', pod: 'front-1', dir: o.outDir }));
  assert.equal(boot.node.metadata.NAMESPACE, 'web');
  assert.equal(boot.certificate_providers.default.config.private_key_file, join(o.outDir, AGENT_FILES.key));
  assert.match(err(), /issued spiffe:\/\/cluster\.local\/ns\/web\/sa\/front, valid until/);
  assert.doesNotMatch(err() + ca.logs.join('\n'), /PRIVATE KEY|tok-web-front/, 'neither key nor token is logged');
});

test('renewal replaces every file at once (one ..data symlink swap) and keeps renewing until stopped', async () => {
  const o = { ...options('renew', 'tok-web-front'), once: false };
  const stop = new AbortController();
  const serials: string[] = [];
  let sleeps = 0;
  const sleep = async (ms: number): Promise<void> => {
    assert.ok(ms > 20 * 60_000 && ms <= 30 * 60_000, `sleeps until half of the 1h lifetime (got ${ms} ms)`);
    serials.push(new X509Certificate(readFileSync(join(o.outDir, AGENT_FILES.cert))).serialNumber);
    clock = new Date(clock.getTime() + ms);
    if (++sleeps === 3) stop.abort();
  };
  const start = clock;
  try {
    assert.equal(await runGrpcAgent(o, captureUi().ui, { env: POD, sleep, now: () => clock, signal: stop.signal }), 0);
  } finally {
    clock = start;
  }
  assert.equal(new Set(serials).size, 3, 'a new certificate after each wait');
  for (const f of Object.values(AGENT_FILES)) assert.ok(lstatSync(join(o.outDir, f)).isSymbolicLink(), `${f} points into ..data`);
  assert.equal(readdirSync(o.outDir).filter((n) => n.startsWith('..') && n !== '..data').length, 1, 'old versions are removed');
});

test('a failed renewal keeps the current files and retries with backoff', async () => {
  const o = { ...options('retry', 'tok-web-front'), once: false };
  const { ui, err } = captureUi();
  const stop = new AbortController();
  const waits: number[] = [];
  const sleep = async (ms: number): Promise<void> => {
    waits.push(ms);
    clock = new Date(clock.getTime() + ms);
    if (waits.length === 1) writeFileSync(o.tokenFile, 'revoked'); // the next renewal is refused
    if (waits.length === 3) stop.abort();
  };
  const start = clock;
  try {
    assert.equal(await runGrpcAgent(o, ui, { env: POD, sleep, now: () => clock, signal: stop.signal }), 0);
  } finally {
    clock = start;
  }
  assert.deepEqual(waits.slice(1), [1000, 2000], 'backoff doubles');
  assert.match(err(), /renewal failed \(the mesh CA refused the certificate: .*\); retrying in 1s; the current certificate lasts \d+s more/);
  assert.ok(new X509Certificate(readFileSync(join(o.outDir, AGENT_FILES.cert))).checkPrivateKey(createPrivateKey(readFileSync(join(o.outDir, AGENT_FILES.key)))), 'the last good pair stays');
});

test('errors: refused token, wrong port, untrusted CA, missing token file: one line, a hint, exit 3 or 2', async () => {
  const fail = async (o: GrpcAgentOptions, env: NodeJS.ProcessEnv = POD): Promise<{ code: number; message: string; hint?: string }> => {
    try {
      await runGrpcAgent(o, captureUi().ui, { env });
      return { code: 0, message: '' };
    } catch (err) {
      const e = err as { exitCode: number; message: string; hint?: string };
      return { code: e.exitCode, message: e.message, hint: e.hint };
    }
  };
  const refused = await fail(options('bad', 'nonsense'));
  assert.equal(refused.code, 3);
  assert.match(refused.message, /^the mesh CA refused the certificate: /);
  assert.match(refused.hint!, /projected ServiceAccount token/);

  const closed = await fail({ ...options('closed', 'tok-web-front'), caAddress: '127.0.0.1:1', timeoutMs: 2000 });
  assert.equal(closed.code, 3);
  assert.match(closed.message, /^cannot reach the mesh CA at 127\.0\.0\.1:1/);

  writeFileSync(join(dir, 'other-ca.crt'), (await generateRoot({ trustDomain: TD })).certPem);
  const untrusted = await fail({ ...options('untrusted', 'tok-web-front'), trustBundleFile: join(dir, 'other-ca.crt'), timeoutMs: 2000 });
  assert.equal(untrusted.code, 3, 'a CA whose certificate does not chain to our bundle is not talked to');
  assert.ok(!readdirSync(dir).includes('untrusted') || readdirSync(join(dir, 'untrusted')).length === 0, 'nothing written');

  const noToken = await fail({ ...options('notoken', 'x'), tokenFile: join(dir, 'missing') });
  assert.equal(noToken.code, 2);
  assert.match(noToken.message, /^--token-file .*missing: no such file$/);

  const noPod = await fail(options('nopod', 'tok-web-front'), {});
  assert.equal(noPod.code, 2);
  assert.match(noPod.message, /POD_NAME and POD_NAMESPACE/);
});

test('the pod comes from the token\'s kubernetes.io claims when the downward API env is absent', () => {
  const payload = Buffer.from(JSON.stringify({ 'kubernetes.io': { namespace: 'web', serviceaccount: { name: 'front' }, pod: { name: 'front-1', uid: 'u' } } })).toString('base64url');
  assert.deepEqual(tokenClaims(`h.${payload}.s`), { namespace: 'web', serviceAccount: 'front', pod: 'front-1' });
  assert.deepEqual(tokenClaims('opaque'), {});
  assert.deepEqual(tokenClaims('a.!!!.c'), {});
});

test('validateGrpcAgentOptions: defaults point at the controller Service in $MESH_NAMESPACE; bad flags are usage errors', () => {
  const d = validateGrpcAgentOptions({}, { MESH_NAMESPACE: 'mesh' });
  assert.equal(d.caAddress, 'mesh-controller.mesh.svc:15012');
  assert.equal(d.caServerName, 'mesh-controller.mesh.svc');
  assert.equal(d.xdsAddress, 'mesh-controller.mesh.svc:15010');
  assert.equal(d.once, false);
  const cases: [Record<string, string>, RegExp][] = [
    [{ caAddress: 'nohost' }, /--ca-address "nohost" is not host:port/],
    [{ xdsAddress: 'h:99999' }, /--xds-address "h:99999" is not host:port/],
    [{ timeout: '0s' }, /--timeout must be longer than zero/],
    [{ timeout: '10' }, /^--timeout 10: add a unit, e.g. 10s or 10m$/],
  ];
  for (const [raw, re] of cases) assert.throws(() => validateGrpcAgentOptions(raw), (e: Error & { exitCode?: number }) => re.test(e.message) && e.exitCode === 2);
});

test('the CLI: mesh grpc-agent --once writes the files; a bad flag exits 2 naming it', async () => {
  const o = options('cli', 'tok-web-front');
  // In-process (the CLI's main); the usage error below runs bin/mesh for its exit code.
  const r = await runMeshInProcess(['grpc-agent', '--once', '--out-dir', o.outDir, '--ca-address', o.caAddress, '--ca-server-name', CA_SERVER_NAME, '--trust-bundle', o.trustBundleFile, '--token-file', o.tokenFile], { env: POD });
  assert.equal(r.code, 0, r.stderr);
  assert.match(new X509Certificate(readFileSync(join(o.outDir, AGENT_FILES.cert))).subjectAltName!, /ns\/web\/sa\/front/);
  const bad = await runMesh(['grpc-agent', '--ca-address', 'x']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--ca-address "x" is not host:port/);
});
