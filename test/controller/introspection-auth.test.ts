// /debug/* shows every proxy's config: it answers loopback, or the token of Secret
// mesh-controller-debug; /metrics and the probes stay open.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { MemorySource } from '../../src/cluster/source.ts';
import { ControlPlane } from '../../src/controller/controlplane.ts';
import { startIntrospection } from '../../src/controller/http.ts';
import { ensureDebugToken, readDebugToken } from '../../src/cluster/debug-token.ts';
import { connectLive } from '../../src/cluster/live.ts';
import { startApiServer } from '../support/kube.ts';

let cp: ControlPlane;
const servers: Server[] = [];

before(async () => {
  cp = new ControlPlane({ source: new MemorySource([]) });
  await cp.start({ host: '127.0.0.1', port: 0 });
});

after(async () => {
  for (const s of servers) s.close();
  await cp.stop();
});

async function serve(access: Parameters<typeof startIntrospection>[2]): Promise<string> {
  const { server, port } = await startIntrospection(cp, { host: '127.0.0.1', port: 0 }, access);
  servers.push(server);
  return `http://127.0.0.1:${port}`;
}

test('a request that is not from loopback needs the token for /debug/*, not for /metrics or the probes', async () => {
  // loopback: false stands for a request from another pod (the test can only connect from loopback).
  const base = await serve({ token: () => 's3cret-token', loopback: false });
  for (const path of ['/debug/syncz', '/debug/config_dump?proxy=x']) {
    const none = await fetch(base + path);
    assert.equal(none.status, 401, path);
    assert.match(((await none.json()) as { error: string }).error, /Secret mesh-controller-debug .* header x-mesh-debug-token/);
    assert.equal((await fetch(base + path, { headers: { 'x-mesh-debug-token': 's3cret-tokeN' } })).status, 401, `${path} with a wrong token`);
  }
  assert.equal((await fetch(`${base}/debug/syncz`, { headers: { 'x-mesh-debug-token': 's3cret-token' } })).status, 200);
  for (const path of ['/metrics', '/healthz', '/readyz']) assert.equal((await fetch(base + path)).status, 200, path);
});

test('without a token (files source) only loopback reads /debug', async () => {
  assert.equal((await fetch(`${await serve({ loopback: false })}/debug/syncz`, { headers: { 'x-mesh-debug-token': '' } })).status, 401);
  assert.equal((await fetch(`${await serve({})}/debug/syncz`)).status, 200, 'loopback');
});

test('the controller creates the token Secret once; replicas and the CLI read the same token', async () => {
  const c = await startApiServer({ seed: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'mesh-system' } }] });
  try {
    const cluster = connectLive({ kubeconfig: c.kubeconfigPath });
    assert.equal(await readDebugToken(cluster, 'mesh-system'), undefined);
    const [a, b] = await Promise.all([ensureDebugToken(cluster, 'mesh-system'), ensureDebugToken(cluster, 'mesh-system')]);
    assert.equal(a, b, 'racing replicas agree');
    assert.ok(a.length >= 40);
    assert.equal(await readDebugToken(cluster, 'mesh-system'), a);
  } finally {
    await c.stop();
  }
});
