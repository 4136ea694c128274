// `mesh dashboard ADDON`: the target pod and port behind the addon's Service, the error paths,
// the local forward with a stand-in tunnel, and the real tunnel: client-node's PortForward
// through the test API server's portforward subresource (WebSocket, v4.channel.k8s.io).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { connect as netConnect, createServer, type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { KubeObject } from '../../src/cluster/types.ts';
import { renderManifests } from '../../src/manifests/render.ts';
import { resolveValues } from '../../src/manifests/values.ts';
import { loadTemplates } from '../../src/install/templates.ts';
import { resolveAddonTarget, runAddonDashboard, validateAddonDashboardOptions } from '../../src/commands/dashboard-addons.ts';
import type { MeshError } from '../../src/errors.ts';
import { fakeCluster } from '../support/fake-cluster.ts';
import { captureUi } from '../support/ui.ts';
import { runMeshInProcess as mesh } from '../support/cli.ts';
import { startApiServer } from '../support/kube.ts';
import { connect as connectCluster } from '../../src/cluster/index.ts';

/** The rendered addon Services, and pods made from the rendered Deployments' templates. */
function cluster(opts: { addons?: string[]; ready?: boolean; forward?: (t: { namespace: string; pod: string; port: number }, s: Duplex) => Promise<void> } = {}) {
  const objs = renderManifests(resolveValues({ sets: (opts.addons ?? ['grafana', 'jaeger', 'prometheus']).map((a) => `addons.${a}.enabled=true`) }), loadTemplates());
  const pods: KubeObject[] = objs.filter((o) => o.kind === 'Deployment' && o.metadata.name !== 'mesh-controller').flatMap((d) => {
    const tpl = (d.spec as { template: { metadata: { labels: Record<string, string> }; spec: unknown } }).template;
    return ['b', 'a'].map((suffix, i) => ({
      apiVersion: 'v1', kind: 'Pod',
      metadata: { name: `${d.metadata.name}-5f6d7-${suffix}`, namespace: 'mesh-system', labels: tpl.metadata.labels },
      spec: tpl.spec,
      // Pod "-a" is ready (unless none are); "-b" is still starting.
      status: { phase: 'Running', conditions: [{ type: 'Ready', status: opts.ready !== false && i === 1 ? 'True' : 'False' }] },
    }));
  });
  const all = [...objs, ...pods];
  return fakeCluster({
    async get(_v: string, kind: string, name: string, ns?: string) {
      return all.find((o) => o.kind === kind && o.metadata.name === name && o.metadata.namespace === ns);
    },
    async list(_v: string, kind: string, o: { namespace?: string } = {}) {
      return all.filter((x) => x.kind === kind && x.metadata.namespace === o.namespace);
    },
    ...(opts.forward ? { portForward: opts.forward } : {}),
  });
}

test('each addon resolves to its ready pod and the container port its Service targets (named ports looked up in the pod)', async () => {
  const c = cluster();
  assert.deepEqual(await resolveAddonTarget(c, 'mesh-system', 'grafana'), { namespace: 'mesh-system', service: 'grafana', pod: 'grafana-5f6d7-a', port: 3000, path: '/d/mesh-overview' });
  assert.deepEqual(await resolveAddonTarget(c, 'mesh-system', 'jaeger'), { namespace: 'mesh-system', service: 'jaeger', pod: 'jaeger-5f6d7-a', port: 16686, path: '/' });
  assert.deepEqual(await resolveAddonTarget(c, 'mesh-system', 'prometheus'), { namespace: 'mesh-system', service: 'prometheus', pod: 'prometheus-5f6d7-a', port: 9090, path: '/' });
});

test('an addon that is not installed is one error with the install hint; no ready pod is another; exit 1', async () => {
  await assert.rejects(resolveAddonTarget(cluster({ addons: ['prometheus'] }), 'mesh-system', 'jaeger'), (e: MeshError) => e.exitCode === 1 && e.message === 'the jaeger addon is not installed: no Service mesh-system/jaeger' && /mesh install --addons jaeger/.test(e.hint ?? ''));
  await assert.rejects(resolveAddonTarget(cluster(), 'elsewhere', 'grafana'), (e: MeshError) => /no Service elsewhere\/grafana/.test(e.message));
  await assert.rejects(resolveAddonTarget(cluster({ ready: false }), 'mesh-system', 'grafana'), (e: MeshError) => e.exitCode === 1 && /no ready pod of the grafana addon in mesh-system \(2 pod\(s\)/.test(e.message) && /app\.kubernetes\.io\/name=grafana/.test(e.hint ?? ''));
});

test('flags: unknown addon, bad --port or --address are exit 2; the default local port is the addon\'s own', async () => {
  assert.equal(validateAddonDashboardOptions({ addon: 'grafana' }).port, 3000);
  assert.equal(validateAddonDashboardOptions({ addon: 'jaeger', port: '0' }).port, 0);
  assert.equal(validateAddonDashboardOptions({ addon: 'prometheus' }).address, '127.0.0.1');
  for (const [raw, re] of [[{ addon: 'kiali' }, /unknown addon "kiali"/], [{ addon: 'grafana', port: '70000' }, /--port 70000/], [{ addon: 'grafana', address: 'localhost' }, /--address localhost is not an IP/]] as const) {
    assert.throws(() => validateAddonDashboardOptions(raw), (e: MeshError) => e.exitCode === 2 && re.test(e.message), JSON.stringify(raw));
  }
  // Without an addon, `mesh dashboard` is the web dashboard (test/dashboard/): its flags are refused with an addon.
  const webFlags = await mesh(['dashboard', 'grafana', '--allow-actions', '-f', 'examples/shop']);
  assert.equal(webFlags.code, 2);
  assert.match(webFlags.stderr, /mesh dashboard grafana does not take --filename, --allow-actions: those are the web dashboard's/);
  const bad = await mesh(['dashboard', 'grafna']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown addon "grafna"[\s\S]*did you mean "grafana"/);
  const ns = await mesh(['dashboard', 'grafana', '-n', 'shop']);
  assert.equal(ns.code, 2);
  assert.match(ns.stderr, /--mesh-namespace/);
});

/** A stand-in for the addon's pod: an HTTP server; the "tunnel" pipes the local connection to it. */
async function podServer() {
  const seen: string[] = [];
  const http = createHttpServer((req, res) => {
    seen.push(req.url ?? '');
    res.end('Grafana home');
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const port = (http.address() as AddressInfo).port;
  const forwarded: { namespace: string; pod: string; port: number }[] = [];
  const forward = async (t: { namespace: string; pod: string; port: number }, socket: Duplex) => {
    forwarded.push(t);
    const upstream = netConnect(port, '127.0.0.1');
    await new Promise<void>((r) => upstream.once('connect', r));
    socket.pipe(upstream).pipe(socket);
    socket.once('close', () => upstream.destroy());
  };
  return { port, seen, forwarded, forward, close: () => new Promise<void>((r) => http.close(() => r())) };
}

test('the forward serves the addon on the local port until stopped: URL on stdout, bytes both ways, the browser only when interactive', async () => {
  const pod = await podServer();
  for (const interactive of [false, true]) {
    const c = captureUi({ interactive });
    const ac = new AbortController();
    const opened: string[] = [];
    let url = '';
    const run = runAddonDashboard(validateAddonDashboardOptions({ addon: 'grafana', port: '0' }), c.ui, { cluster: cluster({ forward: pod.forward }), signal: ac.signal, openBrowser: (u) => opened.push(u), onListening: (u) => void (url = u) });
    await c.waitFor(/^http:/m, 'out');
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/d\/mesh-overview$/);
    assert.equal(c.out(), `${url}\n`);
    assert.match(c.err(), /forwarding 127\.0\.0\.1:\d+ -> pod mesh-system\/grafana-5f6d7-a:3000 \(Service grafana\)/);
    const res = await fetch(url);
    assert.equal(await res.text(), 'Grafana home');
    assert.deepEqual(opened, interactive ? [url] : []);
    ac.abort();
    assert.equal(await run, 0);
    await assert.rejects(fetch(url), 'the local port is closed after Ctrl-C');
  }
  assert.deepEqual(pod.forwarded.at(-1), { namespace: 'mesh-system', pod: 'grafana-5f6d7-a', port: 3000 });
  assert.deepEqual(pod.seen, ['/d/mesh-overview', '/d/mesh-overview']);
  await pod.close();
});

test('a port in use is exit 2 naming it; a tunnel that fails closes that connection and says why', async () => {
  const busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  const port = (busy.address() as AddressInfo).port;
  const ac = new AbortController();
  await assert.rejects(
    runAddonDashboard(validateAddonDashboardOptions({ addon: 'prometheus', port: String(port) }), captureUi().ui, { cluster: cluster({ forward: async () => undefined }), signal: ac.signal }),
    (e: MeshError) => e.exitCode === 2 && e.message === `cannot listen on 127.0.0.1:${port}: the port is in use` && /--port 0/.test(e.hint ?? ''),
  );
  busy.close();
  const c = captureUi();
  let url = '';
  const run = runAddonDashboard(validateAddonDashboardOptions({ addon: 'prometheus', port: '0' }), c.ui, { cluster: cluster({ forward: async () => { throw new Error('cannot port-forward to pod mesh-system/prometheus-5f6d7-a:9090: Forbidden'); } }), signal: ac.signal, onListening: (u) => void (url = u) });
  await c.waitFor(/^http:/m, 'out');
  await assert.rejects(fetch(url));
  await c.waitFor(/Forbidden/);
  ac.abort();
  assert.equal(await run, 0);
});

test('through the API server: client-node\'s PortForward tunnels each local connection to the pod; without RBAC create on pods/portforward the connection is refused with the RBAC hint', async () => {
  const pod = await podServer();
  const objs = renderManifests(resolveValues({ sets: ['addons.grafana.enabled=true'] }), loadTemplates());
  const svc = objs.find((o) => o.kind === 'Service' && o.metadata.name === 'grafana')!;
  const tpl = (objs.find((o) => o.kind === 'Deployment' && o.metadata.name === 'grafana')!.spec as { template: { metadata: { labels: Record<string, string> }; spec: Record<string, unknown> } }).template;
  const kube = await startApiServer({
    seed: [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'mesh-system' } },
      svc,
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'grafana-5f6d7-a', namespace: 'mesh-system', labels: tpl.metadata.labels }, spec: tpl.spec, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } },
    ],
  });
  const asked: number[] = [];
  kube.server.setPodPortForward('mesh-system', 'grafana-5f6d7-a', ({ port }) => {
    asked.push(port);
    return netConnect(pod.port, '127.0.0.1');
  });
  try {
    const run1 = async (kubeconfig: string) => {
      const c = captureUi();
      const ac = new AbortController();
      let url = '';
      const cluster = await connectCluster({ kubeconfig });
      const done = runAddonDashboard(validateAddonDashboardOptions({ addon: 'grafana', port: '0' }), c.ui, { cluster, signal: ac.signal, onListening: (u) => void (url = u) });
      await c.waitFor(/^http:/m, 'out');
      return { url, c, stop: async () => { ac.abort(); assert.equal(await done, 0); } };
    };
    const ok = await run1(kube.kubeconfigPath);
    const res = await fetch(ok.url);
    assert.equal(await res.text(), 'Grafana home');
    assert.deepEqual(asked, [3000], 'the container port behind the Service\'s named targetPort');
    await ok.stop();
    const token = kube.server.addUser('viewer', [{ verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['services', 'pods'] }]);
    const denied = await run1(kube.kubeconfigFor(token, 'viewer'));
    await assert.rejects(fetch(denied.url));
    await denied.c.waitFor(/cannot port-forward to pod mesh-system\/grafana-5f6d7-a:3000/);
    await denied.stop();
    assert.deepEqual(asked, [3000], 'the refused user never reached the pod');
  } finally {
    await kube.stop();
    await pod.close();
  }
});
