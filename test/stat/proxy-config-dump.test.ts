// `mesh proxy-config all -o json|yaml` (Envoy's /config_dump format), `diff` (the proxy's own
// /config_dump against the control plane) and `log` (the proxy's log levels), live against the test
// API server: a real controller holds a sidecar's config (an ADS stream), its /debug endpoints are
// reached through the pod proxy, and the pod's Envoy admin port is a fake admin server reached
// through a port-forward, as on a real cluster (the admin listener is bound to 127.0.0.1 in the pod).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect as netConnect, type AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { MemorySource } from '../../src/cluster/source.ts';
import { ControlPlane } from '../../src/controller/controlplane.ts';
import { startIntrospection } from '../../src/controller/http.ts';
import { strictCheckJson } from '../../src/xds/encode.ts';
import { loadAdminProtos, TYPE } from '../../src/xds/protos.ts';
import { toProto3Json } from '../../src/xds/json.ts';
import { redactSensitive } from '../../src/xds/redact.ts';
import { runMeshInProcess } from '../support/cli.ts';
import { proxyControllerIntrospection } from './support/controller-proxy.ts';
import { startApiServer, type TestCluster } from '../support/kube.ts';
import { AdsStream } from '../xds/sds-support.ts';
import { slices, svc, type Backend } from '../xds/support.ts';

const ADMIN_PORT = 15123;
const initArgs = ['--bootstrap-out', '/etc/mesh/proxy/envoy.json', '--mesh-version', '0.1.0', '--trust-domain', 'cluster.local', '--xds-address', 'mesh-controller.mesh-system.svc:15012', '--admin-port', String(ADMIN_PORT), '--stats-port', '15090', '--readiness-port', '15021'];
const web1 = {
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: 'web-1', namespace: 'shop', labels: { app: 'web', 'mesh.dev/proxy-version': '0.1.0' } },
  spec: { serviceAccountName: 'web', initContainers: [{ name: 'mesh-init', image: 'mesh', args: initArgs }], containers: [{ name: 'web', image: 'web' }] },
  status: { phase: 'Running', podIP: '10.244.0.7' },
};

let kube: TestCluster;
let cp: ControlPlane;
let intro: Server;
let stream: AdsStream;
let admin: Server;
/** What the fake Envoy holds: its /config_dump document (tests replace it). */
let held: Record<string, unknown>;
let synced: Record<string, unknown>;
/** Admin requests the fake Envoy saw, and its loggers. */
const seen: string[] = [];
const forwardedPorts: number[] = [];
const loggers: Record<string, string> = { admin: 'info', http: 'info', upstream: 'info', router: 'info' };
let dir: string;

/**
 * Envoy's own /config_dump of a proxy holding `types` (written here by hand from Envoy's admin
 * docs, not with the code under test): other versions and timestamps than the controller's.
 */
function envoyDump(types: Record<string, { resources: Record<string, unknown>[] }>): Record<string, unknown> {
  const A = 'type.googleapis.com/envoy.admin.v3.';
  const rs = (t: string): Record<string, unknown>[] => (types[t]?.resources ?? []).map((r) => ({ '@type': t, ...(toProto3Json(t, r) as Record<string, unknown>) }));
  const at = '2026-01-02T03:04:05.678Z';
  return {
    configs: [
      { '@type': `${A}ClustersConfigDump`, version_info: 'v9', dynamic_active_clusters: rs(TYPE.cluster).map((cluster) => ({ version_info: 'v9', cluster, last_updated: at })) },
      { '@type': `${A}ListenersConfigDump`, version_info: 'v9', dynamic_listeners: rs(TYPE.listener).map((listener) => ({ name: listener.name, active_state: { version_info: 'v9', listener, last_updated: at } })) },
      { '@type': `${A}RoutesConfigDump`, dynamic_route_configs: rs(TYPE.route).map((route_config) => ({ version_info: 'v9', route_config, last_updated: at })) },
      { '@type': `${A}SecretsConfigDump` },
      { '@type': `${A}EndpointsConfigDump`, dynamic_endpoint_configs: rs(TYPE.endpoint).map((endpoint_config) => ({ version_info: 'v9', endpoint_config, last_updated: at })) },
    ],
  };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mesh-pcdump-'));
  kube = await startApiServer({ seed: [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'mesh-system' } },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
    { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'mesh-controller-0', namespace: 'mesh-system', labels: { 'app.kubernetes.io/name': 'mesh-controller' } }, spec: { containers: [{ name: 'controller', image: 'mesh' }] }, status: { phase: 'Running' } },
    { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'shop' }, spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'web' }] } } } },
    web1,
  ] });
  cp = new ControlPlane({ source: new MemorySource([svc('shop', 'catalog'), ...slices('shop', 'catalog', [{ port: 9090 } as Backend]), web1 as never]), debounceMs: 10 });
  const adsPort = await cp.start({ host: '127.0.0.1', port: 0 });
  const started = await startIntrospection(cp, { host: '127.0.0.1', port: 0 });
  intro = started.server;
  proxyControllerIntrospection(kube, started.port);
  stream = new AdsStream(cp, adsPort, 'web-1.shop', { namespace: 'shop', pod: 'web-1' });
  stream.send({ type_url: TYPE.cluster, resource_names: [] });
  await stream.ack(await stream.next());
  stream.send({ type_url: TYPE.listener, resource_names: [] });
  await stream.ack(await stream.next());
  // The proxy holds what the controller gave it.
  const dump = cp.configDump('web-1.shop');
  assert.ok(dump && (dump.types[TYPE.cluster]?.resources.length ?? 0) > 0, 'the controller has clusters for the proxy');
  synced = envoyDump(dump.types);
  held = synced;
  admin = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'GET' && url.pathname === '/config_dump') return void res.end(JSON.stringify(held));
    if (req.method === 'POST' && url.pathname === '/logging') {
      for (const [k, v] of url.searchParams) {
        if (k === 'level') for (const n of Object.keys(loggers)) loggers[n] = v;
        else if (k in loggers) loggers[k] = v;
        else return void res.writeHead(400).end('error: unknown logger name\n');
      }
      return void res.end(`active loggers:\n${Object.entries(loggers).map(([n, l]) => `  ${n}: ${l}\n`).join('')}`);
    }
    res.writeHead(404).end('invalid path\n');
  });
  await new Promise<void>((r) => admin.listen(0, '127.0.0.1', r));
  const adminPort = (admin.address() as AddressInfo).port;
  kube.server.setPodPortForward('shop', 'web-1', ({ port }) => {
    forwardedPorts.push(port);
    return port === ADMIN_PORT ? netConnect(adminPort, '127.0.0.1') : undefined;
  });
}, { timeout: 60_000 });

after(async () => {
  stream?.call.cancel();
  await new Promise((r) => intro?.close(r));
  await new Promise((r) => admin?.close(r));
  await cp?.stop();
  await kube?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const mesh = (...args: string[]) => runMeshInProcess(['proxy-config', ...args, '-n', 'shop', '--kubeconfig', kube.kubeconfigPath]);

test('all -o json|yaml (live) is an envoy.admin.v3.ConfigDump: strict proto decoding, bootstrap of the pod, versions and last_updated of each dynamic resource', async () => {
  loadAdminProtos();
  const r = await mesh('all', 'deploy/web', '-o', 'json');
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { configs: Record<string, any>[] };
  assert.deepEqual(strictCheckJson('envoy.admin.v3.ConfigDump', doc), []);
  const byType = Object.fromEntries(doc.configs.map((c) => [String(c['@type']).split('.').pop(), c]));
  assert.deepEqual(Object.keys(byType), ['BootstrapConfigDump', 'ClustersConfigDump', 'ListenersConfigDump', 'RoutesConfigDump', 'SecretsConfigDump', 'EndpointsConfigDump']);
  // The bootstrap mesh-init writes for this pod: its node, IP and admin port.
  assert.equal(byType.BootstrapConfigDump.bootstrap.node.id, 'web-1.shop');
  assert.equal(byType.BootstrapConfigDump.bootstrap.node.metadata.POD_IP, '10.244.0.7');
  assert.equal(byType.BootstrapConfigDump.bootstrap.admin.address.socket_address.port_value, ADMIN_PORT);
  assert.ok(byType.ClustersConfigDump.static_clusters.some((c: any) => c.cluster.name === 'mesh-admin'));
  const cds = cp.configDump('web-1.shop')!.types[TYPE.cluster]!;
  const active = byType.ClustersConfigDump.dynamic_active_clusters as { version_info: string; last_updated: string; cluster: { name: string } }[];
  assert.deepEqual(active.map((c) => c.cluster.name).sort(), cds.resources.map((c) => String(c.name)).sort());
  const ack = cp.syncz().proxies.find((p) => p.id === 'web-1.shop')!.streams[0]!.types[TYPE.cluster]!.ackedAt;
  for (const c of active) assert.deepEqual([c.version_info, c.last_updated], [cds.version, ack], 'the CDS version the proxy ACKed, and when');
  assert.ok(byType.EndpointsConfigDump.dynamic_endpoint_configs.length > 0, 'EDS, as /config_dump?include_eds');
  const y = await mesh('all', 'web-1', '-o', 'yaml');
  assert.equal(y.code, 0, y.stderr);
  assert.deepEqual(parse(y.stdout), doc);
});

test('all -o json offline (-f) decodes as a ConfigDump too; the bootstrap is the one mesh inject would give the pod', async () => {
  const r = await runMeshInProcess(['proxy-config', 'all', 'deploy/frontend', '-n', 'shop', '-f', 'examples/shop', '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { configs: Record<string, any>[] };
  assert.deepEqual(strictCheckJson('envoy.admin.v3.ConfigDump', doc), []);
  assert.equal(doc.configs[0]!.bootstrap.node.id, 'frontend.shop');
  assert.ok(doc.configs[1]!.dynamic_active_clusters.length > 0);
});

test('diff (live): the proxy\'s own /config_dump through a port-forward to its admin port; "same" and exit 0 when it holds what the controller would send', async () => {
  held = synced;
  const r = await mesh('diff', 'deploy/web');
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /^same: the proxy of pod shop\/web-1 holds what the control plane would send \([1-9]\d* resources\)/);
  assert.ok(seen.includes('GET /config_dump?include_eds'));
  assert.ok(forwardedPorts.every((p) => p === ADMIN_PORT) && forwardedPorts.length > 0, 'the admin port from the pod\'s mesh-init flags');
});

test('diff (live): a changed cluster and a missing listener are a unified diff per resource, exit 1; -o json lists them', async () => {
  const copy = structuredClone(synced) as { configs: Record<string, any>[] };
  const cluster = copy.configs[0]!.dynamic_active_clusters[0].cluster;
  cluster.connect_timeout = '42s';
  const listeners = copy.configs[1]!.dynamic_listeners as { name: string }[];
  const gone = listeners.pop()!.name;
  held = copy;
  try {
    const r = await mesh('diff', 'web-1');
    assert.equal(r.code, 1, r.stderr);
    assert.ok(r.stdout.includes(`--- a/Cluster/${cluster.name}\n+++ b/Cluster/${cluster.name}\n`), r.stdout);
    assert.match(r.stdout, /^-connect_timeout: 42s$/m);
    assert.match(r.stdout, /^\+connect_timeout: \d+(\.\d+)?s$/m);
    assert.ok(r.stdout.includes(`--- /dev/null\n+++ b/Listener/${gone}\n`), 'the listener the proxy lacks is "added"');
    assert.match(r.stderr, /1 changed, 1 to add, 0 to remove/);
    const j = await mesh('diff', 'web-1', '-o', 'json');
    assert.equal(j.code, 1);
    const d = JSON.parse(j.stdout) as { differ: boolean; summary: Record<string, number>; objects: { ref: string; change: string }[] };
    assert.equal(d.differ, true);
    assert.deepEqual(d.summary, { added: 1, changed: 1, removed: 0 });
    assert.deepEqual(d.objects.map((o) => [o.ref, o.change]).sort(), [[`Cluster/${cluster.name}`, 'changed'], [`Listener/${gone}`, 'added']].sort());
  } finally {
    held = synced;
  }
});

test('diff --from a saved dump: against the live controller, and offline against -f (secrets not compared)', async () => {
  const file = join(dir, 'dump.json');
  writeFileSync(file, JSON.stringify(synced));
  const r = await mesh('diff', 'web-1', '--from', file);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, new RegExp(`^same: ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} holds`));
  // Offline: a dump saved from the computed config is the same; one with a changed cluster is not.
  const off = await runMeshInProcess(['proxy-config', 'all', 'frontend', '-n', 'shop', '-f', 'examples/shop', '-o', 'json']);
  writeFileSync(file, off.stdout);
  const same = await runMeshInProcess(['proxy-config', 'diff', 'frontend', '-n', 'shop', '-f', 'examples/shop', '--from', file]);
  assert.equal(same.code, 0, same.stderr + same.stdout);
  const doc = JSON.parse(off.stdout) as { configs: Record<string, any>[] };
  doc.configs[1]!.dynamic_active_clusters.shift();
  writeFileSync(file, JSON.stringify(doc));
  const differs = await runMeshInProcess(['proxy-config', 'diff', 'frontend', '-n', 'shop', '-f', 'examples/shop', '--from', file]);
  assert.equal(differs.code, 1);
  assert.match(differs.stdout, /^\+\+\+ b\/Cluster\//m);
  const bad = await runMeshInProcess(['proxy-config', 'diff', 'frontend', '-n', 'shop', '-f', 'examples/shop', '--from', join(dir, 'nope.json')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--from .*nope\.json: no such file/);
});

test('log: --level and --logger change the proxy\'s levels through POST /logging on its admin port, then print them all; no flag shows them; a bad level is exit 2', async () => {
  seen.length = 0;
  const r = await mesh('log', 'deploy/web', '--level', 'debug', '--logger', 'upstream=trace');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(seen, ['POST /logging?level=debug', 'POST /logging?upstream=trace', 'POST /logging']);
  assert.match(r.stdout, /^LOGGER\s+LEVEL\n/);
  assert.match(r.stdout, /^http\s+debug$/m);
  assert.match(r.stdout, /^upstream\s+trace$/m);
  seen.length = 0;
  const show = await mesh('log', 'web-1', '-o', 'json');
  assert.equal(show.code, 0, show.stderr);
  assert.deepEqual(seen, ['POST /logging'], 'showing changes nothing');
  assert.deepEqual(JSON.parse(show.stdout).loggers, { admin: 'debug', http: 'debug', upstream: 'trace', router: 'debug' });
  const bad = await mesh('log', 'web-1', '--level', 'loud');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--level: unknown log level "loud"/);
  const unknown = await mesh('log', 'web-1', '--logger', 'nosuch=debug');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /refused logger nosuch: HTTP 400 error: unknown logger name/);
});

test('the controller\'s config_dump redacts as Envoy does, by the protos\' sensitive annotation: a header key stays, a private key inside a cluster\'s TLS context does not', () => {
  const route = { name: 'r', virtual_hosts: [{ name: 'v', domains: ['*'], request_headers_to_add: [{ header: { key: 'x-canary', value: 'on' } }] }] };
  assert.deepEqual(redactSensitive(TYPE.route, route), route);
  const cluster = {
    name: 'c',
    transport_socket: { name: 'tls', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext', common_tls_context: { tls_certificates: [{ certificate_chain: { inline_string: 'CERT' }, private_key: { inline_string: 'KEY' } }] } } },
  };
  const out = redactSensitive(TYPE.cluster, cluster) as typeof cluster;
  const cert = out.transport_socket.typed_config.common_tls_context.tls_certificates[0]!;
  assert.deepEqual(cert, { certificate_chain: { inline_string: 'CERT' }, private_key: { inline_string: '[redacted]' } });
});

test('validateProxyConfigOptions: diff and log verbs, their flags only with them, levels and NAME=LEVEL checked (exit 2 naming the flag)', async () => {
  const { validateProxyConfigOptions } = await import('../../src/status/proxy-config.ts');
  const { DEFAULT_CONTROLLER } = await import('../../src/status/controller-debug.ts');
  const v = (raw: Partial<Parameters<typeof validateProxyConfigOptions>[0]>) => validateProxyConfigOptions({ output: 'table', pod: 'web-1', ...raw }, DEFAULT_CONTROLLER);
  assert.equal(v({ section: 'diff' }).mode, 'diff');
  assert.deepEqual(v({ section: 'log', level: 'WARN', logger: ['http=debug'] }), { ...v({ section: 'log' }), level: 'warning', loggers: [{ name: 'http', level: 'debug' }] });
  const usage = (raw: Partial<Parameters<typeof validateProxyConfigOptions>[0]>, re: RegExp) => assert.throws(() => v(raw), (e: { exitCode: number; message: string }) => e.exitCode === 2 && re.test(e.message));
  usage({ section: 'cluster', from: 'd.json' }, /--from is for "mesh proxy-config diff"/);
  usage({ section: 'all', level: 'debug' }, /--level and --logger are for "mesh proxy-config log"/);
  usage({ section: 'log', files: ['k8s/'] }, /takes no -f/);
  usage({ section: 'log', logger: ['http'] }, /--logger "http": not NAME=LEVEL/);
  usage({ section: 'log', logger: ['http=chatty'] }, /--logger http: unknown log level "chatty"/);
  usage({ section: 'diff', pod: undefined }, /mesh proxy-config diff POD/);
});
