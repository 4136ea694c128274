// `mesh controller --source files DIR`: option validation, and the built CLI serving ADS to a real
// grpc-js-xds client from manifests on disk, following file edits and SIGHUP, with introspection.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import * as grpc from '@grpc/grpc-js';
import { validateControllerOptions } from '../../src/controller/run.ts';
import { MESH_BIN, ROOT, runMeshInProcess } from '../support/cli.ts';
import { many, route, slices, startBackend, svc, tally, until, who, xdsClient, type Backend } from '../xds/support.ts';
import type { KubeObject } from '../../src/cluster/types.ts';

test('validateControllerOptions', () => {
  const d = { xdsPort: 15010, metricsPort: 15014 };
  const ok: [Parameters<typeof validateControllerOptions>[0], Partial<ReturnType<typeof validateControllerOptions>>][] = [
    [{ paths: ['k8s'], plaintextXds: true }, { source: 'files', plaintextXds: true, xdsPort: 15010, xdsTlsPort: 15012, metricsPort: 15014, debounceMs: 100, address: '0.0.0.0' }],
    [{ paths: [] }, { source: 'kubernetes', plaintextXds: false }],
    [{ paths: ['k8s'], caCert: 'c', caKey: 'k' }, { plaintextXds: false }],
    [{ paths: ['k8s'], plaintextXds: true, xdsTlsPort: '16012' }, { xdsTlsPort: 16012 }],
    [{ paths: ['k8s'], plaintextXds: true, xdsPort: '0', xdsTlsPort: '0', webhookPort: '0', metricsPort: '0' }, { xdsPort: 0, xdsTlsPort: 0, webhookPort: 0, metricsPort: 0 }],
    [{ paths: [] }, { source: 'kubernetes', webhookPort: 15017, meshNamespace: 'mesh-system' }],
    [{ paths: ['k8s'], webhookPort: '0', caCert: 'c', caKey: 'k', values: 'v.yaml', meshNamespace: 'm' }, { webhookPort: 0, caCert: 'c', caKey: 'k', valuesFile: 'v.yaml', meshNamespace: 'm' }],
    [{ source: 'files', paths: ['a', 'b'], plaintextXds: true, xdsPort: '0', metricsPort: '9000', debounce: '5ms', defaultMtls: 'strict' }, { xdsPort: 0, metricsPort: 9000, debounceMs: 5, defaultMtls: 'STRICT' }],
  ];
  for (const [raw, want] of ok) {
    const got = validateControllerOptions(raw, d);
    for (const [k, v] of Object.entries(want)) assert.deepEqual((got as any)[k], v, `${JSON.stringify(raw)} ${k}`);
  }
  const bad: [Parameters<typeof validateControllerOptions>[0], RegExp][] = [
    [{ source: 'files', paths: [] }, /needs a file or directory/],
    [{ source: 'kubernetes', paths: ['x'] }, /takes no paths/],
    [{ source: 'etcd', paths: [] }, /unknown source/],
    [{ paths: ['x'], plaintextXds: true, xdsPort: '70000' }, /not a port/],
    [{ paths: ['x'], xdsPort: '15010' }, /^--xds-port 15010: the plaintext xDS port is off$/],
    [{ paths: ['x'] }, /no TLS xDS port, and the plaintext one is off: nothing would serve xDS/],
    [{ paths: ['x'], plaintextXds: true, metricsPort: 'abc' }, /not a port/],
    [{ paths: ['x'], plaintextXds: true, debounce: '-1s' }, /--debounce "-1s" is negative/],
    [{ paths: ['x'], plaintextXds: true, debounce: '100' }, /^--debounce 100: add a unit, e.g. 100s or 100m$/],
    [{ paths: ['x'], plaintextXds: true, defaultMtls: 'maybe' }, /unknown mode/],
    [{ paths: ['x'], plaintextXds: true, webhookPort: '-3' }, /not a port/],
    [{ paths: ['x'], plaintextXds: true, xdsTlsPort: 'tls' }, /--xds-tls-port tls: not a port/],
    [{ paths: ['x'], plaintextXds: true, xdsTlsPort: '15010' }, /--xds-port and --xds-tls-port are both 15010/],
    [{ paths: ['x'], plaintextXds: true, webhookPort: '15014' }, /--webhook-port and --metrics-port are both 15014/],
    [{ paths: ['x'], caCert: 'ca.crt' }, /go together/],
    [{ paths: [], caCert: 'ca.crt', caKey: 'ca.key' }, /only apply to --source files/],
  ];
  for (const [raw, re] of bad) assert.throws(() => validateControllerOptions(raw, d), (e: any) => re.test(e.message) && e.exitCode === 2, JSON.stringify(raw));
});

// In-process (the CLI's main); the controller below runs as bin/mesh for its signals and exit code.
test('mesh controller with no source paths and a missing directory fails with exit 2', async () => {
  const r = await runMeshInProcess(['controller', '--source', 'files']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /needs a file or directory/);
  const r2 = await runMeshInProcess(['controller', '/nonexistent/dir', '--plaintext-xds', '--xds-port', '0', '--metrics-port', '0', '--address', '127.0.0.1']);
  assert.equal(r2.code, 2, r2.stderr);
  assert.match(r2.stderr, /no such file or directory/);
});

let dir: string;
let child: ChildProcess;
let v1: Backend, v2: Backend;
let xdsPort = 0, httpPort = 0;
let stderr = '';
const clients: grpc.Client[] = [];

function write(weights: [number, number]): void {
  const objs: KubeObject[] = [svc('shop', 'catalog'), svc('shop', 'catalog-v2'), ...slices('shop', 'catalog', [v1]), ...slices('shop', 'catalog-v2', [v2]),
    route('shop', 'catalog', [{ backendRefs: [{ name: 'catalog', port: 8080, weight: weights[0] }, { name: 'catalog-v2', port: 8080, weight: weights[1] }] }])];
  writeFileSync(join(dir, 'app.yaml'), objs.map((o) => stringify(o)).join('---\n'));
}

before(async () => {
  [v1, v2] = await Promise.all([startBackend('v1'), startBackend('v2')]);
  dir = mkdtempSync(join(tmpdir(), 'mesh-controller-'));
  write([100, 0]);
  child = spawn(process.execPath, [MESH_BIN, 'controller', '--source', 'files', dir, '--address', '127.0.0.1', '--plaintext-xds', '--xds-port', '0', '--metrics-port', '0', '--debounce', '10ms'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (b: Buffer) => {
      stderr += b.toString();
      const x = /ADS listening on [\d.]+:(\d+)/.exec(stderr);
      const h = /introspection listening on [\d.]+:(\d+)/.exec(stderr);
      if (x && h) {
        xdsPort = Number(x[1]);
        httpPort = Number(h[1]);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`controller exited ${code}: ${stderr}`)));
  });
});

after(async () => {
  for (const c of clients) c.close();
  if (child.exitCode === null) child.kill('SIGKILL');
  await Promise.all([v1, v2].map((b) => b.stop()));
  rmSync(dir, { recursive: true, force: true });
});

const get = async (path: string): Promise<{ status: number; body: string }> => {
  const r = await fetch(`http://127.0.0.1:${httpPort}${path}`);
  return { status: r.status, body: await r.text() };
};

test('serves ADS from the files, follows edits, reloads on SIGHUP, and exposes introspection', async () => {
  assert.equal((await get('/healthz')).status, 200);
  assert.equal((await get('/readyz')).status, 200);
  const c = xdsClient('catalog.shop.svc.cluster.local:8080', xdsPort, 'cli-client', 'shop');
  clients.push(c);
  assert.deepEqual(await who(c), { name: 'v1', code: 0 });

  const syncz = JSON.parse((await get('/debug/syncz')).body);
  const p = syncz.proxies.find((x: any) => x.id === 'cli-client');
  assert.equal(p.connected, true);
  assert.equal(p.namespace, 'shop');
  const lds = p.streams[0].types['type.googleapis.com/envoy.config.listener.v3.Listener'];
  assert.ok(lds.sentVersion && lds.ackedVersion === lds.sentVersion, JSON.stringify(lds));
  // The files source cannot review ServiceAccount tokens: no SDS secrets, and syncz says why.
  assert.equal(p.identity.authenticated, false);
  assert.match(p.identity.reason, /files source has no Kubernetes TokenReview/);

  const dump = JSON.parse((await get('/debug/config_dump?proxy=cli-client')).body);
  assert.ok(dump.types['type.googleapis.com/envoy.config.route.v3.RouteConfiguration'].resources.length >= 1);
  assert.equal((await get('/debug/config_dump?proxy=nobody')).status, 404);
  assert.equal((await get('/debug/config_dump')).status, 400);

  const metrics = (await get('/metrics')).body;
  assert.match(metrics, /mesh_xds_connected_proxies\{type="grpc",version="\d+\.\d+\.\d+"\} 1/);
  assert.match(metrics, /mesh_xds_pushes_total\{type="Listener"\} \d+/);
  assert.match(metrics, /mesh_xds_push_latency_seconds_bucket/);
  assert.match(metrics, /mesh_xds_nacks_total/);

  write([0, 100]); // picked up by the directory watch
  await until(c, (t) => t.v2 === 50);
  write([100, 0]);
  child.kill('SIGHUP'); // and/or by SIGHUP
  await until(c, (t) => t.v1 === 50);
  assert.deepEqual(tally(await many(c, 100)), { v1: 100 });

  writeFileSync(join(dir, 'broken.yaml'), 'kind: [unclosed');
  child.kill('SIGHUP');
  await until(c, (t) => t.v1 === 50);
  assert.deepEqual(tally(await many(c, 100)), { v1: 100 }, 'a broken file keeps the last good config');

  c.close(); // before the controller goes: a client whose ADS server vanished retries (with timers) forever
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
  assert.match(stderr, /SIGTERM: shutting down/);
});
