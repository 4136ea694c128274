// The KubeConfig every built command connects with is a bundle of client-node's class alone
// (scripts/build-kubeconfig.mjs, src/cluster/kubeconfig-lib.ts). Here the project's build script
// bundles it into a temp folder, and each kubeconfig form is loaded by the bundle and by the
// package itself: the same TLS options and headers, the same answers from the test API server,
// the same error messages.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { RequestOptions } from 'node:https';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { connectLive } from '../../src/cluster/live.ts';
import { servingCerts } from '../support/apiserver/certs.ts';
import { ROOT } from '../support/cli.ts';
import { startApiServer, type TestCluster } from '../support/kube.ts';

type KubeConfigClass = new () => k8s.KubeConfig;

let dir: string;
let kube: TestCluster;
let Bundled: KubeConfigClass;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mesh-kc-bundle-'));
  const script = pathToFileURL(join(ROOT, 'scripts', 'build-kubeconfig.mjs')).href;
  const { bundleKubeConfig } = (await import(script)) as { bundleKubeConfig: (outfile: string) => Promise<string> };
  const file = await bundleKubeConfig(join(dir, 'kubeconfig-lib.js'));
  Bundled = ((await import(pathToFileURL(file).href)) as { KubeConfig: KubeConfigClass }).KubeConfig;
  kube = await startApiServer({ seed: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } }, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'shop' }, data: { k: 'v' } }] });
});

after(async () => {
  await kube.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('the bundle is a separate copy of the class (else this file compares the package with itself)', () => {
  assert.notEqual(Bundled, k8s.KubeConfig);
  assert.equal(new Bundled() instanceof k8s.KubeConfig, false);
});

/** A kubeconfig file with one cluster, one user and one context, written under `dir`. */
function kubeconfig(name: string, cluster: Record<string, unknown>, user: Record<string, unknown>): string {
  const file = join(dir, name, 'config');
  mkdirSync(join(dir, name), { recursive: true });
  writeFileSync(file, stringify({ apiVersion: 'v1', kind: 'Config', clusters: [{ name: 'c', cluster }], users: [{ name: 'u', user }], contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u', namespace: 'shop' } }], 'current-context': 'ctx' }));
  return file;
}

/** What a request made with `kc` carries: TLS material, verification and headers. */
async function requestOptions(kc: k8s.KubeConfig): Promise<Record<string, unknown>> {
  const opts: RequestOptions = {};
  await kc.applyToHTTPSOptions(opts);
  const str = (v: unknown) => (v === undefined ? undefined : String(v));
  return { ca: str(opts.ca), cert: str(opts.cert), key: str(opts.key), rejectUnauthorized: opts.rejectUnauthorized, servername: opts.servername, headers: opts.headers, auth: opts.auth, cluster: kc.getCurrentCluster(), user: kc.getCurrentUser() };
}

function load(Config: KubeConfigClass, file: string): k8s.KubeConfig {
  const kc = new Config();
  kc.loadFromFile(file);
  return kc;
}

/** GET /version with the options `kc` gives, against the test API server: the status code. */
async function versionStatus(kc: k8s.KubeConfig): Promise<number> {
  const opts: RequestOptions = {};
  await kc.applyToHTTPSOptions(opts);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(new URL('/version', kc.getCurrentCluster()!.server), { ...opts, method: 'GET' }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

test('each kubeconfig form gives the same TLS options and headers through the bundle as through client-node, and the test API server answers both', async () => {
  const certs = await servingCerts();
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const url = new URL(kube.url);
  mkdirSync(join(dir, 'files'), { recursive: true });
  writeFileSync(join(dir, 'files', 'ca.crt'), kube.server.caPem);
  writeFileSync(join(dir, 'files', 'token'), kube.token);
  writeFileSync(join(dir, 'files', 'client.crt'), certs.certPem);
  writeFileSync(join(dir, 'files', 'client.key'), certs.keyPem);
  // Client certificates: the serving pair stands in (the test server authenticates by token only,
  // but the TLS handshake presents them, so a wrong option would still fail the connection).
  const exec = { apiVersion: 'client.authentication.k8s.io/v1', command: process.execPath, args: ['-e', `process.stdout.write(JSON.stringify({apiVersion:'client.authentication.k8s.io/v1',kind:'ExecCredential',status:{token:${JSON.stringify(kube.token)}}}))`], interactiveMode: 'Never' };
  const forms: [string, Record<string, unknown>, Record<string, unknown>][] = [
    ['ca-data-token', { server: kube.url, 'certificate-authority-data': b64(kube.server.caPem) }, { token: kube.token }],
    ['ca-file-relative', { server: kube.url, 'certificate-authority': '../files/ca.crt' }, { token: kube.token }],
    ['token-file', { server: kube.url, 'certificate-authority': join(dir, 'files', 'ca.crt') }, { 'token-file': join(dir, 'files', 'token') }],
    ['insecure', { server: kube.url, 'insecure-skip-tls-verify': true }, { token: kube.token }],
    ['tls-server-name', { server: `https://127.0.0.1:${url.port}`, 'certificate-authority-data': b64(kube.server.caPem), 'tls-server-name': 'localhost' }, { token: kube.token }],
    ['client-cert-data', { server: kube.url, 'certificate-authority-data': b64(kube.server.caPem) }, { 'client-certificate-data': b64(certs.certPem), 'client-key-data': b64(certs.keyPem), token: kube.token }],
    ['client-cert-files', { server: kube.url, 'certificate-authority': '../files/ca.crt' }, { 'client-certificate': '../files/client.crt', 'client-key': '../files/client.key', token: kube.token }],
    ['exec', { server: kube.url, 'certificate-authority-data': b64(kube.server.caPem) }, { exec }],
  ];
  for (const [name, cluster, user] of forms) {
    const file = kubeconfig(name, cluster, user);
    const [ours, theirs] = [load(Bundled, file), load(k8s.KubeConfig, file)];
    const got = await requestOptions(ours);
    assert.deepEqual(got, await requestOptions(theirs), name);
    assert.equal((got.headers as Record<string, string> | undefined)?.Authorization, `Bearer ${kube.token}`, `${name}: the token reaches the request`);
    assert.equal(await versionStatus(ours), 200, name);
  }
});

test('in-cluster (service account files): the bundle and client-node load the same', async () => {
  const prefix = join(dir, 'pod');
  const sa = join(prefix, 'var', 'run', 'secrets', 'kubernetes.io', 'serviceaccount');
  mkdirSync(sa, { recursive: true });
  writeFileSync(join(sa, 'ca.crt'), kube.server.caPem);
  writeFileSync(join(sa, 'token'), kube.token);
  writeFileSync(join(sa, 'namespace'), 'shop');
  const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
  process.env.KUBERNETES_SERVICE_HOST = '127.0.0.1';
  process.env.KUBERNETES_SERVICE_PORT = new URL(kube.url).port;
  try {
    const [ours, theirs] = [new Bundled(), new k8s.KubeConfig()];
    ours.loadFromCluster(prefix);
    theirs.loadFromCluster(prefix);
    assert.deepEqual(await requestOptions(ours), await requestOptions(theirs));
    assert.equal(ours.getContextObject(ours.getCurrentContext())?.namespace, 'shop');
    assert.equal(await versionStatus(ours), 200);
  } finally {
    for (const [k, v] of [['KUBERNETES_SERVICE_HOST', saved.host], ['KUBERNETES_SERVICE_PORT', saved.port]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
});

test('a live cluster on the bundle reads, writes, reviews tokens and reports versions as one on client-node; errors read the same', async () => {
  const file = kubeconfig('live', { server: kube.url, 'certificate-authority-data': Buffer.from(kube.server.caPem).toString('base64') }, { token: kube.token });
  const both = [Bundled, k8s.KubeConfig].map((Config) => connectLive({ kubeconfig: file }, Config));
  const [ours, theirs] = both as [ReturnType<typeof connectLive>, ReturnType<typeof connectLive>];
  const lib = load(k8s.KubeConfig, file).makeApiClient(k8s.VersionApi);
  const v = await lib.getCode();
  assert.deepEqual(await ours.serverVersion(), { major: v.major, minor: v.minor, gitVersion: v.gitVersion }, 'GET /version as the VersionApi reads it');
  assert.deepEqual(await ours.tokenReview(kube.token, []), await theirs.tokenReview(kube.token, []));
  assert.equal((await ours.get('v1', 'ConfigMap', 'a'))?.metadata.namespace, 'shop', 'the context namespace applies');
  const applied = await ours.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b', namespace: 'shop' }, data: { x: '1' } }, { fieldManager: 'mesh-test' });
  assert.deepEqual(applied.data, { x: '1' });
  assert.deepEqual((await ours.list('v1', 'ConfigMap', { namespace: 'shop' })).map((o) => o.metadata.name), (await theirs.list('v1', 'ConfigMap', { namespace: 'shop' })).map((o) => o.metadata.name));

  const failure = async (fn: () => Promise<unknown>) => fn().then(() => assert.fail('expected a failure'), (e: Error & { hint?: string; exitCode?: number }) => ({ message: e.message, hint: e.hint, exitCode: e.exitCode }));
  // Unreachable: nothing listens on port 9 (discard) of loopback here.
  const closed = kubeconfig('closed', { server: 'https://127.0.0.1:9', 'certificate-authority-data': Buffer.from(kube.server.caPem).toString('base64') }, { token: kube.token });
  for (const call of [(c: ReturnType<typeof connectLive>) => c.serverVersion(), (c: ReturnType<typeof connectLive>) => c.get('v1', 'ConfigMap', 'a', 'shop')]) {
    const [a, b] = await Promise.all([Bundled, k8s.KubeConfig].map((Config) => failure(() => call(connectLive({ kubeconfig: closed }, Config)))));
    assert.deepEqual(a, b);
    assert.equal(a!.exitCode, 3, a!.message);
  }
  // GET /version no longer goes through client-node's VersionApi: its failures still read the same.
  const libFailure = (kubeconfigFile: string) => load(k8s.KubeConfig, kubeconfigFile).makeApiClient(k8s.VersionApi).getCode().then(() => assert.fail('expected a failure'), (e: Error & { code?: unknown; body?: unknown }) => e);
  const unreachable = await libFailure(closed);
  assert.equal((await failure(() => connectLive({ kubeconfig: closed }, Bundled).serverVersion())).message, `cannot reach the Kubernetes API server: ${unreachable.message}`);
  const badToken = kubeconfig('bad-token', { server: kube.url, 'certificate-authority-data': Buffer.from(kube.server.caPem).toString('base64') }, { token: 'not-a-token' });
  const denied = await libFailure(badToken);
  assert.deepEqual([denied.code, denied.body], [401, undefined], 'the VersionApi drops a 401\'s body');
  assert.deepEqual(await failure(() => connectLive({ kubeconfig: badToken }, Bundled).serverVersion()), { message: 'the Kubernetes API server refused the request: HTTP 401', hint: 'your credentials were rejected: log in again or pick another --context', exitCode: 3 });
  const removeFault = kube.server.addFault({ path: '/version', code: 500, message: 'etcd is sad' });
  try {
    const body = (await libFailure(file)).body;
    assert.equal((typeof body === 'string' ? (JSON.parse(body) as { message?: string }) : (body as { message?: string })).message, 'etcd is sad', 'the VersionApi keeps the Status of other failures');
    assert.equal((await failure(() => ours.serverVersion())).message, 'etcd is sad');
  } finally {
    removeFault();
  }
  // A bad kubeconfig, a missing context, a file that does not exist.
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'clusters: [unclosed\n');
  for (const opts of [{ kubeconfig: bad }, { kubeconfig: kube.kubeconfigPath, context: 'nope' }, { kubeconfig: join(dir, 'missing') }]) {
    const [a, b] = await Promise.all([Bundled, k8s.KubeConfig].map((Config) => failure(async () => connectLive(opts, Config))));
    assert.deepEqual(a, b, JSON.stringify(opts));
    assert.equal(a!.exitCode, 3, a!.message);
  }
});
