// webhook.dry-run: mesh check asks the API server to dry-run a pod create in an injected namespace,
// which calls the webhook like a real pod would: reachable (with its latency), down, slow.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import { check, failing, roots, useRoots } from './live-support.ts';
import { webhookHandler } from '../../src/controller/webhook.ts';
import { resolveValues } from '../../src/manifests/values.ts';
import type { TestCluster } from '../support/kube.ts';

useRoots();

const result = (r: Awaited<ReturnType<typeof check>>) => r.report.checks.find((c) => c.id === 'webhook.dry-run')!;

test('reachable: the dry-run pod comes back injected, with the latency; nothing is stored', async () => {
  let cluster: TestCluster | undefined;
  const r = await check({ setup: (c) => void (cluster = c) });
  const res = result(r);
  assert.equal(res.status, 'pass', JSON.stringify(res));
  assert.match(res.message, /dry-run pod create in namespace shop: injected in \d+ms \(timeout 10s\)/);
  const pods = (cluster!.server.api.list(cluster!.server.resource('', 'Pod'), 'shop', {}).items as { metadata: { name: string } }[]).map((p) => p.metadata.name);
  assert.deepEqual(pods, ['web-1'], 'the dry run stored no pod');
  assert.equal(r.code, 0, JSON.stringify(failing(r.report)));
});

test('webhook down: the check fails, naming the API server\'s error, with a hint', async () => {
  const r = await check({ setup: (c) => void c.server.webhookServices.set('mesh-system/mesh-controller', 'https://127.0.0.1:1') });
  const res = result(r);
  assert.equal(res.status, 'fail');
  assert.match(res.message, /a dry-run pod create in namespace shop failed after \d+ms: .*failed calling webhook "sidecar-injector\.mesh\.dev"/);
  assert.match(res.hint ?? '', /cannot call the webhook.*firewall or NetworkPolicy/);
  assert.equal(r.code, 1);
});

test('slow webhook: a warning with the latency and the timeout', async () => {
  let slow: Server | undefined;
  try {
    const r = await check({
      live: { webhookSlowMs: 20 },
      setup: async (c) => {
        const handle = webhookHandler({ values: () => Promise.resolve(resolveValues()), nativeSidecar: () => false, namespaceLabels: () => Promise.resolve(undefined) });
        // Answers 60 ms late: above the 20 ms the test sets as slow, far below the 10 s timeout.
        slow = createServer({ cert: roots.WEBHOOK.certPem, key: roots.WEBHOOK.keyPem }, (req, res) => void setTimeout(() => handle(req, res), 60));
        await new Promise<void>((ok) => slow!.listen(0, '127.0.0.1', ok));
        c.server.webhookServices.set('mesh-system/mesh-controller', `https://127.0.0.1:${(slow.address() as { port: number }).port}`);
      },
    });
    const res = result(r);
    assert.equal(res.status, 'warn', JSON.stringify(res));
    assert.match(res.message, /the webhook is slow: dry-run pod create in namespace shop: injected in \d+ms/);
  } finally {
    slow?.close();
    slow?.closeAllConnections();
  }
});
